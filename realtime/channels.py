"""Who may subscribe to which channel (docs/realtime-protocol.md, "Channels"). Pure."""

from __future__ import annotations

from collections.abc import Collection

from backend.domain.actors import Principal, Role
from realtime.protocol import parse_channel

ALL = ("queues", "queue:*", "agents", "agent:*", "alerts", "work_orders")
PATTERNS: dict[Role, tuple[str, ...]] = {
    Role.ADMIN: ALL,
    Role.SUPERVISOR: ALL,
    Role.WALLBOARD: ("queues", "queue:*", "agents", "alerts"),
    Role.AGENT: ("agent:<own user id>", "queue:<member queue>", "work_orders"),
}
CONFLATED = frozenset({"queues", "queue", "agents", "agent", "work_orders"})  # every kind but alerts


def patterns(principal: Principal) -> tuple[str, ...]:
    return PATTERNS.get(principal.role, ())


def may_subscribe(principal: Principal, channel: str, member_queues: Collection[str]) -> bool:
    kind, arg = parse_channel(channel)
    role = principal.role
    if role in (Role.ADMIN, Role.SUPERVISOR):
        return True
    if role is Role.WALLBOARD:
        return kind in ("queues", "queue", "agents", "alerts")
    if role is Role.AGENT:
        return ((kind == "agent" and arg == principal.user_id) or (kind == "queue" and arg in member_queues)
                or kind == "work_orders")
    return False
