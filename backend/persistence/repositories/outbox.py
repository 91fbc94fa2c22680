"""Outbox queries for the relay: claim the oldest unpublished rows, mark them published."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, text, update
from sqlalchemy import select as sa_select
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from backend.persistence.tables import Outbox

# One relay at a time per database keeps the global order; a second relay simply waits its turn.
_RELAY_LOCK_KEY = 0x0F1E1D


async def lock_relay(session: AsyncSession) -> bool:
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        got = await session.exec(text("SELECT pg_try_advisory_xact_lock(:k)").bindparams(k=_RELAY_LOCK_KEY))  # type: ignore[call-overload]
        return bool(got.scalar_one())
    return True  # SQLite: BEGIN IMMEDIATE already serializes writers


async def pending(session: AsyncSession, limit: int) -> list[Outbox]:
    stmt = select(Outbox).where(Outbox.published_at.is_(None)).order_by(Outbox.id).limit(limit)  # type: ignore[union-attr]
    return list((await session.exec(stmt)).all())


async def mark_published(session: AsyncSession, ids: list[int], at: datetime) -> None:
    await session.exec(update(Outbox).where(Outbox.id.in_(ids)).values(published_at=at))  # type: ignore[call-overload, union-attr]


async def backlog(session: AsyncSession) -> int:
    stmt = sa_select(func.count()).select_from(Outbox).where(Outbox.published_at.is_(None))  # type: ignore[union-attr]
    return (await session.exec(stmt)).scalar_one()  # type: ignore[call-overload]
