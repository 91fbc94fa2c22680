"""Pure mobile rules: check-in geometry and statuses, deadlines, the actions allowed now and how a
replayed action resolves, occurred_at bounds, idempotency keys and fingerprints."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend import errors
from backend.domain.mobile import idempotency as idem
from backend.domain.mobile.actions import Resolution, allowed_actions, check_occurred_at, resolve
from backend.domain.mobile.deadlines import acknowledge_ttl_s, deadlines
from backend.domain.mobile.geo import CheckInStatus, Position, check_in, haversine_m, queued_offline
from backend.domain.work_orders import commands as c
from backend.domain.work_orders.model import State
from tests.unit.work_order_builders import (
    AGENT,
    COLLEAGUE,
    ENGINEER,
    SERVICE_MANAGER,
    STRANGER,
    T0,
    create,
    order_in,
    report,
)

SITE = (31.2304, 121.4737)  # People's Square, Shanghai


def test_haversine_matches_known_distances() -> None:
    assert haversine_m(*SITE, *SITE) == 0
    # One degree of latitude is about 111.2 km; Shanghai to Beijing about 1,067 km.
    assert haversine_m(0, 0, 1, 0) == pytest.approx(111_195, rel=1e-3)
    assert haversine_m(*SITE, 39.9042, 116.4074) == pytest.approx(1_067_000, rel=0.01)


@pytest.mark.parametrize(("position", "offline", "site", "status"), [
    (Position(31.2304, 121.4737, 5), False, SITE, CheckInStatus.INSIDE),
    (Position(31.2330, 121.4737, 10), False, SITE, CheckInStatus.INSIDE),  # ~290 m
    (Position(31.2340, 121.4737, 10), False, SITE, CheckInStatus.OUTSIDE),  # ~400 m, accuracy 10 m
    (Position(31.2340, 121.4737, 150), False, SITE, CheckInStatus.INSIDE),  # vague fix: benefit of the doubt
    (Position(31.30, 121.4737, 50_000), False, SITE, CheckInStatus.OUTSIDE),  # accuracy widens at most 2x
    (None, False, SITE, CheckInStatus.NO_FIX),
    (Position(31.2304, 121.4737), True, SITE, CheckInStatus.OFFLINE),
    (None, True, SITE, CheckInStatus.OFFLINE),
    (Position(31.2304, 121.4737), False, None, CheckInStatus.SITE_UNKNOWN),
])
def test_check_in_status(position, offline, site, status) -> None:
    result = check_in(position, site, 300, offline=offline)
    assert result.status is status
    if position is not None and site is not None:
        assert result.distance_m == pytest.approx(haversine_m(position.lat, position.lon, *site), abs=0.1)
    assert (result.warning is not None) == (status is CheckInStatus.OUTSIDE)


def test_offline_by_flag_or_by_delay() -> None:
    assert queued_offline(T0, T0 + timedelta(seconds=121), 120)
    assert not queued_offline(T0, T0 + timedelta(seconds=120), 120)
    assert queued_offline(T0, T0, 120, client_flag=True)


def test_deadlines_follow_dispatch_and_zone() -> None:
    order = order_in(State.DISPATCHED).order
    assert order.dispatched_at is not None and order.reported_at is not None
    city = deadlines(order, "city")
    assert city.acknowledge_by == order.dispatched_at + timedelta(minutes=3)
    assert city.contact_by == order.dispatched_at + timedelta(minutes=30)
    assert city.status_report_by == order.dispatched_at + timedelta(hours=3)
    assert city.respond_by == (order.scheduled_for or order.reported_at) + timedelta(hours=24)
    assert deadlines(order, "suburb").respond_by == city.respond_by + timedelta(hours=24)
    assert deadlines(order, "remote").respond_by == deadlines(order, None).respond_by == \
        city.respond_by + timedelta(hours=48)
    undispatched = create().order
    assert deadlines(undispatched, "city").acknowledge_by is None
    assert acknowledge_ttl_s(order, order.dispatched_at + timedelta(minutes=1)) == 120
    assert acknowledge_ttl_s(order, order.dispatched_at + timedelta(hours=1)) == 60  # floor


def test_deadlines_do_not_apply_to_desk_items() -> None:
    assert deadlines(create("consultation").order, "city").respond_by is None


@pytest.mark.parametrize(("state", "expected"), [
    (State.DISPATCHED, ["acknowledge", "decline"]),
    (State.ACKNOWLEDGED, ["contact", "photo"]),
    (State.CONTACTED, ["contact", "depart", "photo"]),
    (State.EN_ROUTE, ["arrive", "photo"]),
    (State.ON_SITE, ["hold", "complete", "sign", "photo"]),
    (State.ON_HOLD, ["resume", "photo"]),
    (State.COMPLETED, ["photo"]),
    (State.CLOSED, []),
    (State.CANCELLED, []),
])
def test_allowed_actions_follow_the_rules(state: State, expected: list[str]) -> None:
    order = order_in(state).order
    assert allowed_actions(order, ENGINEER) == expected
    assert allowed_actions(order, SERVICE_MANAGER) == []
    assert allowed_actions(order, AGENT) == []
    if state is not State.DISPATCHED:
        assert allowed_actions(order, COLLEAGUE) == []


def test_provider_offer_allows_its_engineers_only() -> None:
    history = create()
    history.run(c.Dispatch(provider_id=ENGINEER.provider_id), AGENT)
    assert allowed_actions(history.order, COLLEAGUE) == ["acknowledge", "decline"]
    assert allowed_actions(history.order, STRANGER) == []


@pytest.mark.parametrize(("state", "action", "command", "expected"), [
    (State.DISPATCHED, "acknowledge", c.Acknowledge(), Resolution.APPLY),
    (State.ACKNOWLEDGED, "acknowledge", c.Acknowledge(), Resolution.ALREADY_APPLIED),
    (State.ON_SITE, "acknowledge", c.Acknowledge(), Resolution.ALREADY_APPLIED),
    (State.EN_ROUTE, "depart", c.Depart(), Resolution.ALREADY_APPLIED),
    (State.ON_SITE, "arrive", c.Arrive(), Resolution.ALREADY_APPLIED),
    (State.COMPLETED, "arrive", c.Arrive(), Resolution.ALREADY_APPLIED),
    (State.ON_HOLD, "hold", c.Hold(reason="other"), Resolution.ALREADY_APPLIED),
    (State.ON_SITE, "resume", c.Resume(), Resolution.ALREADY_APPLIED),
    (State.COMPLETED, "complete", c.Complete(report=report(T0)), Resolution.ALREADY_APPLIED),
    (State.CONTACTED, "arrive", c.Arrive(), Resolution.APPLY),  # not yet possible: the rules refuse it
    (State.COMPLETED, "hold", c.Hold(reason="other"), Resolution.APPLY),  # the rules say work-order-locked
])
def test_resolve_replayed_action(state, action, command, expected) -> None:
    assert resolve(order_in(state).order, action, command, ENGINEER) is expected


def test_repeated_contact_with_the_same_appointment_is_already_applied() -> None:
    history = order_in(State.ACKNOWLEDGED)
    appointment = history.now + timedelta(hours=2)
    history.run(c.ContactCustomer(appointment_at=appointment), ENGINEER)
    order = history.order
    assert resolve(order, "contact", c.ContactCustomer(appointment_at=appointment), ENGINEER) is \
        Resolution.ALREADY_APPLIED
    later = c.ContactCustomer(appointment_at=appointment + timedelta(hours=1))
    assert resolve(order, "contact", later, ENGINEER) is Resolution.APPLY


@pytest.mark.parametrize("state", [State.CLOSED, State.CANCELLED])
def test_resolve_refuses_final_orders(state: State) -> None:
    with pytest.raises(errors.Conflict) as info:
        resolve(order_in(state).order, "arrive", c.Arrive(), ENGINEER)
    assert info.value.code == "work-order-final"


def test_other_engineers_actions_are_left_to_the_rules() -> None:
    assert resolve(order_in(State.ON_SITE).order, "arrive", c.Arrive(), COLLEAGUE) is Resolution.APPLY


def test_occurred_at_bounds() -> None:
    assert check_occurred_at(None, T0, 300) == T0
    assert check_occurred_at(T0 - timedelta(days=2), T0, 300) == T0 - timedelta(days=2)
    assert check_occurred_at(T0 + timedelta(seconds=300), T0, 300) == T0 + timedelta(seconds=300)
    with pytest.raises(errors.ValidationFailed) as info:
        check_occurred_at(T0 + timedelta(seconds=301), T0, 300)
    assert info.value.code == "occurred-at-in-future"


@pytest.mark.parametrize(("raw", "key"), [
    ("8e03978e-40d5-43e8-bc93-6894a57f9324", "8e03978e-40d5-43e8-bc93-6894a57f9324"),
    ('"8e03978e-40d5-43e8-bc93-6894a57f9324"', "8e03978e-40d5-43e8-bc93-6894a57f9324"),  # structured field
    ("  abcdefgh  ", "abcdefgh"),
])
def test_idempotency_key_formats(raw: str, key: str) -> None:
    assert idem.parse_key(raw) == key


@pytest.mark.parametrize(("raw", "code"), [
    (None, "idempotency-key-required"), ("", "idempotency-key-required"), ("short", "idempotency-key-invalid"),
    ("x" * 256, "idempotency-key-invalid"), ("has space inside", "idempotency-key-invalid"),
])
def test_idempotency_key_refused(raw: str | None, code: str) -> None:
    with pytest.raises(errors.BadRequest) as info:
        idem.parse_key(raw)
    assert info.value.code == code


def test_fingerprint_ignores_key_order_and_whitespace_but_not_content() -> None:
    a = idem.fingerprint("post", "/a", {"x": 1, "y": [1, 2]})
    assert a == idem.fingerprint("POST", "/a", {"y": [1, 2], "x": 1})
    assert a != idem.fingerprint("POST", "/a", {"x": 2, "y": [1, 2]})
    assert a != idem.fingerprint("POST", "/b", {"x": 1, "y": [1, 2]})
    assert a != idem.fingerprint("PUT", "/a", {"x": 1, "y": [1, 2]})


def test_stored_record_decides_replay_or_refusal() -> None:
    idem.check_existing("f1", "f1")  # replay
    with pytest.raises(errors.ValidationFailed, match="idempotency-key-reused"):
        idem.check_existing("f1", "f2")
    assert idem.lock_id(1, "k") == idem.lock_id(1, "k") != idem.lock_id(2, "k")
    assert -(2**63) <= idem.lock_id(1, "k") < 2**63
