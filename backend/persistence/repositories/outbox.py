"""Outbox queries for the relay: claim the oldest unpublished rows, mark them published."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, Boolean, Integer, any_, bindparam, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from backend.persistence.statements import Executor, Statement, dialect_of
from backend.persistence.tables import Outbox

# One relay at a time per database keeps the global order; a second relay simply waits its turn.
_RELAY_LOCK_KEY = 0x0F1E1D


# The relay's statements run after nearly every commit: built once, on the driver
# (``persistence.statements``), plain rows, no ORM instances.
_T = Outbox.__table__  # type: ignore[attr-defined]
_PENDING_ROWS = (select(_T.c.id, _T.c.event_id, _T.c.type, _T.c.key, _T.c.payload, _T.c.created_at)
                 .where(_T.c.published_at.is_(None)).order_by(_T.c.id).limit(bindparam("limit", type_=Integer)))
_PENDING = Statement(_PENDING_ROWS)
# PostgreSQL: the relay's lock and its read in one round trip. The lock is an uncorrelated scalar
# subquery, which PostgreSQL evaluates once, before reading anything (a one-time filter): while
# another relay holds the lock, no rows.
_LOCKED = select(func.pg_try_advisory_xact_lock(_RELAY_LOCK_KEY, type_=Boolean)).scalar_subquery()
_CLAIM = Statement(_PENDING_ROWS.where(_LOCKED))
_MARK = update(_T).where(_T.c.id.in_(bindparam("ids", expanding=True))).values(published_at=bindparam("at"))
# PostgreSQL: the ids as one array parameter, so the statement is the same for any batch (on the driver)
_MARK_ANY = Statement(update(_T).where(_T.c.id == any_(bindparam("ids", type_=ARRAY(Integer))))
                      .values(published_at=bindparam("at")))


@dataclass(frozen=True, slots=True)
class Pending:
    id: int
    event_id: str
    type: str
    key: str
    payload: dict[str, Any]
    created_at: datetime


async def claim(db: Executor, limit: int) -> list[Pending]:
    """The oldest ``limit`` unpublished rows, for this transaction's relay alone: none while another
    relay holds the lock (PostgreSQL; on SQLite ``BEGIN IMMEDIATE`` already serialises writers)."""
    statement = _CLAIM if dialect_of(db).name == "postgresql" else _PENDING
    return [Pending(*row) for row in await statement.all(db, limit=limit)]


async def mark_published(db: Executor, ids: list[int], at: datetime) -> None:
    if dialect_of(db).name == "postgresql":
        await _MARK_ANY.rowcount(db, ids=ids, at=at)
        return
    assert isinstance(db, AsyncSession)  # SQLite units of work run on their session
    connection = await db.connection()  # Core, not the ORM's bulk UPDATE: nothing here is loaded
    await connection.execute(_MARK, {"ids": ids, "at": at})


async def backlog(session: AsyncSession) -> int:
    stmt = select(func.count()).select_from(_T).where(_T.c.published_at.is_(None))
    return (await session.exec(stmt)).scalar_one()  # type: ignore[call-overload]
