"""The statistics reducer, table-driven: outcomes, thresholds (inclusive SL, exclusive short
abandon), the three formula presets, windows by join time, calls spanning midnight."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from backend.domain.telephony.model import Call, CallState, SlFormula
from backend.domain.telephony.stats import Counts, outcome, sl_pct, summary, window_counts

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
SHORT = 5.0


def call(state: CallState, wait: float | None = None, *, answered: bool = False, talk: float | None = None,
         wrap: float | None = None, joined: datetime = T0, queue: str = "hotline", cid: str = "c") -> Call:
    base = Call(call_id=cid, queue=queue, caller="1390", joined_at=joined, state=state)
    if wait is None:
        return base
    left = joined + timedelta(seconds=wait)
    if not answered:
        return replace(base, left_at=left)
    ended = left + timedelta(seconds=talk) if talk is not None else None
    handled = ended + timedelta(seconds=wrap) if ended is not None and wrap is not None else None
    return replace(base, agent_id=1, answered_at=left, left_at=left, ended_at=ended, handled_at=handled)


@pytest.mark.parametrize(("the_call", "expected"), [
    (call(CallState.WAITING), None),
    (call(CallState.TALKING, 3, answered=True), "answered"),
    (call(CallState.HANDLED, 30, answered=True, talk=60, wrap=10), "answered"),
    (call(CallState.ABANDONED, SHORT - 0.001), "short_abandoned"),
    (call(CallState.ABANDONED, SHORT), "abandoned"),  # exactly at the threshold: a real abandon
    (call(CallState.ABANDONED, 40), "abandoned"),
    (call(CallState.TIMED_OUT, 300), "timed_out"),
    (call(CallState.TIMED_OUT, 1), "timed_out"),  # a timeout is never a short abandon
    (call(CallState.EXITED, 12), "exited"),
    (call(CallState.LOST, 12), "lost"),
])
def test_outcome(the_call: Call, expected: str | None) -> None:
    assert outcome(the_call, SHORT) == expected


def count(*calls: Call, threshold: int = 20) -> Counts:
    counts = Counts()
    for c in calls:
        counts.add(c, threshold, SHORT)
    return counts


@pytest.mark.parametrize(("calls", "formula", "expected"), [
    # answered within T ÷ (answered + abandoned + timed out); short abandons, exits and losses excluded
    ([call(CallState.TALKING, 20, answered=True), call(CallState.TALKING, 20.001, answered=True)],
     SlFormula.ANSWERED_WITHIN_OVER_OFFERED, 50.0),  # exactly T is within (inclusive, as Asterisk)
    ([call(CallState.TALKING, 5, answered=True), call(CallState.ABANDONED, 30), call(CallState.ABANDONED, 1),
      call(CallState.TIMED_OUT, 60), call(CallState.EXITED, 3), call(CallState.LOST, 9)],
     SlFormula.ANSWERED_WITHIN_OVER_OFFERED, 33.3),
    ([call(CallState.TALKING, 5, answered=True), call(CallState.ABANDONED, 30), call(CallState.TIMED_OUT, 60)],
     SlFormula.ASTERISK_SL, 100.0),
    ([call(CallState.TALKING, 25, answered=True), call(CallState.ABANDONED, 3), call(CallState.ABANDONED, 30)],
     SlFormula.ASTERISK_SL2, 33.3),  # the early (short) abandon counts as good service
    ([call(CallState.WAITING)], SlFormula.ANSWERED_WITHIN_OVER_OFFERED, None),  # nothing to divide: no number
    ([call(CallState.ABANDONED, 1)], SlFormula.ASTERISK_SL, None),
])
def test_service_level(calls: list[Call], formula: SlFormula, expected: float | None) -> None:
    assert sl_pct(count(*calls), formula) == expected


def test_the_reference_transcript_figures() -> None:
    """realtime_callcenter.md §3.4: 40 answered, 35 within 20 s; 5 abandoned, 3 within: SL 87.5, SL2 84.4."""
    answered = [call(CallState.TALKING, 10 if i < 35 else 40, answered=True, cid=f"a{i}") for i in range(40)]
    abandoned = [call(CallState.ABANDONED, 15 if i < 3 else 45, cid=f"b{i}") for i in range(5)]
    counts = count(*answered, *abandoned)
    assert sl_pct(counts, SlFormula.ASTERISK_SL) == 87.5
    assert sl_pct(counts, SlFormula.ASTERISK_SL2) == 84.4


def test_summary_kpis() -> None:
    counts = count(
        call(CallState.HANDLED, 10, answered=True, talk=100, wrap=20, cid="1"),
        call(CallState.HANDLED, 30, answered=True, talk=200, wrap=0, cid="2"),
        call(CallState.WRAP_UP, 2, answered=True, talk=50, cid="3"),  # not handled yet: not in AHT
        call(CallState.ABANDONED, 60, cid="4"),
        call(CallState.ABANDONED, 2, cid="5"),
        call(CallState.TIMED_OUT, 120, cid="6"),
        call(CallState.WAITING, cid="7"),
    )
    s = summary(counts, SlFormula.ANSWERED_WITHIN_OVER_OFFERED)
    assert s == {
        "offered": 7, "answered": 3, "abandoned": 1, "short_abandoned": 1, "timed_out": 1, "exited": 0, "lost": 0,
        "answered_in_sl": 2, "sl_pct": 40.0, "asa_s": 14.0, "aht_s": 160.0, "abandon_rate_pct": 20.0,
        "max_wait_s": 120.0,
    }
    assert counts.offered == (counts.answered + counts.abandoned + counts.short_abandoned + counts.timed_out
                              + counts.exited + counts.lost + 1)  # + the one still waiting


def test_windows_count_by_join_time_and_span_midnight() -> None:
    # Shanghai midnight is 16:00 UTC. A call joins at 23:59:50 local and is answered at 00:00:10.
    day_start = datetime(2026, 3, 2, 16, 0, tzinfo=UTC)
    joined = day_start - timedelta(seconds=10)
    spanning = call(CallState.TALKING, 20, answered=True, joined=joined, cid="span")
    today = call(CallState.ABANDONED, 30, joined=day_start + timedelta(minutes=1), cid="new")
    now = day_start + timedelta(minutes=5)
    result = window_counts([spanning, today], now=now, day_start=day_start, threshold_of=lambda q: 20,
                           short_abandon_s=SHORT)
    assert (result["today"].offered, result["today"].answered, result["today"].abandoned) == (1, 0, 1)
    assert (result["15m"].offered, result["15m"].answered) == (2, 1)  # rolling windows reach back over midnight
    assert result["60m"].offered == 2
    later = window_counts([spanning, today], now=now + timedelta(minutes=14), day_start=day_start,
                          threshold_of=lambda q: 20, short_abandon_s=SHORT)
    assert later["15m"].offered == 0 and later["60m"].offered == 2


def test_each_call_uses_its_own_queue_threshold() -> None:
    calls = [call(CallState.TALKING, 25, answered=True, queue="hotline", cid="1"),
             call(CallState.TALKING, 25, answered=True, queue="consultation", cid="2")]
    result = window_counts(calls, now=T0 + timedelta(minutes=1), day_start=T0 - timedelta(hours=1),
                           threshold_of={"hotline": 20, "consultation": 30}.__getitem__, short_abandon_s=SHORT)
    assert result["today"].answered_in_sl == 1


@pytest.mark.parametrize(("the_call", "formula", "expected"), [
    # abandoned after exactly T = 20 s: within T, so good service under SL2 ...
    (call(CallState.ABANDONED, 20), SlFormula.ASTERISK_SL2, 100.0),
    (call(CallState.ABANDONED, 20.001), SlFormula.ASTERISK_SL2, 0.0),
    # ... but a failure under the default formula (in the denominator, never the numerator)
    (call(CallState.ABANDONED, 20), SlFormula.ANSWERED_WITHIN_OVER_OFFERED, 0.0),
    # a queue timeout within T also counts as "abandoned within T" for SL2
    (call(CallState.TIMED_OUT, 20), SlFormula.ASTERISK_SL2, 100.0),
    # an exit (exit key) is in no SL figure at all
    (call(CallState.EXITED, 3), SlFormula.ASTERISK_SL2, None),
])
def test_abandon_exactly_at_the_sl_threshold(the_call: Call, formula: SlFormula, expected: float | None) -> None:
    assert sl_pct(count(the_call), formula) == expected


def test_pbx_restart_mid_call_in_the_figures() -> None:
    """The reconciliation (``calls.lose``) closes a waiting caller as lost and a conversation as
    handled with the talk ending at the snapshot: the first is only offered, the second stays
    answered and enters AHT with no wrap-up."""
    from backend.domain.telephony.calls import answer, join, lose

    restart = T0 + timedelta(seconds=100)
    waiting = lose(join("w", "hotline", "1390", T0 + timedelta(seconds=90)), restart)
    talking = lose(answer(join("t", "hotline", "1390", T0), 7, T0 + timedelta(seconds=10)), restart)
    s = summary(count(waiting, talking), SlFormula.ANSWERED_WITHIN_OVER_OFFERED)
    assert (s["offered"], s["answered"], s["lost"], s["abandoned"]) == (2, 1, 1, 0)
    assert (s["sl_pct"], s["asa_s"], s["aht_s"], s["abandon_rate_pct"]) == (100.0, 10.0, 90.0, 0.0)
    assert s["max_wait_s"] == 10.0  # the lost caller's wait is not a wait that ended
