"""Idempotency records: the advisory lock that makes an in-flight duplicate visible (PostgreSQL),
the look-up, the record of the response (written once, with the action) and pruning. Never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, text
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from backend.persistence.tables_mobile import IdempotencyRecord as Record


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


async def try_lock(session: AsyncSession, lock_id: int) -> bool:
    """PostgreSQL: a transaction-scoped advisory lock on (user, key); False while another
    transaction holds it. SQLite: ``BEGIN IMMEDIATE`` already serialises writers."""
    if _dialect(session) != "postgresql":
        return True
    got = await session.exec(text("SELECT pg_try_advisory_xact_lock(:k)").bindparams(k=lock_id))  # type: ignore[call-overload]
    return bool(got.scalar_one())


async def find(session: AsyncSession, user_id: int, key: str) -> Record | None:
    """The record of (user, key), read after the lock was taken (a statement of its own, so its
    snapshot sees whatever the lock's previous holder committed)."""
    found = await session.exec(select(Record).where(Record.user_id == user_id, Record.key == key)
                               .execution_options(populate_existing=True))
    return found.first()


async def record(session: AsyncSession, *, user_id: int, key: str, fingerprint: str, method: str, path: str,
                 status: int, body: str, headers: dict[str, Any], now: datetime) -> None:
    """The response of a request that ran, written in its transaction (the unique (user, key)
    constraint is the last line of defence: the lock and ``find`` come first)."""
    await session.exec(insert(Record).values(  # type: ignore[call-overload]
        user_id=user_id, key=key, fingerprint=fingerprint, method=method, path=path, state="done",
        status_code=status, response_body=body, response_headers=headers, created_at=now, completed_at=now))


async def prune(session: AsyncSession, created_before: datetime) -> int:
    result = await session.exec(delete(Record).where(Record.created_at < created_before))  # type: ignore[call-overload, arg-type]
    return result.rowcount or 0
