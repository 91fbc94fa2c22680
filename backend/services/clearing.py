"""The daily clearing (日清日结): at the configured time on a business day, the unfinished field orders
are listed per provider and engineer (a row per day, items per order) and each is urged by the
system, in small batches that survive a restart. The list is there the next morning."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import func, update
from sqlalchemy import select as sa_select
from sqlmodel import select

from backend import errors
from backend import events as ev
from backend.domain.actors import SYSTEM
from backend.domain.calendar import BusinessCalendar
from backend.domain.work_orders import FIELD_KINDS, OPEN_STATES
from backend.domain.work_orders import commands as c
from backend.persistence.repositories.sla import _insert
from backend.persistence.tables import WorkOrder
from backend.persistence.tables_sla import DailyClearing, SlaBreach
from backend.persistence.tables_sla import DailyClearingItem as Item
from backend.services import work_orders as wo
from backend.services.uow import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)


def clearing_day(now: datetime, calendar: BusinessCalendar, at: time) -> str | None:
    """Today's local date if the clearing is due (a business day, at or after ``at``), else None."""
    local = calendar.local(now)
    if not calendar.is_business_day(local.date()) or local.time() < at:
        return None
    return local.date().isoformat()


async def start(uow: UnitOfWork, day: str) -> int | None:
    """Create the day's clearing with its list of unfinished orders; None if it already exists."""
    s, now = uow.session, uow.now()
    stmt = _insert(s)(DailyClearing).values(day=day, state="running", started_at=now).on_conflict_do_nothing(
        index_elements=["day"]).returning(DailyClearing.id)
    clearing_id = (await s.exec(stmt)).scalar_one_or_none()  # type: ignore[call-overload]
    if clearing_id is None:
        return None
    overdue = sa_select(SlaBreach.work_order_id).where(SlaBreach.rule == "response")
    orders = sa_select(WorkOrder.id, WorkOrder.number, WorkOrder.kind, WorkOrder.state, WorkOrder.provider_id,
                       WorkOrder.engineer_id, WorkOrder.reported_at, WorkOrder.id.in_(overdue)).where(  # type: ignore[union-attr]
        WorkOrder.kind.in_([str(k) for k in FIELD_KINDS]),  # type: ignore[attr-defined]
        WorkOrder.state.in_([str(st) for st in OPEN_STATES]))  # type: ignore[attr-defined]
    rows = (await s.exec(orders.order_by(WorkOrder.id))).all()  # type: ignore[call-overload]
    values = [{"clearing_id": clearing_id, "work_order_id": r[0], "number": r[1], "kind": r[2], "state": r[3],
               "provider_id": r[4], "engineer_id": r[5], "reported_at": r[6], "overdue": bool(r[7])} for r in rows]
    for chunk in range(0, len(values), 2000):  # both databases cap the bind parameters of one statement
        await s.exec(_insert(s)(Item).values(values[chunk:chunk + 2000]))  # type: ignore[call-overload]
    await s.exec(update(DailyClearing).where(DailyClearing.id == clearing_id).values(unfinished=len(rows)))  # type: ignore[call-overload, arg-type]
    uow.audit(SYSTEM, "clearing.started", "daily_clearing", clearing_id, day=day, unfinished=len(rows))
    return clearing_id


async def urge_batch(uow: UnitOfWork, clearing_id: int, limit: int) -> int:
    """Urge up to ``limit`` items not yet urged; returns how many were handled. The caller commits."""
    s, now = uow.session, uow.now()
    items = (await s.exec(select(Item).where(Item.clearing_id == clearing_id, Item.urged_at.is_(None))  # type: ignore[union-attr]
                          .order_by(Item.id).limit(limit))).all()
    for item in items:
        error = None
        try:
            await wo.act(uow, SYSTEM, item.work_order_id, c.Urge(by="center", note="daily clearing"))
        except errors.DomainError as exc:  # finished meanwhile (or moving): recorded, not retried
            error = exc.code
        await s.exec(update(Item).where(Item.id == item.id).values(urged_at=now, urge_error=error))  # type: ignore[call-overload, arg-type]
    if not items:
        await _finish(uow, clearing_id)
    return len(items)


async def _finish(uow: UnitOfWork, clearing_id: int) -> None:
    s, now = uow.session, uow.now()
    urged = (await s.exec(sa_select(func.count()).select_from(Item).where(  # type: ignore[call-overload]
        Item.clearing_id == clearing_id, Item.urge_error.is_(None)))).scalar_one()  # type: ignore[union-attr]
    result = await s.exec(update(DailyClearing).where(  # type: ignore[call-overload]
        DailyClearing.id == clearing_id, DailyClearing.state == "running").values(  # type: ignore[arg-type]
        state="done", finished_at=now, urged=urged))
    if result.rowcount == 1:
        clearing = await s.get(DailyClearing, clearing_id, populate_existing=True)
        assert clearing is not None
        uow.emit(ev.DailyClearingCompleted(clearing_id=clearing_id, day=clearing.day,
                                           unfinished=clearing.unfinished, urged=urged))


async def step(uows: UnitOfWorkFactory, at: time, *, batch: int = 50, max_batches: int = 20) -> int:
    """Advance the clearing: start today's when due, then urge a few batches of any running one
    (today's or one a restart interrupted). Returns the number of items handled."""
    async with uows() as uow:
        day = clearing_day(uow.now(), uow.calendar, at)
        if day is not None:
            await start(uow, day)
            await uow.commit()
    handled = 0
    for _ in range(max_batches):
        async with uows() as uow:
            running = (await uow.session.exec(select(DailyClearing.id).where(
                DailyClearing.state == "running").order_by(DailyClearing.id))).first()
            if running is None:
                break
            n = await urge_batch(uow, running, batch)
            await uow.commit()
        handled += n
    return handled


@dataclass(frozen=True)
class ClearingView:
    id: int
    day: str
    state: str
    started_at: datetime
    finished_at: datetime | None
    unfinished: int
    urged: int
    by_provider: list[dict[str, Any]]
    by_engineer: list[dict[str, Any]]
    items: list[dict[str, Any]]


async def view(uow: UnitOfWork, day: str | None) -> ClearingView:
    """A day's clearing (default: the latest), grouped per provider and per engineer."""
    stmt = select(DailyClearing)
    stmt = stmt.where(DailyClearing.day == day) if day else stmt.order_by(DailyClearing.day.desc())  # type: ignore[attr-defined]
    clearing = (await uow.session.exec(stmt.limit(1))).first()
    if clearing is None or clearing.id is None:
        raise errors.NotFound("clearing-not-found", f"no daily clearing{' for ' + day if day else ''}")
    items = (await uow.session.exec(select(Item).where(Item.clearing_id == clearing.id).order_by(Item.id))).all()
    rows = [{"work_order_id": i.work_order_id, "number": i.number, "kind": i.kind, "state": i.state,
             "provider_id": i.provider_id, "engineer_id": i.engineer_id, "reported_at": i.reported_at,
             "overdue": i.overdue, "urged_at": i.urged_at, "urge_error": i.urge_error} for i in items]
    return ClearingView(clearing.id, clearing.day, clearing.state, clearing.started_at, clearing.finished_at,
                        clearing.unfinished, clearing.urged, _group(rows, "provider_id"), _group(rows, "engineer_id"),
                        rows)


def _group(rows: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    groups: dict[Any, dict[str, Any]] = {}
    for row in rows:
        g = groups.setdefault(row[key], {key: row[key], "unfinished": 0, "overdue": 0, "numbers": []})
        g["unfinished"] += 1
        g["overdue"] += int(row["overdue"])
        g["numbers"].append(row["number"])
    return sorted(groups.values(), key=lambda g: (g[key] is None, g[key] or 0))
