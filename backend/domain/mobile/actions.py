"""The engineer's actions as the phone names them, which of them are allowed now (derived from the
work-order rules' SOURCES and guards), and how a replayed action resolves: apply it, treat it as
already applied (the order is already past that step by this engineer), or refuse it with a code."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from backend import errors
from backend.domain.actors import Principal, Role
from backend.domain.work_orders import commands as c
from backend.domain.work_orders.decide import SOURCES
from backend.domain.work_orders.model import FINAL_STATES, LOCKED_STATES, State, WorkOrder

S = State

# Phone action name -> lifecycle command. "sign" and "photo" are mobile resources, not commands.
COMMANDS: dict[str, type] = {
    "acknowledge": c.Acknowledge,
    "decline": c.Decline,
    "contact": c.ContactCustomer,
    "depart": c.Depart,
    "arrive": c.Arrive,
    "hold": c.Hold,
    "resume": c.Resume,
    "complete": c.Complete,
}
ACTION_NAMES = (*COMMANDS, "sign", "photo")
POSITIONED = frozenset({"arrive", "complete", "sign"})  # the server computes a check-in for these

# Each step, and the states an order is in once that step is behind it (for this engineer).
_PAST: dict[str, frozenset[State]] = {
    "acknowledge": frozenset({S.ACKNOWLEDGED, S.CONTACTED, S.EN_ROUTE, S.ON_SITE, S.ON_HOLD, *LOCKED_STATES}),
    "contact": frozenset({S.EN_ROUTE, S.ON_SITE, S.ON_HOLD, *LOCKED_STATES}),
    "depart": frozenset({S.EN_ROUTE, S.ON_SITE, S.ON_HOLD, *LOCKED_STATES}),
    "arrive": frozenset({S.ON_SITE, S.ON_HOLD, *LOCKED_STATES}),
    "hold": frozenset({S.ON_HOLD}),
    "resume": frozenset({S.ON_SITE}),
    "complete": LOCKED_STATES,
}
PHOTO_STATES = frozenset({S.ACKNOWLEDGED, S.CONTACTED, S.EN_ROUTE, S.ON_SITE, S.ON_HOLD, S.COMPLETED})


class Resolution(StrEnum):
    APPLY = "applied"
    ALREADY_APPLIED = "already_applied"


def _may_act(order: WorkOrder, name: str, actor: Principal) -> bool:
    if actor.role is not Role.ENGINEER:
        return False
    if order.engineer_id is not None:
        return order.engineer_id == actor.user_id
    # A provider-level offer: any of the provider's engineers may accept or decline it.
    return (name in ("acknowledge", "decline") and order.provider_id is not None
            and order.provider_id == actor.provider_id)


def allowed_actions(order: WorkOrder, actor: Principal) -> list[str]:
    """What this principal may do to the order now, in lifecycle order (managers: nothing)."""
    if not order.is_field:
        return []
    allowed = [name for name, command in COMMANDS.items()
               if order.state in SOURCES[command] and _may_act(order, name, actor)]
    if "complete" in allowed and order.arrived_at is None:
        allowed.remove("complete")
    if order.state == S.ON_SITE and _may_act(order, "sign", actor):
        allowed.append("sign")
    if order.state in PHOTO_STATES and _may_act(order, "photo", actor):
        allowed.append("photo")
    return allowed


def resolve(order: WorkOrder, name: str, command: c.Command, actor: Principal) -> Resolution:
    """How a (possibly late or repeated) action resolves against the order as it is now.
    Raises ``work-order-final`` when the order was closed or cancelled meanwhile."""
    if order.state in FINAL_STATES:
        raise errors.Conflict("work-order-final", f"work order {order.number} is {order.state}",
                              state=order.state, action=name)
    if order.engineer_id is None or order.engineer_id != actor.user_id:
        return Resolution.APPLY  # the rules decide (and refuse what is not allowed)
    if _same_step(order, command):
        return Resolution.ALREADY_APPLIED
    if order.state in SOURCES[type(command)]:
        return Resolution.APPLY
    if order.state in _PAST.get(name, frozenset()):
        return Resolution.ALREADY_APPLIED
    return Resolution.APPLY


def _same_step(order: WorkOrder, command: c.Command) -> bool:
    """A repeat of a step that may legitimately run again (re-contact) but brings nothing new."""
    if isinstance(command, c.ContactCustomer):
        return order.state == S.CONTACTED and order.appointment_at == command.appointment_at
    return False


def check_occurred_at(occurred_at: datetime | None, received_at: datetime, skew_s: float) -> datetime:
    """The phone's time of the action (default: now). Later than now plus the allowed clock skew
    is refused: an action cannot have happened in the future."""
    if occurred_at is None:
        return received_at
    if occurred_at.tzinfo is None:
        raise errors.ValidationFailed("occurred-at-invalid", "occurred_at needs a time zone offset")
    if occurred_at - received_at > timedelta(seconds=skew_s):
        raise errors.ValidationFailed("occurred-at-in-future", "occurred_at is later than the server's clock allows",
                                      skew_s=skew_s, received_at=received_at.isoformat())
    return occurred_at
