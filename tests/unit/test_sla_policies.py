"""The policy table: defaults from the sources, per-kind and per-zone overrides (most specific wins,
field by field), validation with stable codes, and the reproducible follow-up sample."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend import errors
from backend.domain.sla import PolicyEntry, PolicyTable, Rule, TimeBasis, validate_entry
from backend.domain.sla.sampling import bucket, sampled

M, H = timedelta(minutes=1), timedelta(hours=1)

DEFAULTS = [
    # (rule, kind, zone, enabled, duration, basis)
    (Rule.ACKNOWLEDGE, "repair", "city", True, 3 * M, TimeBasis.WALL),
    (Rule.ACKNOWLEDGE, "installation", None, True, 3 * M, TimeBasis.WALL),
    (Rule.ACKNOWLEDGE, "consultation", None, False, 3 * M, TimeBasis.WALL),
    (Rule.CUSTOMER_CONTACT, "repair", None, True, 30 * M, TimeBasis.BUSINESS),
    (Rule.STATUS_FEEDBACK, "repair", None, True, 3 * H, TimeBasis.BUSINESS),
    (Rule.FEEDBACK_URGE, "repair", None, True, 4 * H, TimeBasis.BUSINESS),
    (Rule.FEEDBACK_URGE, "installation", None, False, 4 * H, TimeBasis.BUSINESS),
    (Rule.RESPONSE, "repair", "city", True, 24 * H, TimeBasis.WALL),
    (Rule.RESPONSE, "repair", "suburb", True, 48 * H, TimeBasis.WALL),
    (Rule.RESPONSE, "repair", "remote", True, 72 * H, TimeBasis.WALL),
    (Rule.RESPONSE, "repair", None, True, 72 * H, TimeBasis.WALL),
    (Rule.RESPONSE, "proactive", "city", False, 24 * H, TimeBasis.WALL),
    (Rule.COMPLAINT_REPLY, "complaint", None, True, 24 * H, TimeBasis.WALL),
    (Rule.CONSULTATION_HANDOFF, "consultation", None, True, 30 * M, TimeBasis.BUSINESS),
    (Rule.CONSULTATION_CALLBACK, "consultation", None, True, 30 * M, TimeBasis.BUSINESS),
    (Rule.DEPARTMENT_ANSWER, "consultation", None, True, 2 * H, TimeBasis.BUSINESS),
    (Rule.RESCUE_NOTICE, "rescue", "remote", True, 10 * M, TimeBasis.WALL),
    (Rule.RESCUE_NOTICE, "repair", None, False, 10 * M, TimeBasis.WALL),
    (Rule.NEW_FAULT_NOTICE, "new_fault_mode", None, True, 60 * M, TimeBasis.WALL),
    (Rule.NEW_FAULT_APPOINTMENT, "new_fault_mode", None, True, 2 * H, TimeBasis.BUSINESS),
    (Rule.ORDER_ENTRY, "repair", None, True, 10 * M, TimeBasis.WALL),
]


@pytest.mark.parametrize(("rule", "kind", "zone", "enabled", "duration", "basis"), DEFAULTS)
def test_defaults_from_the_sources(rule: Rule, kind: str, zone: str | None, enabled: bool, duration: timedelta,
                                   basis: TimeBasis) -> None:
    policy = PolicyTable().resolve(rule, kind, zone)
    assert (policy.enabled, policy.duration, policy.basis) == (enabled, duration, basis)
    assert timedelta(0) < policy.warning <= min(10 * M, duration * 0.2)


OVERRIDES = [
    PolicyEntry("consultation_callback", seconds=3 * 3600),  # the closed-loop procedure's 3 h
    PolicyEntry("customer_contact", kind="installation", seconds=3600, basis="wall"),
    PolicyEntry("customer_contact", zone="remote", seconds=7200),
    PolicyEntry("customer_contact", kind="repair", zone="remote", warn_seconds=60),
    PolicyEntry("response", kind="installation", enabled=True),
    PolicyEntry("response", kind="repair", zone="city", seconds=12 * 3600),
    PolicyEntry("acknowledge", kind="proactive", enabled=False),
]
RESOLVED = [
    (Rule.CONSULTATION_CALLBACK, "consultation", None, True, 3 * H, TimeBasis.BUSINESS, 10 * M),
    (Rule.CUSTOMER_CONTACT, "installation", "city", True, 1 * H, TimeBasis.WALL, 10 * M),
    (Rule.CUSTOMER_CONTACT, "repair", "city", True, 30 * M, TimeBasis.BUSINESS, 6 * M),
    (Rule.CUSTOMER_CONTACT, "repair", "remote", True, 2 * H, TimeBasis.BUSINESS, 1 * M),  # zone + own warning
    (Rule.CUSTOMER_CONTACT, "installation", "remote", True, 1 * H, TimeBasis.WALL, 10 * M),  # kind beats zone
    (Rule.RESPONSE, "installation", "suburb", True, 48 * H, TimeBasis.WALL, 10 * M),  # enabled for a new kind
    (Rule.RESPONSE, "repair", "city", True, 12 * H, TimeBasis.WALL, 10 * M),
    (Rule.RESPONSE, "rescue", "city", True, 24 * H, TimeBasis.WALL, 10 * M),
    (Rule.ACKNOWLEDGE, "proactive", None, False, 3 * M, TimeBasis.WALL, 36 * timedelta(seconds=1)),
]


@pytest.mark.parametrize(("rule", "kind", "zone", "enabled", "duration", "basis", "warning"), RESOLVED)
def test_most_specific_override_wins_field_by_field(rule: Rule, kind: str, zone: str | None, enabled: bool,
                                                    duration: timedelta, basis: TimeBasis,
                                                    warning: timedelta) -> None:
    policy = PolicyTable(OVERRIDES).resolve(rule, kind, zone)
    assert (policy.enabled, policy.duration, policy.basis, policy.warning) == (enabled, duration, basis, warning)


INVALID = [
    (PolicyEntry("no_such_rule", seconds=60), "sla-rule-unknown"),
    (PolicyEntry("acknowledge", kind="boat"), "sla-kind-unknown"),
    (PolicyEntry("acknowledge", zone="moon"), "sla-zone-unknown"),
    (PolicyEntry("acknowledge", seconds=0), "sla-duration-invalid"),
    (PolicyEntry("acknowledge", seconds=31 * 86400), "sla-duration-invalid"),
    (PolicyEntry("acknowledge", warn_seconds=-1), "sla-warning-invalid"),
    (PolicyEntry("acknowledge", basis="lunar"), "sla-basis-invalid"),
    (PolicyEntry("acknowledge", percent=50), "sla-field-misplaced"),
    (PolicyEntry("follow_up", kind="installation", percent=20), "follow-up-percent-invalid"),
    (PolicyEntry("follow_up", kind="repair", percent=90), "follow-up-percent-fixed"),
    (PolicyEntry("follow_up", percent=50), "follow-up-policy-invalid"),
    (PolicyEntry("follow_up", kind="installation", percent=50, seconds=5), "sla-field-misplaced"),
]


@pytest.mark.parametrize(("entry", "code"), INVALID, ids=[c for _, c in INVALID])
def test_invalid_overrides_are_refused_with_a_stable_code(entry: PolicyEntry, code: str) -> None:
    with pytest.raises(errors.ValidationFailed) as info:
        validate_entry(entry)
    assert info.value.code == code


def test_valid_overrides_pass() -> None:
    for entry in [*OVERRIDES, PolicyEntry("follow_up", kind="installation", percent=100)]:
        assert validate_entry(entry) == entry


def test_follow_up_percent_defaults_and_override() -> None:
    table = PolicyTable([PolicyEntry("follow_up", kind="installation", percent=60)])
    assert [table.follow_up_percent(k) for k in ("repair", "rescue", "installation", "commissioning", "proactive")] \
        == [100, 100, 60, 30, 0]


def test_sampling_is_reproducible_and_close_to_the_rate() -> None:
    ids = range(1, 20_001)
    picked = [i for i in ids if sampled(i, 30)]
    assert picked == [i for i in ids if sampled(i, 30)]  # same orders every time
    assert 0.28 < len(picked) / len(ids) < 0.32
    assert all(sampled(i, 100) for i in ids) and not any(sampled(i, 0) for i in ids)
    assert set(picked) <= {i for i in ids if sampled(i, 60)}  # a higher rate keeps the orders already picked
    assert bucket(42) == bucket(42) and 0 <= bucket(42) < 100
