"""Queries for the pages: wallboard thresholds, the labels (engineers, providers, regions, queues)
the console shows instead of ids, and the call ledger rows behind the call-back list."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from backend.persistence.tables import CallQueue, Provider, Region, User
from backend.persistence.tables_telephony import CallRecord
from backend.persistence.tables_wallboard import WallboardThreshold


async def thresholds(session: AsyncSession) -> list[WallboardThreshold]:
    stmt = select(WallboardThreshold).order_by(WallboardThreshold.queue, WallboardThreshold.metric)
    return list((await session.exec(stmt)).all())


async def threshold(session: AsyncSession, queue: str, metric: str) -> WallboardThreshold | None:
    stmt = select(WallboardThreshold).where(WallboardThreshold.queue == queue, WallboardThreshold.metric == metric)
    return (await session.exec(stmt)).first()


async def people(session: AsyncSession, roles: list[str]) -> list[User]:
    stmt = select(User).where(User.role.in_(roles)).order_by(User.id)  # type: ignore[attr-defined]
    return list((await session.exec(stmt)).all())


async def providers(session: AsyncSession) -> list[Provider]:
    return list((await session.exec(select(Provider).order_by(Provider.id))).all())


async def regions(session: AsyncSession) -> list[Region]:
    return list((await session.exec(select(Region).order_by(Region.id))).all())


async def queues(session: AsyncSession) -> list[CallQueue]:
    return list((await session.exec(select(CallQueue).order_by(CallQueue.id))).all())


async def calls_since(session: AsyncSession, since: datetime, until: datetime | None = None) -> list[CallRecord]:
    """The call ledger's rows that joined a queue in [since, until)."""
    stmt = select(CallRecord).where(CallRecord.joined_at >= since)  # type: ignore[arg-type]
    if until is not None:
        stmt = stmt.where(CallRecord.joined_at < until)  # type: ignore[arg-type]
    stmt = stmt.order_by(CallRecord.joined_at)  # type: ignore[arg-type]
    return list((await session.exec(stmt)).all())
