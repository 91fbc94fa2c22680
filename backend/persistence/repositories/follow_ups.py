"""Queries for follow-up tasks: open one per approved order (idempotent), finish, cancel, list."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, update
from sqlalchemy import select as sa_select
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from backend.persistence.repositories.sla import _insert
from backend.persistence.tables import WorkOrder
from backend.persistence.tables_sla import FollowUpTask

T = FollowUpTask


async def open_task(session: AsyncSession, work_order_id: int, kind: str, sampled: bool, now: datetime) -> int | None:
    """The new task's id, or None when the order already has one."""
    stmt = _insert(session)(T).values(work_order_id=work_order_id, kind=kind, sampled=sampled, state="open",
                                      created_at=now).on_conflict_do_nothing(index_elements=["work_order_id"])
    return (await session.exec(stmt.returning(T.id))).scalar_one_or_none()  # type: ignore[call-overload]


async def _task_id(session: AsyncSession, work_order_id: int, state: str) -> int | None:
    stmt = sa_select(T.id).where(T.work_order_id == work_order_id, T.state == state)
    return (await session.exec(stmt)).scalar_one_or_none()  # type: ignore[call-overload]


async def finish_task(session: AsyncSession, work_order_id: int, result: dict[str, Any], now: datetime,
                      by: int | None) -> int | None:
    task_id = await _task_id(session, work_order_id, "open")
    if task_id is None:
        return None
    await session.exec(update(T).where(T.id == task_id, T.state == "open").values(  # type: ignore[call-overload, arg-type]
        state="done", result=result, done_at=now, done_by=by))
    return task_id


async def link_second_dispatch(session: AsyncSession, work_order_id: int, child_id: int) -> None:
    await session.exec(update(T).where(T.work_order_id == work_order_id).values(  # type: ignore[call-overload, arg-type]
        second_dispatch_id=child_id))


async def cancel_task(session: AsyncSession, work_order_id: int, now: datetime) -> None:
    await session.exec(update(T).where(T.work_order_id == work_order_id, T.state == "open").values(  # type: ignore[call-overload, arg-type]
        state="cancelled", done_at=now))


async def is_open(session: AsyncSession, work_order_id: int) -> bool:
    return await _task_id(session, work_order_id, "open") is not None


async def get(session: AsyncSession, task_id: int) -> FollowUpTask | None:
    return await session.get(T, task_id, populate_existing=True)


async def work_list(session: AsyncSession, *, state: str, region_id: int | None, limit: int,
                    offset: int, task_id: int | None = None) -> tuple[list[tuple[FollowUpTask, WorkOrder]], int]:
    stmt = select(T, WorkOrder).join(WorkOrder, WorkOrder.id == T.work_order_id).where(T.state == state)
    if task_id is not None:
        stmt = stmt.where(T.id == task_id)
    if region_id is not None:
        stmt = stmt.where(WorkOrder.region_id == region_id)
    total_stmt = sa_select(func.count()).select_from(stmt.subquery())
    total = (await session.exec(total_stmt)).scalar_one()  # type: ignore[call-overload]
    rows = (await session.exec(stmt.order_by(T.created_at, T.id).limit(limit).offset(offset)  # type: ignore[arg-type]
                               .execution_options(populate_existing=True))).all()
    return [(t, w) for t, w in rows], total
