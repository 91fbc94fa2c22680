"""Queries over the reference data: customers by phone, their sites and equipment, engineers and
their current load."""

from __future__ import annotations

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from backend.domain.work_orders.model import ASSIGNED_STATES, State
from backend.persistence.tables import Customer, Equipment, Site, User, WorkOrder


async def customers_by_phone(session: AsyncSession, phone: str) -> list[Customer]:
    site_owner = select(Site.customer_id).where(Site.phone == phone)
    stmt = select(Customer).where(or_(Customer.phone == phone, Customer.id.in_(site_owner)))  # type: ignore[union-attr]
    return list((await session.exec(stmt)).all())


async def sites_of(session: AsyncSession, customer_id: int) -> list[Site]:
    return list((await session.exec(select(Site).where(Site.customer_id == customer_id).order_by(Site.id))).all())


async def equipment_of(session: AsyncSession, customer_id: int) -> list[Equipment]:
    stmt = select(Equipment).where(Equipment.customer_id == customer_id).order_by(Equipment.id)
    return list((await session.exec(stmt)).all())


async def open_orders_of(session: AsyncSession, customer_id: int, open_states: list[str]) -> list[WorkOrder]:
    stmt = (select(WorkOrder).where(WorkOrder.customer_id == customer_id, WorkOrder.state.in_(open_states))  # type: ignore[attr-defined]
            .order_by(WorkOrder.id.desc()))  # type: ignore[union-attr]
    return list((await session.exec(stmt)).all())


async def last_served_by(session: AsyncSession, customer_id: int) -> User | None:
    stmt = (select(User).join(WorkOrder, WorkOrder.last_agent_id == User.id)  # type: ignore[arg-type]
            .where(WorkOrder.customer_id == customer_id).order_by(WorkOrder.updated_at.desc()).limit(1))  # type: ignore[attr-defined]
    return (await session.exec(stmt)).first()


async def engineers_with_load(session: AsyncSession) -> list[tuple[User, int]]:
    busy = [str(s) for s in (*ASSIGNED_STATES, State.DISPATCHED)]
    load = (sa_select(WorkOrder.engineer_id, func.count().label("n"))
            .where(WorkOrder.state.in_(busy)).group_by(WorkOrder.engineer_id).subquery())  # type: ignore[attr-defined]
    stmt = (sa_select(User, func.coalesce(load.c.n, 0))
            .outerjoin(load, load.c.engineer_id == User.id)
            .where(User.role == "engineer", User.active.is_(True)).order_by(User.id))  # type: ignore[attr-defined]
    return [(u, int(n)) for u, n in (await session.exec(stmt)).all()]  # type: ignore[call-overload]
