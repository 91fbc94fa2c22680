"""Wallboard threshold rules (backend/domain/thresholds.py), which the browser mirrors in
supervisor_ui/static/js/core/thresholds.js: levels at and around each boundary, in both directions,
validation, and which threshold applies to a queue."""

from __future__ import annotations

import pytest

from backend import errors
from backend.domain.thresholds import ALL_QUEUES, METRICS, Level, Threshold, effective, level, validate


@pytest.mark.parametrize(("metric", "value", "expected"), [
    ("waiting", None, Level.GREEN),
    ("waiting", 0, Level.GREEN),
    ("waiting", 2, Level.GREEN),
    ("waiting", 3, Level.AMBER),  # the amber value itself is amber
    ("waiting", 5, Level.AMBER),
    ("waiting", 6, Level.RED),
    ("longest_wait_s", 119.9, Level.AMBER),
    ("longest_wait_s", 120, Level.RED),
    ("service_level", None, Level.GREEN),  # nothing offered yet is not an alarm
    ("service_level", 100, Level.GREEN),
    ("service_level", 80.1, Level.GREEN),
    ("service_level", 80, Level.AMBER),
    ("service_level", 60.5, Level.AMBER),
    ("service_level", 60, Level.RED),
    ("service_level", 0, Level.RED),
])
def test_default_levels(metric, value, expected):
    assert level(metric, value) is expected


def test_a_queue_threshold_overrides_the_default():
    own = Threshold(queue="hotline", metric="service_level", amber=90, red=85)
    assert level("service_level", 88, own) is Level.AMBER
    assert level("service_level", 88) is Level.GREEN


def test_effective_threshold_prefers_the_queue_then_all_queues_then_the_default():
    queue = Threshold("hotline", "waiting", 1, 2)
    every = Threshold(ALL_QUEUES, "waiting", 4, 8)
    assert effective([queue, every], "hotline", "waiting") == queue
    assert effective([queue, every], "consultation", "waiting") == every
    default = effective([queue], "consultation", "waiting")
    assert (default.amber, default.red) == (METRICS["waiting"].default_amber, METRICS["waiting"].default_red)


@pytest.mark.parametrize(("metric", "amber", "red"), [
    ("waiting", 5, 4),
    ("service_level", 50, 70),
    ("abandon_rate", 5, 101),
    ("asa_s", -1, 10),
])
def test_validation_refuses_inverted_or_out_of_range(metric, amber, red):
    with pytest.raises(errors.ValidationFailed) as caught:
        validate("hotline", metric, amber, red)
    assert caught.value.code == "threshold-invalid"


def test_validation_refuses_unknown_metrics_and_blank_queues():
    with pytest.raises(errors.ValidationFailed) as caught:
        validate("hotline", "happiness", 1, 2)
    assert caught.value.code == "threshold-metric-unknown"
    with pytest.raises(errors.ValidationFailed):
        validate("", "waiting", 1, 2)


def test_equal_amber_and_red_is_allowed_and_jumps_straight_to_red():
    t = validate("hotline", "waiting", 4, 4)
    assert level("waiting", 3, t) is Level.GREEN
    assert level("waiting", 4, t) is Level.RED
