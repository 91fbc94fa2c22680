"""Read models handed to transports: plain dataclasses built from rows, never the rows themselves."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from backend import errors
from backend.domain.actors import CONSOLE_ROLES, Principal, Role
from backend.domain.work_orders.access import can_see
from backend.persistence.repositories import work_orders as repo
from backend.persistence.tables import WorkOrder as Row
from backend.persistence.tables import WorkOrderEvent
from backend.services.uow import UnitOfWork
from backend.services.work_orders import get_visible


@dataclass(frozen=True)
class WorkOrderView:
    id: int
    number: str
    kind: str
    subtype: str | None
    state: str
    version: int
    channel: str
    customer_id: int | None
    site_id: int | None
    equipment_id: int | None
    region_id: int | None
    zone: str | None
    provider_id: int | None
    engineer_id: int | None
    parent_id: int | None
    description: str
    contact_name: str
    contact_phone: str
    complaint_level: str | None
    special_incident: bool
    register_number: str | None
    department: str | None
    flags: list[str]
    reported_at: datetime
    scheduled_for: datetime | None
    appointment_at: datetime | None
    dispatched_at: datetime | None
    acknowledged_at: datetime | None
    contacted_at: datetime | None
    departed_at: datetime | None
    arrived_at: datetime | None
    completed_at: datetime | None
    closed_at: datetime | None
    hold_reason: str | None
    report: dict[str, Any] | None
    answer: str | None
    audit_result: str | None
    void_reason: str | None
    cancel_reason: str | None
    follow_up: dict[str, Any] | None
    urge_count: int
    last_urged_at: datetime | None
    created_at: datetime
    updated_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_FIELDS = list(WorkOrderView.__dataclass_fields__)


def view_of(row: Row) -> WorkOrderView:
    return WorkOrderView(**{name: getattr(row, name) for name in _FIELDS})


@dataclass(frozen=True)
class HistoryEntry:
    seq: int
    type: str
    actor_id: int | None
    actor_role: str
    occurred_at: datetime
    recorded_at: datetime
    payload: dict[str, Any]


def history_entry(row: WorkOrderEvent) -> HistoryEntry:
    return HistoryEntry(seq=row.seq, type=row.type, actor_id=row.actor_id, actor_role=row.actor_role,
                        occurred_at=row.occurred_at, recorded_at=row.recorded_at, payload=row.payload)


async def work_order_view(uow: UnitOfWork, actor: Principal, work_order_id: int) -> WorkOrderView:
    await get_visible(uow, actor, work_order_id)
    row = await repo.get_row(uow.session, work_order_id)
    assert row is not None
    await uow.session.refresh(row)
    return view_of(row)


async def work_order_history(uow: UnitOfWork, actor: Principal, work_order_id: int) -> list[HistoryEntry]:
    await get_visible(uow, actor, work_order_id)
    return [history_entry(r) for r in await repo.history(uow.session, work_order_id)]


async def list_work_orders(uow: UnitOfWork, actor: Principal, **filters: Any) -> tuple[list[WorkOrderView], int]:
    """Filtered and paged; the scope follows the role (managers: their region; engineers: theirs)."""
    if actor.role is Role.SERVICE_MANAGER:
        filters["region_id"] = actor.region_id if actor.region_id is not None else -1
    elif actor.role is Role.ENGINEER:
        filters.update(engineer_id=actor.user_id, offered_to_provider=actor.provider_id)
    elif actor.role not in CONSOLE_ROLES:
        raise errors.Forbidden("role-not-allowed", "this role cannot list work orders", role=actor.role)
    rows, total = await repo.list_rows(uow.session, **filters)
    return [view_of(r) for r in rows if can_see(repo.to_domain(r), actor)], total
