"""Creating work orders and desk items: kind-specific validation with its codes, and the flags and
schedule set at creation (duplicate, warranty, the 16:00 cut-off and its override, second dispatch)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from backend import errors
from backend import events as ev
from backend.domain.actors import SYSTEM, Principal
from backend.domain.calendar import BusinessCalendar
from backend.domain.work_orders.creation import CHANNELS, CreationFacts, plan_creation
from backend.domain.work_orders.evolve import evolve
from backend.domain.work_orders.model import DESK_KINDS, FIELD_KINDS, Flag, Kind, State
from tests.unit.work_order_builders import (
    ADMIN,
    AGENT,
    CALENDAR,
    ENGINEER,
    SERVICE_MANAGER,
    SUPERVISOR,
    T0,
    WALLBOARD,
    new_spec,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")


def sh(*args: int) -> datetime:
    """A wall-clock time in Shanghai, as the UTC instant the service would pass in."""
    return datetime(*args, tzinfo=SHANGHAI).astimezone(UTC)


def create(kind: Kind | str = Kind.REPAIR, *, actor: Principal = AGENT, now: datetime = T0,
           calendar: BusinessCalendar = CALENDAR, facts: CreationFacts = CreationFacts(),
           register_number: str | None = None, **spec: Any) -> ev.WorkOrderCreated:
    return plan_creation(new_spec(kind, **spec), actor, now, calendar, facts, work_order_id=5, number="WO-0005",
                         register_number=register_number)


def refused(kind: Kind | str = Kind.REPAIR, *, actor: Principal = AGENT, **spec: Any) -> errors.DomainError:
    with pytest.raises(errors.DomainError) as caught:
        create(kind, actor=actor, **spec)
    return caught.value


# --- every kind ----------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(Kind))
def test_every_kind_can_be_created(kind: Kind) -> None:
    event = create(kind, register_number="20240506001" if kind is Kind.COMPLAINT else None)
    order = evolve(None, event, T0)
    assert (order.id, order.number, order.kind, order.version) == (5, "WO-0005", kind, 1)
    assert order.state is (State.CREATED if kind in FIELD_KINDS else State.RECEIVED)
    assert order.reported_at == T0
    assert order.flags == ()
    if kind is Kind.COMPLAINT:
        assert (order.register_number, order.complaint_level) == ("20240506001", "medium")


@pytest.mark.parametrize("actor", [AGENT, SUPERVISOR, ADMIN, SYSTEM], ids=lambda a: a.role)
def test_console_roles_and_the_system_create(actor: Principal) -> None:
    assert create(actor=actor).kind == "repair"


@pytest.mark.parametrize("actor", [ENGINEER, SERVICE_MANAGER, WALLBOARD], ids=lambda a: a.role)
def test_role_not_allowed(actor: Principal) -> None:
    error = refused(actor=actor)
    assert (type(error), error.code) == (errors.Forbidden, "role-not-allowed")


@pytest.mark.parametrize("kind", ["fault", "", "REPAIR"])
def test_kind_invalid(kind: str) -> None:
    with pytest.raises(errors.ValidationFailed) as caught:
        plan_creation(new_spec("repair", kind=kind), AGENT, T0, CALENDAR, CreationFacts(), work_order_id=1,
                      number="WO-1")
    assert caught.value.code == "kind-invalid"
    assert caught.value.details["allowed"] == [k.value for k in Kind]


@pytest.mark.parametrize("channel", sorted(CHANNELS))
def test_every_channel_is_accepted(channel: str) -> None:
    assert create(channel=channel).channel == channel


@pytest.mark.parametrize("channel", ["pigeon", "", "Phone"])
def test_channel_invalid(channel: str) -> None:
    error = refused(channel=channel)
    assert (type(error), error.code) == (errors.ValidationFailed, "channel-invalid")


@pytest.mark.parametrize("kind", list(Kind))
@pytest.mark.parametrize("description", ["", "   \n"])
def test_description_required(kind: Kind, description: str) -> None:
    error = refused(kind, description=description)
    assert (type(error), error.code) == (errors.ValidationFailed, "description-required")


@pytest.mark.parametrize("kind", sorted(FIELD_KINDS))
@pytest.mark.parametrize("missing", ["customer_id", "site_id"])
def test_site_required_for_field_kinds(kind: Kind, missing: str) -> None:
    error = refused(kind, **{missing: None})
    assert (type(error), error.code) == (errors.ValidationFailed, "site-required")


@pytest.mark.parametrize("kind", sorted(DESK_KINDS))
def test_desk_items_need_no_site(kind: Kind) -> None:
    event = create(kind, customer_id=None, site_id=None)
    assert (event.customer_id, event.site_id) == (None, None)


@pytest.mark.parametrize("subtype", ["pre_acceptance", "start_up", "periodic_inspection"])
def test_proactive_subtypes(subtype: str) -> None:
    assert create(Kind.PROACTIVE, subtype=subtype).subtype == subtype


@pytest.mark.parametrize("subtype", [None, "", "overhaul"])
def test_subtype_invalid_for_proactive(subtype: str | None) -> None:
    error = refused(Kind.PROACTIVE, subtype=subtype)
    assert (type(error), error.code) == (errors.ValidationFailed, "subtype-invalid")


@pytest.mark.parametrize("level", ["general", "medium", "strong", "irrational"])
def test_complaint_levels(level: str) -> None:
    assert create(Kind.COMPLAINT, complaint_level=level).complaint_level == level


@pytest.mark.parametrize("level", [None, "", "furious", "MEDIUM"])
def test_complaint_level_invalid(level: str | None) -> None:
    error = refused(Kind.COMPLAINT, complaint_level=level)
    assert (type(error), error.code) == (errors.ValidationFailed, "complaint-level-invalid")


@pytest.mark.parametrize("kind", sorted(set(Kind) - {Kind.COMPLAINT}))
@pytest.mark.parametrize("fields", [{"complaint_level": "strong"}, {"special_incident": True}],
                         ids=["level", "special-incident"])
def test_complaint_fields_misplaced(kind: Kind, fields: dict[str, Any]) -> None:
    error = refused(kind, **fields)
    assert (type(error), error.code) == (errors.ValidationFailed, "complaint-fields-misplaced")


def test_override_not_allowed_for_an_agent() -> None:
    error = refused(schedule_now=True, actor=AGENT)
    assert (type(error), error.code) == (errors.Forbidden, "override-not-allowed")


# --- flags ------------------------------------------------------------------------------------


def test_possible_duplicate() -> None:
    assert create(facts=CreationFacts(has_open_duplicate=True)).flags == [Flag.POSSIBLE_DUPLICATE]
    assert create(facts=CreationFacts(has_open_duplicate=False)).flags == []


@pytest.mark.parametrize(("now", "warranty_end", "out"), [
    # 15:59 UTC is 23:59 in Shanghai: still the warranty's last day.
    (datetime(2024, 5, 6, 15, 59, tzinfo=UTC), date(2024, 5, 6), False),
    # 16:00 UTC is midnight in Shanghai: the next local day, although UTC is still on the 6th.
    (datetime(2024, 5, 6, 16, 0, tzinfo=UTC), date(2024, 5, 6), True),
    (datetime(2024, 5, 6, 16, 0, tzinfo=UTC), date(2024, 5, 7), False),
    (datetime(2024, 5, 6, 2, 0, tzinfo=UTC), date(2024, 5, 5), True),
    (datetime(2024, 5, 6, 2, 0, tzinfo=UTC), date(2025, 1, 1), False),
], ids=["last-local-day", "local-midnight", "ends-today-locally", "expired", "valid"])
def test_out_of_warranty_uses_the_local_date(now: datetime, warranty_end: date, out: bool) -> None:
    flags = create(now=now, facts=CreationFacts(warranty_end=warranty_end), schedule_now=True,
                   actor=SUPERVISOR).flags
    assert (Flag.OUT_OF_WARRANTY in flags) is out


def test_no_warranty_date_no_flag() -> None:
    assert Flag.OUT_OF_WARRANTY not in create(facts=CreationFacts(warranty_end=None)).flags


HOLIDAYS = BusinessCalendar(holidays=frozenset({date(2024, 5, 1), date(2024, 5, 2), date(2024, 5, 3)}))


@pytest.mark.parametrize(("reported", "scheduled", "calendar"), [
    (sh(2024, 5, 6, 10, 0), None, CALENDAR),
    (sh(2024, 5, 6, 8, 30), None, CALENDAR),
    (sh(2024, 5, 6, 15, 59), None, CALENDAR),
    (sh(2024, 5, 6, 15, 59, 59), None, CALENDAR),
    (sh(2024, 5, 6, 16, 0), sh(2024, 5, 7, 8, 30), CALENDAR),
    (sh(2024, 5, 6, 16, 45), sh(2024, 5, 7, 8, 30), CALENDAR),
    (sh(2024, 5, 6, 23, 59), sh(2024, 5, 7, 8, 30), CALENDAR),
    (sh(2024, 5, 6, 8, 29), sh(2024, 5, 6, 8, 30), CALENDAR),
    (sh(2024, 5, 6, 0, 0), sh(2024, 5, 6, 8, 30), CALENDAR),
    # 23:59 UTC on Monday is 07:59 on Tuesday in Shanghai: Tuesday's opening, not Monday's or Wednesday's.
    (datetime(2024, 5, 6, 23, 59, tzinfo=UTC), datetime(2024, 5, 7, 0, 30, tzinfo=UTC), CALENDAR),
    (sh(2024, 5, 10, 16, 30), sh(2024, 5, 13, 8, 30), CALENDAR),
    (sh(2024, 5, 11, 10, 0), sh(2024, 5, 13, 8, 30), CALENDAR),
    (sh(2024, 5, 12, 23, 0), sh(2024, 5, 13, 8, 30), CALENDAR),
    (sh(2024, 5, 1, 10, 0), sh(2024, 5, 6, 8, 30), HOLIDAYS),
    (sh(2024, 4, 30, 16, 30), sh(2024, 5, 6, 8, 30), HOLIDAYS),
    (sh(2024, 4, 30, 15, 0), None, HOLIDAYS),
], ids=["mon-10:00", "mon-08:30", "mon-15:59", "mon-15:59:59", "mon-16:00", "mon-16:45", "mon-23:59",
        "mon-08:29", "mon-00:00", "utc-midnight", "fri-16:30", "saturday", "sunday-night", "holiday",
        "eve-of-holidays", "before-holidays-in-time"])
def test_after_cutoff_schedules_the_next_opening(reported: datetime, scheduled: datetime | None,
                                                 calendar: BusinessCalendar) -> None:
    event = create(now=reported, calendar=calendar)
    assert event.reported_at == reported
    if scheduled is None:
        assert event.flags == []
        assert event.scheduled_for == reported
    else:
        assert event.flags == [Flag.AFTER_CUTOFF]
        assert event.scheduled_for == scheduled
        assert event.scheduled_for is not None and event.scheduled_for.astimezone(SHANGHAI).hour == 8


@pytest.mark.parametrize("actor", [SUPERVISOR, ADMIN], ids=lambda a: a.role)
def test_a_supervisor_override_schedules_at_once(actor: Principal) -> None:
    late = sh(2024, 5, 10, 16, 30)
    event = create(now=late, schedule_now=True, actor=actor)
    assert event.flags == [Flag.AFTER_CUTOFF, Flag.CUTOFF_OVERRIDDEN]
    assert event.scheduled_for == late


def test_an_override_in_business_hours_changes_nothing() -> None:
    event = create(now=T0, schedule_now=True, actor=SUPERVISOR)
    assert event.flags == []
    assert event.scheduled_for == T0


@pytest.mark.parametrize("kind", sorted(DESK_KINDS))
def test_desk_items_get_no_scheduling_or_equipment_flags(kind: Kind) -> None:
    saturday_night = sh(2024, 5, 11, 22, 0)
    event = create(kind, now=saturday_night, facts=CreationFacts(warranty_end=date(2000, 1, 1),
                                                                 has_open_duplicate=True))
    assert event.flags == []
    assert event.scheduled_for is None
    assert evolve(None, event, saturday_night).scheduled_for is None


def test_second_dispatch_flag() -> None:
    event = create(parent_id=42)
    assert (event.parent_id, event.flags) == (42, [Flag.SECOND_DISPATCH])
    assert evolve(None, event, T0).parent_id == 42


def test_special_incident_flag() -> None:
    event = create(Kind.COMPLAINT, complaint_level="strong", special_incident=True)
    assert event.flags == [Flag.SPECIAL_INCIDENT]
    assert evolve(None, event, T0).special_incident is True


def test_all_flags_together_in_their_order() -> None:
    event = create(now=sh(2024, 5, 11, 9, 0), actor=SUPERVISOR, schedule_now=True, parent_id=1,
                   facts=CreationFacts(warranty_end=date(2024, 1, 1), has_open_duplicate=True))
    assert event.flags == [Flag.POSSIBLE_DUPLICATE, Flag.OUT_OF_WARRANTY, Flag.AFTER_CUTOFF,
                           Flag.CUTOFF_OVERRIDDEN, Flag.SECOND_DISPATCH]
    assert all(type(f) is str for f in event.flags)
    assert evolve(None, event, T0).flags == tuple(event.flags)


def test_the_event_carries_the_request() -> None:
    event = create(zone="suburb", contact_name="Zhang", contact_phone="13800000000", channel="sms")
    dumped = event.model_dump(mode="json")
    assert dumped["kind"] == "repair"
    assert (event.customer_id, event.site_id, event.equipment_id, event.region_id) == (100, 200, 300, 1)
    assert (event.zone, event.contact_name, event.contact_phone, event.channel) == (
        "suburb", "Zhang", "13800000000", "sms")
