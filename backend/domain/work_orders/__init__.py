"""The work-order aggregate: field orders and desk items share one record with kind-specific rules.
``decide(order, command, actor, now)`` returns events; ``evolve(order, event, at)`` projects them."""

from backend.domain.work_orders.decide import Facts, decide
from backend.domain.work_orders.evolve import evolve, replay
from backend.domain.work_orders.model import (
    DESK_KINDS,
    FIELD_KINDS,
    FINAL_STATES,
    FOLLOW_UP_KINDS,
    OPEN_STATES,
    ComplaintLevel,
    Flag,
    HoldReason,
    Kind,
    State,
    UrgeSource,
    VoidReason,
    WorkOrder,
)

__all__ = [
    "DESK_KINDS", "FIELD_KINDS", "FINAL_STATES", "FOLLOW_UP_KINDS", "OPEN_STATES", "ComplaintLevel", "Facts", "Flag",
    "HoldReason", "Kind", "State", "UrgeSource", "VoidReason", "WorkOrder", "decide", "evolve", "replay",
]
