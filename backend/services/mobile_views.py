"""What the phone reads: an engineer's (or a manager's region's) work orders, and one order with
its customer, site (with coordinates), equipment, history, deadlines as timestamps and the actions
allowed now. Plain dataclasses; the transport shapes the JSON."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from backend.domain.actors import Principal, Role
from backend.domain.mobile.actions import allowed_actions
from backend.domain.mobile.deadlines import Deadlines, deadlines
from backend.domain.work_orders import FIELD_KINDS, WorkOrder
from backend.domain.work_orders.model import State
from backend.persistence.repositories import mobile as mobile_repo
from backend.persistence.repositories import work_orders as repo
from backend.persistence.tables import WorkOrder as Row
from backend.services import views
from backend.services.uow import UnitOfWork
from backend.services.work_orders import get_visible

S = State
ACTIVE_STATES = (S.DISPATCHED, S.ACKNOWLEDGED, S.CONTACTED, S.EN_ROUTE, S.ON_SITE, S.ON_HOLD)
HISTORY_STATES = (S.COMPLETED, S.APPROVED, S.VOIDED, S.FOLLOWED_UP, S.CLOSED, S.CANCELLED)


@dataclass(frozen=True)
class OrderSummary:
    id: int
    number: str
    kind: str
    state: str
    version: int
    description: str
    contact_name: str
    contact_phone: str
    zone: str | None
    region_id: int | None
    provider_id: int | None
    engineer_id: int | None
    reported_at: datetime | None
    appointment_at: datetime | None
    dispatched_at: datetime | None
    acknowledged_at: datetime | None
    contacted_at: datetime | None
    departed_at: datetime | None
    arrived_at: datetime | None
    completed_at: datetime | None
    closed_at: datetime | None
    hold_reason: str | None
    cancel_reason: str | None
    report: dict[str, Any] | None
    urge_count: int
    deadlines: Deadlines
    allowed_actions: list[str]


@dataclass(frozen=True)
class CustomerInfo:
    id: int
    name: str
    contact_name: str
    phone: str


@dataclass(frozen=True)
class SiteInfo:
    id: int
    name: str
    address: str
    zone: str
    latitude: float | None
    longitude: float | None
    phone: str


@dataclass(frozen=True)
class EquipmentInfo:
    id: int
    serial_number: str
    model: str
    warranty_end: date | None
    running_hours: float


@dataclass(frozen=True)
class OrderDetail:
    work_order: OrderSummary
    customer: CustomerInfo | None
    site: SiteInfo | None
    equipment: EquipmentInfo | None
    history: list[views.HistoryEntry]


def summary(order: WorkOrder, zone: str | None, actor: Principal) -> OrderSummary:
    return OrderSummary(
        id=order.id, number=order.number, kind=str(order.kind), state=str(order.state), version=order.version,
        description=order.description, contact_name=order.contact_name, contact_phone=order.contact_phone,
        zone=zone, region_id=order.region_id, provider_id=order.provider_id, engineer_id=order.engineer_id,
        reported_at=order.reported_at, appointment_at=order.appointment_at, dispatched_at=order.dispatched_at,
        acknowledged_at=order.acknowledged_at, contacted_at=order.contacted_at, departed_at=order.departed_at,
        arrived_at=order.arrived_at, completed_at=order.completed_at, closed_at=order.closed_at,
        hold_reason=order.hold_reason, cancel_reason=order.cancel_reason, report=order.report,
        urge_count=order.urge_count, deadlines=deadlines(order, zone), allowed_actions=allowed_actions(order, actor))


async def summary_of(uow: UnitOfWork, order: WorkOrder, actor: Principal) -> OrderSummary:
    place = await repo.place(uow.db, order.id)  # as read with the order in this unit of work
    return summary(order, place.zone if place is not None else None, actor)


async def list_mine(uow: UnitOfWork, actor: Principal, *, scope: str = "active", states: list[str] | None = None,
                    kinds: list[str] | None = None, limit: int = 50, offset: int = 0,
                    ) -> tuple[list[OrderSummary], int]:
    """Active (dispatched to done on site) or history (completed and after); the role sets the
    scope: engineers their own orders and their provider's open offers, managers their region."""
    wanted = [str(s) for s in (ACTIVE_STATES if scope == "active" else HISTORY_STATES)]
    if states:
        wanted = [s for s in wanted if s in states]
    field = [str(k) for k in FIELD_KINDS]
    kinds = [k for k in field if k in kinds] if kinds else field
    if not wanted or not kinds:
        return [], 0
    rows, total = await repo.list_rows(uow.session, states=wanted, kinds=kinds, limit=limit, offset=offset,
                                       **_scope(actor))
    return [summary(repo.to_domain(r), r.zone, actor) for r in rows], total


def _scope(actor: Principal) -> dict[str, Any]:
    if actor.user_id is not None and actor.role is Role.ENGINEER:
        return {"engineer_id": actor.user_id, "offered_to_provider": actor.provider_id}
    return {"region_id": actor.region_id if actor.region_id is not None else -1}


def list_etag(items: list[OrderSummary], total: int, scope: str, limit: int, offset: int) -> str:
    """A validator for a cheap re-poll: changes whenever an item, its version or the total does."""
    text = f"{scope}|{limit}|{offset}|{total}|" + ",".join(f"{i.id}.{i.version}" for i in items)
    return '"l-' + hashlib.sha256(text.encode()).hexdigest()[:20] + '"'


async def detail(uow: UnitOfWork, actor: Principal, work_order_id: int) -> OrderDetail:
    order = await get_visible(uow, actor, work_order_id)
    row = await uow.session.get(Row, order.id)
    assert row is not None
    customer, site, equipment = await mobile_repo.context(uow.session, row)
    history = [views.history_entry(r) for r in await repo.history(uow.session, order.id)]
    return OrderDetail(
        work_order=summary(order, row.zone, actor),
        customer=CustomerInfo(customer.id or 0, customer.name, customer.contact_name, customer.phone)
        if customer else None,
        site=SiteInfo(site.id or 0, site.name, site.address, site.zone, site.latitude, site.longitude, site.phone)
        if site else None,
        equipment=EquipmentInfo(equipment.id or 0, equipment.serial_number, equipment.model,
                                equipment.warranty_end, equipment.running_hours) if equipment else None,
        history=history,
    )


@dataclass(frozen=True)
class CheckInRecord:
    id: int
    action: str
    outcome: str
    occurred_at: datetime
    received_at: datetime
    queued_offline: bool
    latitude: float | None
    longitude: float | None
    accuracy_m: float | None
    distance_m: float | None
    checkin_status: str | None
    version_after: int


async def check_ins(uow: UnitOfWork, actor: Principal, work_order_id: int) -> list[CheckInRecord]:
    """The order's mobile action log: device and server times, positions and check-in statuses."""
    await get_visible(uow, actor, work_order_id)
    return [CheckInRecord(
        id=r.id or 0, action=r.action, outcome=r.outcome, occurred_at=r.occurred_at, received_at=r.received_at,
        queued_offline=r.queued_offline, latitude=r.latitude, longitude=r.longitude, accuracy_m=r.accuracy_m,
        distance_m=r.distance_m, checkin_status=r.checkin_status, version_after=r.version_after)
        for r in await mobile_repo.actions(uow.session, work_order_id)]
