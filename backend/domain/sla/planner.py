"""From work-order events to deadline changes: which deadlines open (and when they fall due), which
are met, cancelled or pushed back. Pure: the service applies the changes in the order's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from backend import events as ev
from backend.domain.calendar import BusinessCalendar
from backend.domain.sla.policy import Policy, PolicyTable
from backend.domain.sla.rules import FINAL_EVENTS, SPECS, Rule, RuleSpec, TimeBasis
from backend.domain.work_orders.model import WorkOrder


@dataclass(frozen=True, slots=True)
class Open:
    rule: Rule
    starts_at: datetime
    due_at: datetime
    warn_at: datetime
    basis: TimeBasis


@dataclass(frozen=True, slots=True)
class Satisfy:
    """The rule's condition happened at ``at``: met if in time, a (late-detected) breach otherwise."""

    rule: Rule
    at: datetime


@dataclass(frozen=True, slots=True)
class Cancel:
    """The deadline no longer applies (``rule`` None: every deadline of the order)."""

    rule: Rule | None
    at: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class Extend:
    """The customer chose a later date: the deadline falls due no earlier than ``not_before``."""

    rule: Rule
    not_before: datetime


Change = Open | Satisfy | Cancel | Extend


@dataclass(frozen=True, slots=True)
class Context:
    zone: str | None = None
    call_received_at: datetime | None = None  # from the telephony integration, when it provides it


def due_at(policy: Policy, start: datetime, calendar: BusinessCalendar) -> datetime:
    if policy.basis is TimeBasis.BUSINESS:
        return calendar.add_business_time(start, policy.duration)
    return start + policy.duration


def opens_any(events: list[ev.Event]) -> bool:
    """Whether the events may open a deadline (only then is the policy table needed)."""
    return any(e.type in spec.opens_on for e in events for spec in SPECS.values())


def _start(spec: RuleSpec, order: WorkOrder, at: datetime, ctx: Context) -> datetime | None:
    match spec.measured_from:
        case "event":
            return at
        case "reported":
            return order.reported_at
        case "scheduled":
            return order.scheduled_for or order.reported_at
        case "call":
            # Without the call's time the order is taken as created when the call came in: met.
            return ctx.call_received_at
    raise ValueError(f"unknown start {spec.measured_from!r}")


def end_of_local_day(instant: datetime, calendar: BusinessCalendar) -> datetime:
    day = calendar.local(instant).date() + timedelta(days=1)
    return datetime.combine(day, datetime.min.time(), tzinfo=calendar.tz)


def _appointment(event: ev.Event) -> datetime | None:
    if isinstance(event, ev.CustomerContacted):
        return event.appointment_at
    if isinstance(event, ev.WorkOrderEdited) and event.changes.get("appointment_at"):
        value = event.changes["appointment_at"]
        return datetime.fromisoformat(value) if isinstance(value, str) else value
    return None


def plan(order: WorkOrder, events: list[ev.Event], at: datetime, policies: PolicyTable | None,
         calendar: BusinessCalendar, ctx: Context = Context()) -> list[Change]:
    """The deadline changes ``events`` (already applied to ``order``, at ``at``) cause, in order.
    ``policies`` may be None when ``opens_any(events)`` is false."""
    changes: list[Change] = []
    for event in events:
        if event.type in FINAL_EVENTS:
            changes.append(Cancel(None, at, event.type))
            continue
        for spec in SPECS.values():
            if event.type in spec.opens_on:
                assert policies is not None, "opening a deadline needs the policy table"
                opened = _open(spec, order, at, policies, calendar, ctx)
                if opened is not None:
                    changes.append(opened)
            if event.type in spec.met_by:
                satisfied_at = order.reported_at if spec.measured_from == "call" else at
                assert satisfied_at is not None
                changes.append(Satisfy(spec.rule, satisfied_at))
            if event.type in spec.cancelled_by:
                changes.append(Cancel(spec.rule, at, event.type))
        chosen = _appointment(event)
        if chosen is not None:
            changes.append(Extend(Rule.RESPONSE, end_of_local_day(chosen, calendar)))
    return changes


def _open(spec: RuleSpec, order: WorkOrder, at: datetime, policies: PolicyTable, calendar: BusinessCalendar,
          ctx: Context) -> Open | None:
    policy = policies.resolve(spec.rule, order.kind, ctx.zone)
    start = _start(spec, order, at, ctx)
    if not policy.enabled or start is None:
        return None
    due = due_at(policy, start, calendar)
    return Open(spec.rule, start, due, due - policy.warning, policy.basis)
