"""Who may see a work order. Seeing is not acting: actions have their own guards in ``decide``.
Engineers see their own orders and the offers made to their provider; managers their region."""

from __future__ import annotations

from backend.domain.actors import CONSOLE_ROLES, Principal, Role
from backend.domain.work_orders.model import State, WorkOrder


def can_see(order: WorkOrder, who: Principal) -> bool:
    if who.role in CONSOLE_ROLES or who.role is Role.SYSTEM:
        return True
    if who.role is Role.SERVICE_MANAGER:
        return who.region_id is not None and order.region_id == who.region_id
    if who.role is Role.ENGINEER:
        if order.engineer_id is not None:
            return order.engineer_id == who.user_id
        return (order.state == State.DISPATCHED and order.provider_id is not None
                and order.provider_id == who.provider_id)
    return False
