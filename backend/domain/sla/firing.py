"""What firing a due deadline decides, from the order as it is now: is the rule in fact satisfied
(then it is met, never breached), is the order finished (then the deadline is void), or is it a
breach, and what the breach sets off. Pure: the service re-reads the order in the firing transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from backend.domain.sla.rules import SPECS, Escalation, Notify, Rule
from backend.domain.work_orders.model import FINAL_STATES, State, WorkOrder

S = State
_PROGRESSED = frozenset({S.CONTACTED, S.EN_ROUTE, S.ON_SITE, S.ON_HOLD, S.COMPLETED, S.APPROVED, S.VOIDED,
                         S.FOLLOWED_UP})
_ANSWERED = frozenset({S.ANSWERED, S.CALLED_BACK})


class Verdict(StrEnum):
    BREACH = "breach"
    MET = "met"
    VOID = "void"  # the order is closed or cancelled: nothing is owed any more


def _after(value: datetime | None, start: datetime) -> bool:
    return value is not None and value >= start


def satisfied(rule: Rule, order: WorkOrder, starts_at: datetime) -> bool:
    """Whether the order's current state shows the rule's condition was fulfilled since ``starts_at``."""
    match rule:
        case Rule.ORDER_ENTRY:
            return True  # the order exists; lateness is judged when it is created
        case Rule.ACKNOWLEDGE:
            # Declined (back to created) or moved on: the engineer replied.
            return (order.state not in (S.DISPATCHED, *FINAL_STATES)
                    or _after(order.acknowledged_at, starts_at))
        case Rule.CUSTOMER_CONTACT | Rule.NEW_FAULT_APPOINTMENT:
            return _after(order.contacted_at, starts_at)
        case Rule.STATUS_FEEDBACK | Rule.FEEDBACK_URGE:
            return order.state in _PROGRESSED or _after(order.contacted_at, starts_at)
        case Rule.RESPONSE:
            return order.completed_at is not None
        case Rule.COMPLAINT_REPLY | Rule.DEPARTMENT_ANSWER:
            return order.state in _ANSWERED or order.answer is not None
        case Rule.CONSULTATION_HANDOFF:
            return order.state != S.RECEIVED
        case Rule.CONSULTATION_CALLBACK:
            return order.state == S.CALLED_BACK
        case Rule.RESCUE_NOTICE | Rule.NEW_FAULT_NOTICE:
            return order.dispatched_at is not None
    raise ValueError(f"unknown rule {rule}")


def verdict(rule: Rule, order: WorkOrder, starts_at: datetime) -> Verdict:
    if satisfied(rule, order, starts_at):
        return Verdict.MET
    if order.state in FINAL_STATES:
        return Verdict.VOID
    return Verdict.BREACH


@dataclass(frozen=True, slots=True)
class EscalationPlan:
    action: Escalation
    task: bool  # an agent has something to do (phone, call back); otherwise informational
    urge: bool  # apply the Urge command as the system
    notify: frozenset[Notify]
    note: str


def escalation_for(rule: Rule) -> EscalationPlan:
    spec = SPECS[rule]
    action = spec.escalation
    return EscalationPlan(
        action=action,
        task=action in (Escalation.PHONE_ENGINEER_AND_MANAGER, Escalation.CALL_BACK_TASK),
        urge=action is Escalation.URGE,
        notify=spec.notify,
        note=f"SLA {rule}: {spec.description}",
    )
