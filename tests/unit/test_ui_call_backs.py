"""Pure reads of the call ledger for the pages (backend/domain/call_backs.py): who still needs a call
back, and the intraday calls per 15 minutes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from backend.domain.call_backs import Interval, LedgerCall, intraday, to_call_back

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def call(call_id: str, caller: str, state: str, at: int, answered: int | None = None, left: int | None = None,
         queue: str = "hotline") -> LedgerCall:
    """``at``, ``answered`` and ``left`` in minutes after T0."""
    def m(x: int | None) -> datetime | None:
        return None if x is None else T0 + timedelta(minutes=x)

    return LedgerCall(call_id=call_id, queue=queue, caller=caller, state=state, joined_at=T0 + timedelta(minutes=at),
                      left_at=m(left), answered_at=m(answered), wait_s=None if left is None else (left - at) * 60.0)


def test_an_abandoned_caller_is_listed_once_with_their_attempts():
    calls = [call("a", "139", "abandoned", 0, left=1), call("b", "139", "timed_out", 10, left=12),
             call("c", "138", "handled", 5, answered=6)]
    [entry] = to_call_back(calls)
    assert (entry.caller, entry.call_id, entry.attempts, entry.waited_s) == ("139", "b", 2, 120.0)
    assert entry.abandoned_at == T0 + timedelta(minutes=12)


def test_a_caller_who_got_through_later_is_done_but_not_one_who_got_through_before():
    done = [call("a", "139", "abandoned", 0, left=1), call("b", "139", "handled", 3, answered=4)]
    assert to_call_back(done) == []
    again = [call("a", "139", "handled", 0, answered=1), call("b", "139", "abandoned", 3, left=4)]
    assert [e.call_id for e in to_call_back(again)] == ["b"]


def test_anonymous_and_lost_calls_are_not_listed_and_the_newest_comes_first():
    calls = [call("x", "", "abandoned", 0, left=1), call("l", "137", "lost", 0, left=1),
             call("p", "136", "abandoned", 2, left=3), call("q", "135", "abandoned", 5, left=6)]
    assert [e.caller for e in to_call_back(calls)] == ["135", "136"]


def test_intraday_counts_each_call_in_the_interval_it_joined():
    calls = [call("a", "1", "handled", 0, answered=1), call("b", "2", "abandoned", 14, left=16),
             call("c", "3", "waiting", 15), call("d", "4", "timed_out", 44, left=50),
             call("e", "5", "handled", -1, answered=0), call("f", "6", "handled", 60, answered=61)]
    assert intraday(calls, T0, T0 + timedelta(hours=1)) == [
        Interval(T0, 2, 1, 1),
        Interval(T0 + timedelta(minutes=15), 1, 0, 0),
        Interval(T0 + timedelta(minutes=30), 1, 0, 1),
        Interval(T0 + timedelta(minutes=45), 0, 0, 0),
    ]
    assert len(intraday([], T0, T0 + timedelta(hours=24))) == 96
    assert len(intraday([], T0, T0 + timedelta(minutes=20))) == 2  # a partial last interval still shows
