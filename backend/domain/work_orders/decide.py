"""The rules: ``decide(order, command, actor, now, facts)`` returns the events a command produces,
or raises a DomainError with a stable code. Pure: no I/O; facts the rules need are passed in."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backend import errors
from backend import events as ev
from backend.domain.actors import CONSOLE_ROLES, Principal, Role
from backend.domain.work_orders import commands as c
from backend.domain.work_orders.model import (
    FAULT_KINDS,
    FINAL_STATES,
    LOCKED_STATES,
    OPEN_STATES,
    REPORT_FIELDS,
    ComplaintLevel,
    HoldReason,
    Kind,
    State,
    UrgeSource,
    VoidReason,
    WorkOrder,
)

S = State

# Where each command may start from. Anything else is an invalid transition.
SOURCES: dict[type, frozenset[State]] = {
    c.Dispatch: frozenset({S.CREATED, S.DISPATCHED, S.ACKNOWLEDGED, S.CONTACTED, S.EN_ROUTE, S.ON_HOLD}),
    c.Acknowledge: frozenset({S.DISPATCHED}),
    c.Decline: frozenset({S.DISPATCHED}),
    c.ContactCustomer: frozenset({S.ACKNOWLEDGED, S.CONTACTED}),
    c.Depart: frozenset({S.CONTACTED}),
    c.Arrive: frozenset({S.EN_ROUTE}),
    c.Hold: frozenset({S.ON_SITE}),
    c.Resume: frozenset({S.ON_HOLD}),
    c.Complete: frozenset({S.ON_SITE}),
    c.Approve: frozenset({S.COMPLETED}),
    c.Void: frozenset({S.COMPLETED}),
    c.RecordFollowUp: frozenset({S.APPROVED}),
    c.Close: frozenset({S.FOLLOWED_UP, S.VOIDED, S.APPROVED, S.ANSWERED, S.CALLED_BACK}),
    c.Cancel: OPEN_STATES,
    c.Urge: OPEN_STATES,
    c.Edit: OPEN_STATES,
    c.Forward: frozenset({S.RECEIVED}),
    c.Answer: frozenset({S.RECEIVED, S.FORWARDED}),
    c.CallBack: frozenset({S.ANSWERED}),
}


@dataclass(frozen=True, slots=True)
class Facts:
    """What the rules need to know beyond the order itself, loaded by the service."""

    equipment_running_hours: float | None = None
    engineer_provider_id: int | None = None  # the acting engineer's provider (provider offers)
    follow_up_required: bool = True


def decide(order: WorkOrder, command: c.Command, actor: Principal, now: datetime,
           facts: Facts = Facts()) -> list[ev.Event]:
    kind = type(command)
    _check_role(kind, actor)
    _check_kind(order, kind)
    if order.state in FINAL_STATES:
        raise errors.Conflict("work-order-final", f"work order {order.number} is {order.state}",
                              state=order.state)
    if order.state not in SOURCES[kind]:
        if order.state in LOCKED_STATES and kind in (c.Edit, *c.ENGINEER_COMMANDS):
            raise errors.Conflict("work-order-locked", "completed work can only be audited",
                                  state=order.state)
        if kind is c.Complete and order.state == S.ON_HOLD:
            raise errors.Conflict("work-order-on-hold", "resume the hold before completing",
                                  hold_reason=order.hold_reason)
        if kind is c.Complete and order.arrived_at is None:
            raise errors.Conflict("arrival-required", "completion needs a recorded arrival",
                                  state=order.state)
        raise errors.Conflict("invalid-transition", f"cannot {_verb(kind)} a work order that is {order.state}",
                              state=order.state, command=_verb(kind))
    if kind in c.ENGINEER_COMMANDS:
        _check_engineer(order, command, actor, facts)
    return _HANDLERS[kind](order, command, actor, now, facts)


def _verb(kind: type) -> str:
    name = kind.__name__
    return "".join(f"_{ch.lower()}" if ch.isupper() and i else ch.lower() for i, ch in enumerate(name))


def _check_role(kind: type, actor: Principal) -> None:
    if kind in c.ENGINEER_COMMANDS and actor.role is not Role.ENGINEER:
        raise errors.Forbidden("role-not-allowed", "only the engineer on the order can do this",
                               role=actor.role)
    if kind in c.CONSOLE_COMMANDS and actor.role not in CONSOLE_ROLES | {Role.SYSTEM}:
        raise errors.Forbidden("role-not-allowed", "this is a console operation", role=actor.role)


def _check_kind(order: WorkOrder, kind: type) -> None:
    if order.is_desk and kind in c.FIELD_COMMANDS:
        raise errors.Conflict("not-a-field-order", f"{order.kind} is a desk item, not a field order")
    if order.is_field and kind in c.DESK_COMMANDS:
        raise errors.Conflict("not-a-desk-item", f"{order.kind} is a field order, not a desk item")


def _check_engineer(order: WorkOrder, command: c.Command, actor: Principal, facts: Facts) -> None:
    if order.engineer_id is not None:
        if order.engineer_id != actor.user_id:
            raise errors.Forbidden("not-assigned-engineer", "only the assigned engineer acts on this order")
        return
    # Offered to a provider: any of its engineers may accept (the first wins) or decline.
    provider = facts.engineer_provider_id or actor.provider_id
    if order.provider_id is None or provider != order.provider_id or not isinstance(
            command, c.Acknowledge | c.Decline):
        raise errors.Forbidden("not-assigned-engineer", "only the assigned engineer acts on this order")


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _validate_report(order: WorkOrder, report: dict[str, Any], facts: Facts) -> dict[str, Any]:
    required = [f for f in REPORT_FIELDS if f != "faulty_part" or order.kind in FAULT_KINDS]
    missing = [f for f in required if _missing(report.get(f))]
    if missing:
        raise errors.ValidationFailed("report-incomplete", f"the report lacks: {', '.join(missing)}",
                                      missing=missing)
    arrival, completion = report["arrival_time"], report["completion_time"]
    if not isinstance(arrival, datetime) or not isinstance(completion, datetime):
        raise errors.ValidationFailed("report-times-invalid", "arrival and completion must be timestamps")
    if completion < arrival:
        raise errors.ValidationFailed("report-times-inconsistent", "completion is before arrival")
    hours = report["running_hours"]
    # bool is an int and NaN compares false with everything: neither is a meter reading.
    if isinstance(hours, bool) or not isinstance(hours, int | float) or not math.isfinite(hours) or hours < 0:
        raise errors.ValidationFailed("running-hours-invalid", "running hours must be a number >= 0")
    if facts.equipment_running_hours is not None and hours < facts.equipment_running_hours:
        raise errors.ValidationFailed(
            "running-hours-decreased", "the equipment's running hours may not decrease",
            recorded=facts.equipment_running_hours, reported=hours)
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in report.items()}


def _reason(value: str, allowed: type, code: str) -> str:
    try:
        return allowed(value).value
    except ValueError:
        raise errors.ValidationFailed(code, f"unknown reason {value!r}",
                                      allowed=[m.value for m in allowed]) from None


Handler = Callable[[WorkOrder, Any, Principal, datetime, Facts], list[ev.Event]]


def _dispatch(o: WorkOrder, cmd: c.Dispatch, actor: Principal, now: datetime, f: Facts) -> list[ev.Event]:
    if (cmd.engineer_id is None) == (cmd.provider_id is None):
        raise errors.ValidationFailed("dispatch-target-required", "dispatch to one engineer or one provider")
    return [ev.WorkOrderDispatched(
        work_order_id=o.id, engineer_id=cmd.engineer_id, provider_id=cmd.provider_id,
        previous_engineer_id=o.engineer_id, redispatch=o.state != S.CREATED)]


def _acknowledge(o: WorkOrder, cmd: c.Acknowledge, actor: Principal, now: datetime, f: Facts) -> list[ev.Event]:
    assert actor.user_id is not None
    return [ev.WorkOrderAcknowledged(work_order_id=o.id, engineer_id=actor.user_id)]


def _decline(o: WorkOrder, cmd: c.Decline, actor: Principal, now: datetime, f: Facts) -> list[ev.Event]:
    if _missing(cmd.reason):
        raise errors.ValidationFailed("reason-required", "say why the order is declined")
    assert actor.user_id is not None
    return [ev.WorkOrderDeclined(work_order_id=o.id, engineer_id=actor.user_id, reason=cmd.reason)]


def _contact(o: WorkOrder, cmd: c.ContactCustomer, actor: Principal, now: datetime, f: Facts) -> list[ev.Event]:
    return [ev.CustomerContacted(work_order_id=o.id, appointment_at=cmd.appointment_at)]


def _hold(o: WorkOrder, cmd: c.Hold, actor: Principal, now: datetime, f: Facts) -> list[ev.Event]:
    reason = _reason(cmd.reason, HoldReason, "hold-reason-invalid")
    return [ev.WorkOrderHeld(work_order_id=o.id, reason=reason, note=cmd.note)]


def _complete(o: WorkOrder, cmd: c.Complete, actor: Principal, now: datetime, f: Facts) -> list[ev.Event]:
    report = _validate_report(o, cmd.report, f)
    completed_at = cmd.report["completion_time"]
    return [ev.WorkOrderCompleted(work_order_id=o.id, completed_at=completed_at, report=report)]


def _void(o: WorkOrder, cmd: c.Void, actor: Principal, now: datetime, f: Facts) -> list[ev.Event]:
    reason = _reason(cmd.reason, VoidReason, "void-reason-invalid")
    return [ev.WorkOrderVoided(work_order_id=o.id, reason=reason, note=cmd.note)]


def _follow_up(o: WorkOrder, cmd: c.RecordFollowUp, actor: Principal, now: datetime,
               f: Facts) -> list[ev.Event]:
    if cmd.reachable and (cmd.satisfaction is None or cmd.resolved is None):
        raise errors.ValidationFailed("follow-up-incomplete", "a reached customer gives satisfaction and resolved")
    if cmd.satisfaction is not None and not 1 <= cmd.satisfaction <= 5:
        raise errors.ValidationFailed("satisfaction-out-of-range", "satisfaction is 1 to 5")
    return [ev.FollowUpRecorded(work_order_id=o.id, reachable=cmd.reachable, satisfaction=cmd.satisfaction,
                                resolved=cmd.resolved, note=cmd.note)]


def _close(o: WorkOrder, cmd: c.Close, actor: Principal, now: datetime, f: Facts) -> list[ev.Event]:
    if o.state == S.APPROVED and f.follow_up_required:
        raise errors.Conflict("follow-up-required", "record the follow-up call before closing")
    return [ev.WorkOrderClosed(work_order_id=o.id)]


def _cancel(o: WorkOrder, cmd: c.Cancel, actor: Principal, now: datetime, f: Facts) -> list[ev.Event]:
    if _missing(cmd.reason):
        raise errors.ValidationFailed("reason-required", "say why the order is cancelled")
    return [ev.WorkOrderCancelled(work_order_id=o.id, reason=cmd.reason)]


def _urge(o: WorkOrder, cmd: c.Urge, actor: Principal, now: datetime, f: Facts) -> list[ev.Event]:
    by = _reason(cmd.by, UrgeSource, "urge-source-invalid")
    return [ev.WorkOrderUrged(work_order_id=o.id, by=by, note=cmd.note)]


def _edit(o: WorkOrder, cmd: c.Edit, actor: Principal, now: datetime, f: Facts) -> list[ev.Event]:
    unknown = sorted(set(cmd.changes) - c.EDITABLE_FIELDS)
    if unknown:
        raise errors.ValidationFailed("field-not-editable", f"cannot edit: {', '.join(unknown)}", fields=unknown)
    changes = {k: v for k, v in cmd.changes.items() if getattr(o, k) != v}
    if not changes:
        return []
    _validate_edit(o, changes)
    return [ev.WorkOrderEdited(work_order_id=o.id, changes={
        k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in changes.items()})]


def _validate_edit(o: WorkOrder, changes: dict[str, Any]) -> None:
    """An edit may not produce what creation refuses, nor a value the projection cannot read back."""
    if "description" in changes and _missing(changes["description"]):
        raise errors.ValidationFailed("description-required", "describe the fault or the request")
    if "appointment_at" in changes and not (
            changes["appointment_at"] is None or isinstance(changes["appointment_at"], datetime)):
        raise errors.ValidationFailed("appointment-invalid", "the appointment must be a timestamp")
    if o.kind is not Kind.COMPLAINT:
        if changes.get("complaint_level") is not None or changes.get("special_incident"):
            raise errors.ValidationFailed("complaint-fields-misplaced", "complaint level is for complaints only")
    elif "complaint_level" in changes and changes["complaint_level"] not in {lv.value for lv in ComplaintLevel}:
        raise errors.ValidationFailed("complaint-level-invalid", "a complaint needs a level",
                                      allowed=[lv.value for lv in ComplaintLevel])


def _forward(o: WorkOrder, cmd: c.Forward, actor: Principal, now: datetime, f: Facts) -> list[ev.Event]:
    if _missing(cmd.department):
        raise errors.ValidationFailed("department-required", "name the department")
    return [ev.DeskItemForwarded(work_order_id=o.id, department=cmd.department, note=cmd.note)]


def _answer(o: WorkOrder, cmd: c.Answer, actor: Principal, now: datetime, f: Facts) -> list[ev.Event]:
    if _missing(cmd.answer):
        raise errors.ValidationFailed("answer-required", "the answer is empty")
    return [ev.DeskItemAnswered(work_order_id=o.id, answer=cmd.answer)]


def _call_back(o: WorkOrder, cmd: c.CallBack, actor: Principal, now: datetime, f: Facts) -> list[ev.Event]:
    if cmd.satisfaction is not None and not 1 <= cmd.satisfaction <= 5:
        raise errors.ValidationFailed("satisfaction-out-of-range", "satisfaction is 1 to 5")
    return [ev.DeskItemCalledBack(work_order_id=o.id, reachable=cmd.reachable, satisfaction=cmd.satisfaction,
                                  note=cmd.note)]


_HANDLERS: dict[type, Handler] = {
    c.Dispatch: _dispatch,
    c.Acknowledge: _acknowledge,
    c.Decline: _decline,
    c.ContactCustomer: _contact,
    c.Depart: lambda o, cmd, a, n, f: [ev.EngineerDeparted(work_order_id=o.id)],
    c.Arrive: lambda o, cmd, a, n, f: [ev.EngineerArrived(work_order_id=o.id, arrived_at=n)],
    c.Hold: _hold,
    c.Resume: lambda o, cmd, a, n, f: [ev.WorkOrderResumed(work_order_id=o.id)],
    c.Complete: _complete,
    c.Approve: lambda o, cmd, a, n, f: [ev.WorkOrderApproved(work_order_id=o.id, note=cmd.note)],
    c.Void: _void,
    c.RecordFollowUp: _follow_up,
    c.Close: _close,
    c.Cancel: _cancel,
    c.Urge: _urge,
    c.Edit: _edit,
    c.Forward: _forward,
    c.Answer: _answer,
    c.CallBack: _call_back,
}
