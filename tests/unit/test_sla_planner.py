"""The planner, table-driven: for each kind and lifecycle step, which deadlines open (measured from
what, due when, in wall-clock or business time), which are met, cancelled or pushed back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend import events as ev
from backend.domain.actors import Principal, Role
from backend.domain.calendar import BusinessCalendar
from backend.domain.sla import PolicyEntry, PolicyTable, Rule
from backend.domain.sla.planner import Cancel, Context, Extend, Open, Satisfy, opens_any, plan
from backend.domain.work_orders import commands as c
from backend.domain.work_orders import evolve
from backend.domain.work_orders.creation import CreationFacts, NewWorkOrder, plan_creation
from backend.domain.work_orders.decide import decide

SH = ZoneInfo("Asia/Shanghai")
CAL = BusinessCalendar()
AGENT = Principal(user_id=2, role=Role.AGENT, username="agent")
ENG = Principal(user_id=21, role=Role.ENGINEER, username="eng", provider_id=7)
M, H = timedelta(minutes=1), timedelta(hours=1)


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH).astimezone(UTC)


MON_10 = local(2024, 5, 6, 10, 0)


def created(kind: str, at: datetime, zone: str | None = "city", **kw: object) -> tuple[object, ev.WorkOrderCreated]:
    site = {} if kind in ("consultation", "complaint", "suggestion") else {"customer_id": 1, "site_id": 1}
    spec = NewWorkOrder(kind=kind, description="x", zone=zone, **site, **kw)  # type: ignore[arg-type]
    event = plan_creation(spec, AGENT, at, CAL, CreationFacts(), work_order_id=1, number="WO1")
    return evolve(None, event, at), event


def step(order: object, command: c.Command, actor: Principal, at: datetime) -> tuple[object, list[ev.Event]]:
    events = decide(order, command, actor, at)  # type: ignore[arg-type]
    for e in events:
        order = evolve(order, e, at)  # type: ignore[arg-type]
    return order, events


def rules_of(changes: list[object], cls: type) -> list[Rule | None]:
    return [ch.rule for ch in changes if isinstance(ch, cls)]  # type: ignore[attr-defined]


CREATION = [
    # (kind, zone, reported at, {rule: due})
    ("repair", "city", MON_10, {Rule.FEEDBACK_URGE: local(2024, 5, 6, 14, 0), Rule.RESPONSE: MON_10 + 24 * H}),
    ("repair", "suburb", MON_10, {Rule.FEEDBACK_URGE: local(2024, 5, 6, 14, 0), Rule.RESPONSE: MON_10 + 48 * H}),
    ("repair", None, MON_10, {Rule.FEEDBACK_URGE: local(2024, 5, 6, 14, 0), Rule.RESPONSE: MON_10 + 72 * H}),
    # Reported at 16:30 (after the cut-off): scheduled for 08:30 the next day, measured from there.
    ("repair", "city", local(2024, 5, 6, 16, 30),
     {Rule.FEEDBACK_URGE: local(2024, 5, 7, 12, 30), Rule.RESPONSE: local(2024, 5, 7, 8, 30) + 24 * H}),
    # Friday 15:00: four business hours end Monday 10:30.
    ("repair", "remote", local(2024, 5, 10, 15, 0),
     {Rule.FEEDBACK_URGE: local(2024, 5, 13, 10, 30), Rule.RESPONSE: local(2024, 5, 10, 15, 0) + 72 * H}),
    ("rescue", "remote", MON_10, {Rule.FEEDBACK_URGE: local(2024, 5, 6, 14, 0), Rule.RESPONSE: MON_10 + 72 * H,
                                  Rule.RESCUE_NOTICE: MON_10 + 10 * M}),
    ("new_fault_mode", "city", MON_10, {Rule.FEEDBACK_URGE: local(2024, 5, 6, 14, 0),
                                        Rule.RESPONSE: MON_10 + 24 * H, Rule.NEW_FAULT_NOTICE: MON_10 + 60 * M}),
    ("installation", "city", MON_10, {}),
    ("proactive", "city", MON_10, {}),
    ("complaint", None, MON_10, {Rule.COMPLAINT_REPLY: MON_10 + 24 * H}),
    ("consultation", None, local(2024, 5, 6, 16, 45),
     {Rule.CONSULTATION_HANDOFF: local(2024, 5, 7, 8, 45), Rule.CONSULTATION_CALLBACK: local(2024, 5, 7, 8, 45)}),
    ("suggestion", None, MON_10, {}),
]


@pytest.mark.parametrize(("kind", "zone", "reported", "expected"), CREATION)
def test_creation_opens_the_kinds_deadlines(kind: str, zone: str | None, reported: datetime,
                                            expected: dict[Rule, datetime]) -> None:
    extra = {"complaint_level": "general"} if kind == "complaint" else {}
    extra |= {"subtype": "start_up"} if kind == "proactive" else {}
    order, event = created(kind, reported, zone, **extra)
    changes = plan(order, [event], reported, PolicyTable(), CAL, Context(zone=zone))  # type: ignore[arg-type]
    opened = {ch.rule: ch.due_at for ch in changes if isinstance(ch, Open)}
    assert opened == expected
    assert all(ch.warn_at < ch.due_at for ch in changes if isinstance(ch, Open))


def test_dispatch_opens_acknowledge_contact_feedback_and_meets_the_notice() -> None:
    order, _ = created("rescue", MON_10, "remote")
    order, events = step(order, c.Dispatch(engineer_id=ENG.user_id), AGENT, MON_10 + 5 * M)
    changes = plan(order, events, MON_10 + 5 * M, PolicyTable(), CAL)  # type: ignore[arg-type]
    opened = {ch.rule: ch for ch in changes if isinstance(ch, Open)}
    assert opened[Rule.ACKNOWLEDGE].due_at == MON_10 + 8 * M  # wall clock
    assert opened[Rule.CUSTOMER_CONTACT].due_at == MON_10 + 35 * M
    assert opened[Rule.STATUS_FEEDBACK].due_at == MON_10 + 5 * M + 3 * H
    assert set(opened) == {Rule.ACKNOWLEDGE, Rule.CUSTOMER_CONTACT, Rule.STATUS_FEEDBACK}
    assert Satisfy(Rule.RESCUE_NOTICE, MON_10 + 5 * M) in changes


def test_dispatch_at_the_end_of_the_day_runs_business_rules_into_the_next_morning() -> None:
    order, _ = created("repair", MON_10)
    at = local(2024, 5, 6, 16, 50)
    order, events = step(order, c.Dispatch(engineer_id=ENG.user_id), AGENT, at)
    opened = {ch.rule: ch.due_at for ch in plan(order, events, at, PolicyTable(), CAL) if isinstance(ch, Open)}  # type: ignore[arg-type]
    assert opened[Rule.ACKNOWLEDGE] == at + 3 * M  # wall: the phone rings at any hour
    assert opened[Rule.CUSTOMER_CONTACT] == local(2024, 5, 7, 8, 50)
    assert opened[Rule.STATUS_FEEDBACK] == local(2024, 5, 7, 11, 20)


SATISFIERS = [
    (c.Acknowledge(), ENG, {Rule.ACKNOWLEDGE}),
    (c.Decline(reason="busy"), ENG, {Rule.ACKNOWLEDGE}),
]


@pytest.mark.parametrize(("command", "actor", "met"), SATISFIERS)
def test_engineer_reply_meets_acknowledge(command: c.Command, actor: Principal, met: set[Rule]) -> None:
    order, _ = created("repair", MON_10)
    order, _ = step(order, c.Dispatch(engineer_id=ENG.user_id), AGENT, MON_10)
    order, events = step(order, command, actor, MON_10 + M)
    changes = plan(order, events, MON_10 + M, None, CAL)  # type: ignore[arg-type]
    assert set(rules_of(changes, Satisfy)) == met
    if isinstance(command, c.Decline):  # the order goes back to dispatch: contact and feedback no longer apply
        assert set(rules_of(changes, Cancel)) == {Rule.CUSTOMER_CONTACT, Rule.STATUS_FEEDBACK,
                                                  Rule.NEW_FAULT_APPOINTMENT}


def test_progress_meets_contact_feedback_urge_and_appointment_pushes_back_response() -> None:
    order, _ = created("new_fault_mode", MON_10)
    order, _ = step(order, c.Dispatch(engineer_id=ENG.user_id), AGENT, MON_10)
    order, _ = step(order, c.Acknowledge(), ENG, MON_10 + M)
    chosen = local(2024, 5, 10, 9, 0)  # the customer wants Friday
    order, events = step(order, c.ContactCustomer(appointment_at=chosen), ENG, MON_10 + 10 * M)
    changes = plan(order, events, MON_10 + 10 * M, None, CAL)  # type: ignore[arg-type]
    assert set(rules_of(changes, Satisfy)) == {Rule.CUSTOMER_CONTACT, Rule.STATUS_FEEDBACK, Rule.FEEDBACK_URGE,
                                               Rule.NEW_FAULT_APPOINTMENT}
    assert Extend(Rule.RESPONSE, local(2024, 5, 11, 0, 0)) in changes


def test_completion_meets_response_and_final_events_cancel_everything() -> None:
    order, _ = created("repair", MON_10)
    order, events = step(order, c.Cancel(reason="customer fixed it"), AGENT, MON_10 + H)
    assert plan(order, events, MON_10 + H, None, CAL) == [Cancel(None, MON_10 + H, "WorkOrderCancelled")]  # type: ignore[arg-type]


def test_desk_items() -> None:
    order, _ = created("consultation", MON_10, None)
    order, events = step(order, c.Forward(department="parts"), AGENT, MON_10 + 20 * M)
    changes = plan(order, events, MON_10 + 20 * M, PolicyTable(), CAL)  # type: ignore[arg-type]
    assert rules_of(changes, Satisfy) == [Rule.CONSULTATION_HANDOFF]
    assert [(ch.rule, ch.due_at) for ch in changes if isinstance(ch, Open)] == [
        (Rule.DEPARTMENT_ANSWER, MON_10 + 20 * M + 2 * H)]
    order, events = step(order, c.Answer(answer="price list sent"), AGENT, MON_10 + H)
    assert set(rules_of(plan(order, events, MON_10 + H, None, CAL), Satisfy)) == {  # type: ignore[arg-type]
        Rule.CONSULTATION_HANDOFF, Rule.DEPARTMENT_ANSWER, Rule.COMPLAINT_REPLY}
    order, events = step(order, c.CallBack(satisfaction=5), AGENT, MON_10 + 2 * H)
    assert rules_of(plan(order, events, MON_10 + 2 * H, None, CAL), Satisfy) == [Rule.CONSULTATION_CALLBACK]  # type: ignore[arg-type]


def test_overrides_change_what_opens() -> None:
    table = PolicyTable([PolicyEntry("response", kind="installation", enabled=True),
                         PolicyEntry("consultation_callback", seconds=3 * 3600)])
    order, event = created("installation", MON_10, "suburb")
    opened = {ch.rule: ch.due_at for ch in plan(order, [event], MON_10, table, CAL, Context("suburb"))  # type: ignore[arg-type]
              if isinstance(ch, Open)}
    assert opened == {Rule.RESPONSE: MON_10 + 48 * H}
    order, event = created("consultation", MON_10, None)
    opened = {ch.rule: ch.due_at for ch in plan(order, [event], MON_10, table, CAL) if isinstance(ch, Open)}  # type: ignore[arg-type]
    assert opened[Rule.CONSULTATION_CALLBACK] == MON_10 + 3 * H


def test_order_entry_is_measured_from_the_call_when_telephony_gives_it() -> None:
    order, event = created("repair", MON_10)
    assert Rule.ORDER_ENTRY not in rules_of(plan(order, [event], MON_10, PolicyTable(), CAL), Open)  # type: ignore[arg-type]
    late = plan(order, [event], MON_10, PolicyTable(), CAL, Context("city", call_received_at=MON_10 - 12 * M))  # type: ignore[arg-type]
    entry = next(ch for ch in late if isinstance(ch, Open) and ch.rule is Rule.ORDER_ENTRY)
    assert entry.due_at == MON_10 - 2 * M
    assert Satisfy(Rule.ORDER_ENTRY, MON_10) in late  # met at creation, after the due time: a breach


def test_only_opening_events_need_the_policy_table() -> None:
    order, event = created("repair", MON_10)
    assert opens_any([event])
    order, events = step(order, c.Urge(), AGENT, MON_10 + H)
    assert not opens_any(events)
    assert plan(order, events, MON_10 + H, None, CAL) == []  # type: ignore[arg-type]
