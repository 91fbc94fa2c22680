"""Wallboard thresholds: which value of a queue metric is green, amber or red. Pure: the rule the
browser mirrors (supervisor_ui/static/js/core/thresholds.js), defaults, and validation."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from backend import errors

ALL_QUEUES = "*"  # a threshold for every queue that has none of its own


class Level(StrEnum):
    GREEN = "green"
    AMBER = "amber"
    RED = "red"


@dataclass(frozen=True, slots=True)
class Metric:
    name: str
    unit: str  # count | seconds | percent
    higher_is_worse: bool
    default_amber: float
    default_red: float


# Defaults from common practice (sip.io: red when the longest wait passes 120 s or SL drops under
# 60 %); a supervisor changes them per queue from the wallboard.
METRICS: dict[str, Metric] = {m.name: m for m in (
    Metric("waiting", "count", True, 3, 6),
    Metric("longest_wait_s", "seconds", True, 60, 120),
    Metric("service_level", "percent", False, 80, 60),
    Metric("abandoned", "count", True, 5, 10),
    Metric("abandon_rate", "percent", True, 5, 10),
    Metric("asa_s", "seconds", True, 20, 40),
    Metric("aht_s", "seconds", True, 420, 600),
)}


@dataclass(frozen=True, slots=True)
class Threshold:
    queue: str
    metric: str
    amber: float
    red: float


def validate(queue: str, metric: str, amber: float, red: float) -> Threshold:
    """A threshold whose amber comes before its red in the metric's bad direction."""
    spec = METRICS.get(metric)
    if spec is None:
        raise errors.ValidationFailed("threshold-metric-unknown", f"no metric {metric!r}",
                                      allowed=sorted(METRICS))
    if not queue or len(queue) > 32:
        raise errors.ValidationFailed("threshold-invalid", "a queue code (or * for all queues) is required")
    for value in (amber, red):
        if value < 0 or (spec.unit == "percent" and value > 100):
            raise errors.ValidationFailed("threshold-invalid", f"{metric} thresholds must be within the "
                                          f"metric's range", amber=amber, red=red)
    if (spec.higher_is_worse and amber > red) or (not spec.higher_is_worse and amber < red):
        order = "at most" if spec.higher_is_worse else "at least"
        raise errors.ValidationFailed("threshold-invalid", f"amber must be {order} red for {metric}",
                                      amber=amber, red=red)
    return Threshold(queue=queue, metric=metric, amber=amber, red=red)


def level(metric: str, value: float | None, threshold: Threshold | None = None) -> Level:
    """Green below amber, amber from amber, red from red (in the metric's bad direction).
    No value (nothing measured yet) is green: an empty queue is not an alarm."""
    spec = METRICS[metric]
    if value is None:
        return Level.GREEN
    amber = threshold.amber if threshold else spec.default_amber
    red = threshold.red if threshold else spec.default_red
    if spec.higher_is_worse:
        return Level.RED if value >= red else Level.AMBER if value >= amber else Level.GREEN
    return Level.RED if value <= red else Level.AMBER if value <= amber else Level.GREEN


def effective(thresholds: list[Threshold], queue: str, metric: str) -> Threshold:
    """The queue's own threshold, else the all-queues one, else the default."""
    own = {(t.queue, t.metric): t for t in thresholds}
    spec = METRICS[metric]
    return (own.get((queue, metric)) or own.get((ALL_QUEUES, metric))
            or Threshold(queue=ALL_QUEUES, metric=metric, amber=spec.default_amber, red=spec.default_red))
