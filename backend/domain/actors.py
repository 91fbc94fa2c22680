"""Who acts: roles and the principal model shared by every transport (HTTP, WebSocket, jobs)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"
    ENGINEER = "engineer"
    SERVICE_MANAGER = "service_manager"
    WALLBOARD = "wallboard"
    SYSTEM = "system"


CONSOLE_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.AGENT})
FIELD_ROLES = frozenset({Role.ENGINEER, Role.SERVICE_MANAGER})


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int | None
    role: Role
    username: str = ""
    region_id: int | None = None
    provider_id: int | None = None
    session_id: str | None = None  # the refresh-token family the access token belongs to

    @property
    def is_console(self) -> bool:
        return self.role in CONSOLE_ROLES


SYSTEM = Principal(user_id=None, role=Role.SYSTEM, username="system")
