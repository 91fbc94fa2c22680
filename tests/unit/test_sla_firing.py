"""The firing verdict, table-driven over every rule: a due deadline whose condition the order shows
fulfilled is met (never a breach); a finished order voids it; otherwise it breaches, with the
rule's escalation. And the alert reducer: snapshot + events rebuild the alert list."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from backend import events as ev
from backend.domain.sla import Escalation, Rule
from backend.domain.sla.alerts import Alert, apply, index, ordered
from backend.domain.sla.firing import Verdict, escalation_for, verdict
from backend.domain.work_orders.model import Kind, State, WorkOrder

T0 = datetime(2024, 5, 6, 2, 0, tzinfo=UTC)
M = timedelta(minutes=1)
BASE = WorkOrder(id=1, number="WO1", kind=Kind.REPAIR, state=State.DISPATCHED, reported_at=T0, dispatched_at=T0)
DESK = WorkOrder(id=2, number="WO2", kind=Kind.CONSULTATION, state=State.RECEIVED, reported_at=T0)

CASES = [
    # (rule, order, verdict)
    (Rule.ACKNOWLEDGE, BASE, Verdict.BREACH),
    (Rule.ACKNOWLEDGE, replace(BASE, state=State.ACKNOWLEDGED, acknowledged_at=T0 + M), Verdict.MET),
    (Rule.ACKNOWLEDGE, replace(BASE, state=State.CREATED), Verdict.MET),  # declined: a reply
    (Rule.ACKNOWLEDGE, replace(BASE, state=State.CANCELLED), Verdict.VOID),
    (Rule.CUSTOMER_CONTACT, replace(BASE, state=State.ACKNOWLEDGED), Verdict.BREACH),
    (Rule.CUSTOMER_CONTACT, replace(BASE, state=State.CONTACTED, contacted_at=T0 + M), Verdict.MET),
    (Rule.CUSTOMER_CONTACT, replace(BASE, contacted_at=T0 - M), Verdict.BREACH),  # an earlier dispatch's contact
    (Rule.STATUS_FEEDBACK, replace(BASE, state=State.ON_SITE), Verdict.MET),
    (Rule.STATUS_FEEDBACK, replace(BASE, state=State.ACKNOWLEDGED), Verdict.BREACH),
    (Rule.FEEDBACK_URGE, replace(BASE, state=State.CREATED), Verdict.BREACH),
    (Rule.FEEDBACK_URGE, replace(BASE, state=State.ON_HOLD), Verdict.MET),
    (Rule.RESPONSE, replace(BASE, state=State.ON_HOLD), Verdict.BREACH),  # waiting for parts is not done
    (Rule.RESPONSE, replace(BASE, state=State.COMPLETED, completed_at=T0), Verdict.MET),
    (Rule.RESPONSE, replace(BASE, state=State.CLOSED, completed_at=T0), Verdict.MET),
    (Rule.RESPONSE, replace(BASE, state=State.CLOSED), Verdict.VOID),
    (Rule.RESCUE_NOTICE, replace(BASE, kind=Kind.RESCUE, state=State.CREATED, dispatched_at=None), Verdict.BREACH),
    (Rule.RESCUE_NOTICE, replace(BASE, kind=Kind.RESCUE), Verdict.MET),
    (Rule.NEW_FAULT_NOTICE, replace(BASE, kind=Kind.NEW_FAULT_MODE), Verdict.MET),
    (Rule.NEW_FAULT_APPOINTMENT, replace(BASE, kind=Kind.NEW_FAULT_MODE), Verdict.BREACH),
    (Rule.COMPLAINT_REPLY, replace(DESK, kind=Kind.COMPLAINT), Verdict.BREACH),
    (Rule.COMPLAINT_REPLY, replace(DESK, kind=Kind.COMPLAINT, state=State.ANSWERED, answer="ok"), Verdict.MET),
    (Rule.CONSULTATION_HANDOFF, DESK, Verdict.BREACH),
    (Rule.CONSULTATION_HANDOFF, replace(DESK, state=State.FORWARDED), Verdict.MET),
    (Rule.CONSULTATION_CALLBACK, replace(DESK, state=State.ANSWERED, answer="x"), Verdict.BREACH),
    (Rule.CONSULTATION_CALLBACK, replace(DESK, state=State.CALLED_BACK), Verdict.MET),
    (Rule.DEPARTMENT_ANSWER, replace(DESK, state=State.FORWARDED), Verdict.BREACH),
    (Rule.DEPARTMENT_ANSWER, replace(DESK, state=State.ANSWERED, answer="x"), Verdict.MET),
    (Rule.ORDER_ENTRY, BASE, Verdict.MET),
]


@pytest.mark.parametrize(("rule", "order", "expected"), CASES)
def test_verdict(rule: Rule, order: WorkOrder, expected: Verdict) -> None:
    assert verdict(rule, order, T0) is expected


def test_every_rule_has_a_verdict_case_and_an_escalation() -> None:
    assert {rule for rule, _, _ in CASES} == set(Rule)
    plans = {rule: escalation_for(rule) for rule in Rule}
    assert plans[Rule.ACKNOWLEDGE].task and plans[Rule.ACKNOWLEDGE].action is Escalation.PHONE_ENGINEER_AND_MANAGER
    assert {str(n) for n in plans[Rule.ACKNOWLEDGE].notify} == {"engineer", "manager"}
    assert plans[Rule.FEEDBACK_URGE].urge and not plans[Rule.FEEDBACK_URGE].task
    assert plans[Rule.RESPONSE].action is Escalation.MARK_OVERDUE
    assert plans[Rule.CONSULTATION_CALLBACK].task
    assert [r for r, p in plans.items() if p.urge] == [Rule.FEEDBACK_URGE]


def _approaching(deadline_id: int, due: datetime) -> ev.DeadlineApproaching:
    return ev.DeadlineApproaching(work_order_id=1, number="WO1", rule="acknowledge", deadline_id=deadline_id,
                                  kind="repair", due_at=due, region_id=3, provider_id=7, engineer_id=21)


def test_alert_reducer() -> None:
    state = index([])
    state = apply(state, _approaching(10, T0 + M))
    state = apply(state, _approaching(11, T0 + 2 * M))
    assert [a.key for a in ordered(state.values())] == [("deadline", 10), ("deadline", 11)]
    state = apply(state, ev.SlaBreached(work_order_id=1, number="WO1", rule="acknowledge", breach_id=5,
                                        deadline_id=10, kind="repair", due_at=T0 + M, detected_at=T0 + M,
                                        escalation="phone_engineer_and_manager", engineer_id=21))
    state = apply(state, ev.DeadlineCleared(work_order_id=1, number="WO1", rule="contact", deadline_id=11,
                                            outcome="met"))
    [breach] = state.values()
    assert breach.alert == "breach" and breach.breach_id == 5 and breach.engineer_id == 21
    assert breach.view(T0 + 3 * M)["seconds_left"] == -120.0
    late = ev.SlaBreached(work_order_id=1, number="WO1", rule="response", breach_id=6, deadline_id=12,
                          kind="repair", due_at=T0, detected_at=T0, escalation="", resolved=True)
    assert apply(state, late) == state  # a breach found only when the order moved on is not an open alert
    state = apply(state, ev.SlaBreachResolved(work_order_id=1, number="WO1", rule="acknowledge", breach_id=5,
                                              resolution="met_late"))
    assert state == {}
    assert apply(state, ev.WorkOrderUrged(work_order_id=1, by="center")) == {}


def test_alert_order_breaches_first() -> None:
    a = Alert("approaching", 1, "WO1", "acknowledge", "repair", 1, T0)
    b = Alert("breach", 2, "WO2", "response", "repair", 2, T0 + M, breach_id=9)
    assert ordered([a, b]) == [b, a]
