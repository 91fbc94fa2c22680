"""The statistics reducer: per-window call counts and the KPIs computed from them. Every call
belongs to the windows its *join* time falls in (so offered = answered + abandoned + short
abandoned + timed out + exited + lost + still waiting or being answered, in every window).
Definitions: docs/metrics.md."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from backend.domain.telephony.model import Call, CallState, SlFormula

LABELS = {
    SlFormula.ANSWERED_WITHIN_OVER_OFFERED: "answered ≤ {t} s ÷ (answered + abandoned + timed out)",
    SlFormula.ASTERISK_SL: "answered ≤ {t} s ÷ answered (Asterisk SL)",
    SlFormula.ASTERISK_SL2: "(answered + abandoned) ≤ {t} s ÷ (answered + abandoned) (Asterisk SL2)",
}
TOTAL_LABELS = {
    SlFormula.ANSWERED_WITHIN_OVER_OFFERED: "answered within each queue's threshold ÷ "
                                            "(answered + abandoned + timed out)",
    SlFormula.ASTERISK_SL: "answered within each queue's threshold ÷ answered (Asterisk SL)",
    SlFormula.ASTERISK_SL2: "(answered + abandoned) within each queue's threshold ÷ (answered + abandoned) "
                            "(Asterisk SL2)",
}


def sl_label(formula: SlFormula, threshold_s: int | None = None) -> str:
    return TOTAL_LABELS[formula] if threshold_s is None else LABELS[formula].format(t=threshold_s)


def outcome(call: Call, short_abandon_s: float) -> str | None:
    """How a call left the queue, for counting: None while it waits."""
    if call.answered_at is not None:
        return "answered"
    if call.state is CallState.ABANDONED:
        wait = call.wait_s or 0.0
        return "short_abandoned" if wait < short_abandon_s else "abandoned"
    if call.state in (CallState.TIMED_OUT, CallState.EXITED, CallState.LOST):
        return str(call.state)
    return None


@dataclass
class Counts:
    offered: int = 0
    answered: int = 0
    abandoned: int = 0
    short_abandoned: int = 0
    timed_out: int = 0
    exited: int = 0
    lost: int = 0
    answered_in_sl: int = 0
    abandoned_in_sl: int = 0  # abandoned, short abandoned or timed out within the threshold (SL2)
    wait_answered_s: float = 0.0
    handled: int = 0
    handle_s: float = 0.0
    max_wait_s: float | None = None

    def add(self, call: Call, threshold_s: int, short_abandon_s: float) -> None:
        self.offered += 1
        kind = outcome(call, short_abandon_s)
        if kind is None:
            return
        setattr(self, kind, getattr(self, kind) + 1)
        wait = call.wait_s
        if wait is None or kind == "lost":
            return
        self.max_wait_s = wait if self.max_wait_s is None else max(self.max_wait_s, wait)
        within = wait <= threshold_s  # inclusive, as Asterisk
        if kind == "answered":
            self.wait_answered_s += wait
            self.answered_in_sl += within
            if call.state is CallState.HANDLED and call.talk_s is not None:
                self.handled += 1
                self.handle_s += call.talk_s + (call.wrap_s or 0.0)
        elif kind in ("abandoned", "short_abandoned", "timed_out"):
            self.abandoned_in_sl += within


def _pct(part: float, whole: float) -> float | None:
    return None if whole <= 0 else round(100.0 * part / whole, 1)


def _avg(total: float, n: int) -> float | None:
    return None if n <= 0 else round(total / n, 1)


def sl_pct(counts: Counts, formula: SlFormula) -> float | None:
    if formula is SlFormula.ASTERISK_SL:
        return _pct(counts.answered_in_sl, counts.answered)
    if formula is SlFormula.ASTERISK_SL2:
        return _pct(counts.answered_in_sl + counts.abandoned_in_sl,
                    counts.answered + counts.abandoned + counts.short_abandoned + counts.timed_out)
    return _pct(counts.answered_in_sl, counts.answered + counts.abandoned + counts.timed_out)


def summary(counts: Counts, formula: SlFormula) -> dict[str, Any]:
    """One window as the wire shows it (docs/realtime-protocol.md, "Stats")."""
    served = counts.answered + counts.abandoned + counts.timed_out
    return {
        "offered": counts.offered, "answered": counts.answered, "abandoned": counts.abandoned,
        "short_abandoned": counts.short_abandoned, "timed_out": counts.timed_out, "exited": counts.exited,
        "lost": counts.lost, "answered_in_sl": counts.answered_in_sl, "sl_pct": sl_pct(counts, formula),
        "asa_s": _avg(counts.wait_answered_s, counts.answered), "aht_s": _avg(counts.handle_s, counts.handled),
        "abandon_rate_pct": _pct(counts.abandoned, served),
        "max_wait_s": None if counts.max_wait_s is None else round(counts.max_wait_s, 1),
    }


WINDOWS = (("today", None), ("15m", 15 * 60), ("60m", 60 * 60))


def window_counts(calls: Iterable[Call], *, now: datetime, day_start: datetime,
                  threshold_of: Callable[[str], int], short_abandon_s: float) -> dict[str, Counts]:
    """Counts for today (from ``day_start``) and the last 15 and 60 minutes, in one pass."""
    result = {name: Counts() for name, _ in WINDOWS}
    starts = [(result[name], day_start if span is None else _minus(now, span)) for name, span in WINDOWS]
    for call in calls:
        threshold = threshold_of(call.queue)
        for counts, start in starts:
            if call.joined_at >= start:
                counts.add(call, threshold, short_abandon_s)
    return result


def _minus(now: datetime, seconds: int) -> datetime:
    return now - timedelta(seconds=seconds)
