"""Idempotency records: the advisory lock that makes an in-flight duplicate visible (PostgreSQL),
the claim (INSERT ... ON CONFLICT DO NOTHING), completion and pruning. Never commits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
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


async def claim(session: AsyncSession, *, user_id: int, key: str, fingerprint: str, method: str, path: str,
                now: datetime) -> Record | None:
    """Writes an in-progress record and returns None, or returns the record already there."""
    insert = pg_insert if _dialect(session) == "postgresql" else sqlite_insert
    stmt = insert(Record).values(
        user_id=user_id, key=key, fingerprint=fingerprint, method=method, path=path, state="in_progress",
        response_headers={}, created_at=now,
    ).on_conflict_do_nothing(index_elements=["user_id", "key"]).returning(Record.user_id)
    inserted = (await session.exec(stmt)).first()  # type: ignore[call-overload]
    if inserted is not None:
        return None
    found = await session.exec(select(Record).where(Record.user_id == user_id, Record.key == key)
                               .execution_options(populate_existing=True))
    return found.one()


async def complete(session: AsyncSession, *, user_id: int, key: str, status: int, body: str,
                   headers: dict[str, Any], now: datetime) -> None:
    await session.exec(update(Record).where(Record.user_id == user_id, Record.key == key).values(  # type: ignore[call-overload]
        state="done", status_code=status, response_body=body, response_headers=headers, completed_at=now))


async def prune(session: AsyncSession, created_before: datetime) -> int:
    result = await session.exec(delete(Record).where(Record.created_at < created_before))  # type: ignore[call-overload, arg-type]
    return result.rowcount or 0
