"""Idempotency records: the advisory lock that makes an in-flight duplicate visible (PostgreSQL),
the look-up, the record of the response (written once, with the action) and pruning. Never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, bindparam, delete, select, text
from sqlmodel.ext.asyncio.session import AsyncSession

from backend.persistence import appends
from backend.persistence.tables_mobile import IdempotencyRecord as Record


@dataclass(frozen=True, slots=True)
class Stored:
    fingerprint: str
    status_code: int | None
    response_body: str | None
    response_headers: dict[str, Any]


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


# Statements of every mutating mobile request, built once (their cache keys are computed once).
_TRY_LOCK = text("SELECT pg_try_advisory_xact_lock(:k)").bindparams(bindparam("k", type_=BigInteger))
_TABLE = Record.__table__  # type: ignore[attr-defined]
_FIND = select(_TABLE).where(_TABLE.c.user_id == bindparam("user_id"), _TABLE.c.key == bindparam("key"))


async def try_lock(session: AsyncSession, lock_id: int) -> bool:
    """PostgreSQL: a transaction-scoped advisory lock on (user, key); False while another
    transaction holds it. SQLite: ``BEGIN IMMEDIATE`` already serialises writers."""
    if _dialect(session) != "postgresql":
        return True
    got = await session.exec(_TRY_LOCK, params={"k": lock_id})  # type: ignore[call-overload]
    return bool(got.scalar_one())


async def find(session: AsyncSession, user_id: int, key: str) -> Stored | None:
    """The record of (user, key), read after the lock was taken (a statement of its own, so its
    snapshot sees whatever the lock's previous holder committed). A plain row, not an ORM object."""
    found = await session.exec(_FIND, params={"user_id": user_id, "key": key})  # type: ignore[call-overload]
    row = found.first()
    return None if row is None else Stored(row.fingerprint, row.status_code, row.response_body,
                                           dict(row.response_headers))


def record(session: AsyncSession, *, user_id: int, key: str, fingerprint: str, method: str, path: str,
                 status: int, body: str, headers: dict[str, Any], now: datetime) -> None:
    """The response of a request that ran, written in its transaction as it commits (queued with
    the other append-only rows; the unique (user, key) constraint is the last line of defence: the
    lock and ``find`` come first)."""
    appends.append(session, Record, user_id=user_id, key=key, fingerprint=fingerprint, method=method, path=path,
                   state="done", status_code=status, response_body=body, response_headers=headers, created_at=now,
                   completed_at=now)


async def prune(session: AsyncSession, created_before: datetime) -> int:
    result = await session.exec(delete(Record).where(Record.created_at < created_before))  # type: ignore[call-overload, arg-type]
    return result.rowcount or 0
