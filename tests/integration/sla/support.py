"""Helpers for the SLA integration tests: units of work on the test's rolled-back connection, a
FrozenClock, the seed data, and shortcuts to create orders, act, run timer passes and read rows."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from backend.clock import FrozenClock
from backend.domain.actors import Principal
from backend.domain.calendar import BusinessCalendar
from backend.domain.work_orders import WorkOrder
from backend.domain.work_orders import commands as c
from backend.domain.work_orders.creation import NewWorkOrder
from backend.persistence.tables import Outbox
from backend.persistence.tables_sla import SlaBreach, SlaDeadline, SlaEscalation
from backend.services import work_orders as svc
from backend.services.sla_timers import PassResult, run_pass
from backend.services.uow import UnitOfWork, UnitOfWorkFactory
from tests.support.factories import Ref, seed

MONDAY_10 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
CLEARING_AT = datetime(2026, 11, 23, 8, 30, tzinfo=UTC).astimezone(BusinessCalendar().tz).time()  # 16:30


def report(at: datetime, part: str = "main pump seal", hours: float = 1300) -> dict[str, Any]:
    return {"arrival_time": at - timedelta(hours=1), "completion_time": at, "fault_description": "leak",
            "faulty_part": part, "repair_method": "replaced", "running_hours": hours}


@dataclass
class Env:
    uows: UnitOfWorkFactory
    clock: FrozenClock
    ref: Ref

    @asynccontextmanager
    async def uow(self) -> AsyncIterator[UnitOfWork]:
        async with self.uows() as uow:
            yield uow
            await uow.commit()

    async def create(self, kind: str = "repair", *, site: int | None = None, **kw: Any) -> WorkOrder:
        desk = kind in ("consultation", "complaint", "suggestion")
        where = {} if desk else {"customer_id": self.ref.customer, "site_id": site or self.ref.site,
                                 "equipment_id": kw.pop("equipment_id", self.ref.equipment)}
        spec = NewWorkOrder(kind=kind, description=kw.pop("description", "hydraulic leak"), **where, **kw)
        async with self.uow() as uow:
            return await svc.create_work_order(uow, self.ref.agent, spec)

    async def act(self, actor: Principal, order_id: int, command: c.Command) -> WorkOrder:
        async with self.uow() as uow:
            return await svc.act(uow, actor, order_id, command)

    async def tick(self) -> PassResult:
        return await run_pass(self.uows, CLEARING_AT)

    async def advance(self, **delta: float) -> PassResult:
        self.clock.advance(**delta)
        return await self.tick()

    async def rows(self, table: type, *where: Any) -> list[Any]:
        async with self.uows() as uow:
            found = list((await uow.session.exec(select(table).where(*where))).all())
            uow.session.expunge_all()  # keep them readable after the read-only unit of work rolls back
            return found

    async def count(self, table: type, *where: Any) -> int:
        async with self.uows() as uow:
            return (await uow.session.exec(sa_select(func.count()).select_from(table).where(*where))).scalar_one()

    async def breaches(self, order_id: int | None = None) -> list[SlaBreach]:
        return await self.rows(SlaBreach, *([SlaBreach.work_order_id == order_id] if order_id else []))

    async def deadline(self, order_id: int, rule: str) -> SlaDeadline | None:
        found = await self.rows(SlaDeadline, SlaDeadline.work_order_id == order_id, SlaDeadline.rule == rule)
        return found[0] if found else None

    async def escalations(self, order_id: int | None = None) -> list[SlaEscalation]:
        return await self.rows(SlaEscalation, *([SlaEscalation.work_order_id == order_id] if order_id else []))

    async def outbox(self, *types: str) -> list[Outbox]:
        rows = await self.rows(Outbox, Outbox.type.in_(types) if types else True)  # type: ignore[attr-defined]
        return sorted(rows, key=lambda o: o.id or 0)


@asynccontextmanager
async def open_env(engine: AsyncEngine, start: datetime = MONDAY_10) -> AsyncIterator[Env]:
    """Everything inside one outer transaction on one connection, rolled back at the end; each unit
    of work is a savepoint, so services and timer passes commit as they would in production."""
    async with engine.connect() as conn:
        outer = await conn.begin()
        maker = async_sessionmaker(bind=conn, class_=AsyncSession, join_transaction_mode="create_savepoint",
                                   expire_on_commit=False)
        clock = FrozenClock(start)
        uows = UnitOfWorkFactory(maker, clock, calendar=BusinessCalendar())
        async with uows() as uow:
            ref = await seed(uow.session, clock.now())
            await uow.commit()
        try:
            yield Env(uows, clock, ref)
        finally:
            if outer.is_active:
                await outer.rollback()
