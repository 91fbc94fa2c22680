"""Connections and sessions: on PostgreSQL a pooled connection is pinged on checkout only after
sitting idle (``db.IDLE_PING_S``), a dead one is replaced without the caller noticing, and read
sessions run in autocommit (one round trip per read); on SQLite read sessions do not queue behind
the writer's lock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.persistence import db
from tests.support.servers import Postgres


@pytest.fixture
async def pg_engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(pg_url, pool_size=1)
    yield engine
    await engine.dispose()


@pytest.fixture
def pings(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    seen: list[int] = []
    real = AsyncAdapt_asyncpg_connection.ping

    def counting(self: AsyncAdapt_asyncpg_connection) -> None:
        seen.append(1)
        real(self)

    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", counting)
    return seen


async def backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT pg_backend_pid()"))).scalar_one()


async def test_a_connection_in_steady_use_is_not_pinged(pg_engine: AsyncEngine, pings: list[int]) -> None:
    first = await backend_pid(pg_engine)
    assert [await backend_pid(pg_engine) for _ in range(5)] == [first] * 5  # the same pooled connection
    assert pings == []


async def test_an_idle_connection_is_pinged_and_a_dead_one_replaced(
        pg_engine: AsyncEngine, pg: Postgres, pings: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    old = await backend_pid(pg_engine)
    # What a database restart does to pooled connections (waits until the backend has exited).
    pg.psql(f"SELECT pg_terminate_backend({old}, 5000)")
    monkeypatch.setattr(db, "IDLE_PING_S", 0.0)  # every checkout now finds its connection "idle"
    new = await backend_pid(pg_engine)  # no error: the failed ping made the pool reconnect
    assert new != old
    assert len(pings) >= 1


async def test_read_sessions_run_each_statement_in_its_own_transaction(pg_engine: AsyncEngine) -> None:
    query = text("SELECT txid_current()")
    async with db.read_session_factory(pg_engine)() as session:
        first = (await session.exec(query)).scalar_one()  # type: ignore[call-overload]
        second = (await session.exec(query)).scalar_one()  # type: ignore[call-overload]
    assert second != first  # autocommit: no BEGIN, each statement its own transaction
    async with db.session_factory(pg_engine)() as session:
        first = (await session.exec(query)).scalar_one()  # type: ignore[call-overload]
        second = (await session.exec(query)).scalar_one()  # type: ignore[call-overload]
    assert second == first  # an ordinary session: one transaction


async def test_sqlite_read_sessions_do_not_wait_for_the_writer(tmp_path: Path) -> None:
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'reads.db'}")
    try:
        async with db.session_factory(engine)() as writer:
            await writer.exec(text("CREATE TABLE t (x INTEGER)"))  # type: ignore[call-overload]
            await writer.commit()
            await writer.exec(text("INSERT INTO t VALUES (1)"))  # type: ignore[call-overload]
            # The writer now holds SQLite's write lock (BEGIN IMMEDIATE) and has not committed.
            async with db.read_session_factory(engine)() as reader:
                seen = await asyncio.wait_for(reader.exec(text("SELECT count(*) FROM t")), 5)  # type: ignore[call-overload]
                assert seen.scalar_one() == 0  # the committed state, at once
            await writer.commit()
    finally:
        await engine.dispose()


async def test_a_connection_dropped_mid_transaction_leaves_the_pool(pg_engine: AsyncEngine, pg: Postgres) -> None:
    """A statement on the driver (``persistence.statements``) that finds its connection dead raises
    SQLAlchemy's error marked ``connection_invalidated``, and the pool hands out a fresh one next."""
    from sqlalchemy import literal_column, select
    from sqlalchemy.exc import DBAPIError

    from backend.persistence.statements import Statement

    pid = Statement(select(literal_column("pg_backend_pid()")))
    async with db.session_factory(pg_engine)() as session:
        old = await pid.scalar(session)  # inside the session's transaction
        pg.psql(f"SELECT pg_terminate_backend({old}, 5000)")  # a restart, a failover, a killed backend
        with pytest.raises(DBAPIError) as caught:
            await pid.scalar(session)
        assert caught.value.connection_invalidated
        await session.rollback()
    async with db.session_factory(pg_engine)() as session:
        assert await pid.scalar(session) != old  # a new connection, no error
