"""Outbox queries for the relay: claim the oldest unpublished rows, mark them published."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, bindparam, func, text, update
from sqlalchemy import select as sa_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from backend.persistence.tables import Outbox

# One relay at a time per database keeps the global order; a second relay simply waits its turn.
_RELAY_LOCK_KEY = 0x0F1E1D


# The relay's statements run after nearly every commit: built once (cache keys computed once).
_LOCK = text("SELECT pg_try_advisory_xact_lock(:k)").bindparams(k=_RELAY_LOCK_KEY)
_PENDING = (select(Outbox).where(col(Outbox.published_at).is_(None)).order_by(col(Outbox.id))
            .limit(bindparam("limit", type_=Integer)))
_MARK = update(Outbox).where(col(Outbox.id).in_(bindparam("ids", expanding=True))).values(
    published_at=bindparam("at"))


async def lock_relay(session: AsyncSession) -> bool:
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        got = await session.exec(_LOCK)  # type: ignore[call-overload]
        return bool(got.scalar_one())
    return True  # SQLite: BEGIN IMMEDIATE already serializes writers


async def pending(session: AsyncSession, limit: int) -> list[Outbox]:
    return list((await session.exec(_PENDING, params={"limit": limit})).all())


async def mark_published(session: AsyncSession, ids: list[int], at: datetime) -> None:
    await session.exec(_MARK, params={"ids": ids, "at": at})


async def backlog(session: AsyncSession) -> int:
    stmt = sa_select(func.count()).select_from(Outbox).where(Outbox.published_at.is_(None))  # type: ignore[union-attr]
    return (await session.exec(stmt)).scalar_one()  # type: ignore[call-overload]
