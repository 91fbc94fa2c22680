"""Pure reads of the call ledger for the pages: which abandoned callers still need a call back (a
caller who got through on a later call is done), and the intraday calls per 15 minutes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

UNANSWERED = frozenset({"abandoned", "timed_out"})


@dataclass(frozen=True, slots=True)
class LedgerCall:
    call_id: str
    queue: str
    caller: str
    state: str
    joined_at: datetime
    left_at: datetime | None
    answered_at: datetime | None
    wait_s: float | None


@dataclass(frozen=True, slots=True)
class CallBack:
    caller: str
    queue: str
    call_id: str
    abandoned_at: datetime
    waited_s: float | None
    attempts: int  # unanswered calls from this number in the period


def to_call_back(calls: list[LedgerCall]) -> list[CallBack]:
    """One entry per caller number whose latest unanswered call came after their latest answered
    one, newest first. Anonymous callers (no number) cannot be called back."""
    by_caller: dict[str, list[LedgerCall]] = {}
    for call in calls:
        if call.caller:
            by_caller.setdefault(call.caller, []).append(call)
    out: list[CallBack] = []
    for caller, mine in by_caller.items():
        missed = [c for c in mine if c.state in UNANSWERED]
        if not missed:
            continue
        last_missed = max(missed, key=lambda c: (c.left_at or c.joined_at, c.call_id))
        missed_at = last_missed.left_at or last_missed.joined_at
        answered = [c.answered_at for c in mine if c.answered_at is not None]
        if answered and max(answered) >= missed_at:
            continue
        out.append(CallBack(caller=caller, queue=last_missed.queue, call_id=last_missed.call_id,
                            abandoned_at=missed_at, waited_s=last_missed.wait_s, attempts=len(missed)))
    return sorted(out, key=lambda cb: (cb.abandoned_at, cb.call_id), reverse=True)


@dataclass(frozen=True, slots=True)
class Interval:
    start: datetime
    offered: int
    answered: int
    abandoned: int


def intraday(calls: list[LedgerCall], start: datetime, end: datetime, minutes: int = 15) -> list[Interval]:
    """Offered / answered / abandoned per interval of ``minutes`` from ``start`` to ``end``, each call
    counted in the interval it joined the queue (abandoned: the caller hung up or the queue gave up)."""
    step = minutes * 60
    n = max(0, int((end - start).total_seconds() // step) + (1 if (end - start).total_seconds() % step else 0))
    counts = [[0, 0, 0] for _ in range(n)]
    for call in calls:
        i = int((call.joined_at - start).total_seconds() // step)
        if 0 <= i < n:
            counts[i][0] += 1
            counts[i][1] += call.answered_at is not None
            counts[i][2] += call.state in UNANSWERED
    return [Interval(start + timedelta(seconds=i * step), *c) for i, c in enumerate(counts)]
