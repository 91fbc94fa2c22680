"""SQLite's writers queue in the process (``db._Writers``): first come first served from BEGIN
IMMEDIATE to COMMIT or ROLLBACK, instead of SQLite's busy handler (sleep and retry, in no order);
readers never wait for them; a turn ends with the transaction however it ends; a writer that
waits too long gets SQLite's own "database is locked"."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.persistence.db import create_engine, read_session_factory, session_factory
from tests.support.apptest import fresh_database
from tests.support.waiting import wait_until


@pytest.fixture
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request, "sqlite", tmp_path / "writers.db") as made:
        yield made


@pytest.fixture
async def engine(url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(url, sqlite_writer_timeout_s=5)
    async with eng.begin() as conn:
        await conn.execute(text("CREATE TABLE turns (n INTEGER NOT NULL, who TEXT NOT NULL)"))
    yield eng
    await eng.dispose()


async def _write(engine: AsyncEngine, who: str, order: list[str], hold: asyncio.Event | None = None) -> None:
    async with session_factory(engine)() as session:
        await session.connection()  # BEGIN IMMEDIATE: this writer's turn
        order.append(who)
        await session.exec(text("INSERT INTO turns (n, who) VALUES (:n, :who)"),  # type: ignore[call-overload]
                           params={"n": len(order), "who": who})
        if hold is not None:
            await hold.wait()
        await session.commit()


async def test_writers_take_turns_in_the_order_they_came(engine: AsyncEngine) -> None:
    order: list[str] = []
    release = asyncio.Event()
    first = asyncio.create_task(_write(engine, "first", order, hold=release))
    await wait_until(lambda: order == ["first"], message="the first writer has its turn")
    waiting = []
    for who in ("b", "c", "d", "e"):
        checked_out = engine.pool.checkedout()
        waiting.append(asyncio.create_task(_write(engine, who, order)))
        # it has its connection and waits for the turn (its BEGIN IMMEDIATE not yet sent)
        await wait_until(lambda n=checked_out: engine.pool.checkedout() == n + 1, message=f"{who} waiting")
    async with read_session_factory(engine)() as reads:  # a reader does not wait for the writers
        count = (await reads.exec(text("SELECT count(*) FROM turns"))).scalar_one()  # type: ignore[call-overload]
        assert count == 0
    assert order == ["first"]
    release.set()
    await asyncio.wait_for(asyncio.gather(first, *waiting), 30)
    assert order == ["first", "b", "c", "d", "e"]
    async with read_session_factory(engine)() as reads:
        rows = (await reads.exec(text("SELECT who FROM turns ORDER BY n"))).scalars().all()  # type: ignore[call-overload]
    assert rows == ["first", "b", "c", "d", "e"]


async def test_a_turn_ends_with_a_rollback_or_a_failed_transaction(engine: AsyncEngine) -> None:
    async with session_factory(engine)() as session:
        await session.connection()
        await session.rollback()
    with pytest.raises(OperationalError):
        async with session_factory(engine)() as session:
            await session.exec(text("INSERT INTO nowhere VALUES (1)"))  # type: ignore[call-overload]
    async with session_factory(engine)() as session:  # closed without commit or rollback
        await session.exec(text("INSERT INTO turns (n, who) VALUES (1, 'left')"))  # type: ignore[call-overload]
    order: list[str] = []
    await asyncio.wait_for(_write(engine, "after", order), 10)  # no turn was left held
    assert order == ["after"]


async def test_a_writer_that_waits_too_long_is_told_the_database_is_locked(url: str) -> None:
    eng = create_engine(url, sqlite_writer_timeout_s=0.2)
    try:
        release = asyncio.Event()
        order: list[str] = []
        holder = asyncio.create_task(_write_table_free(eng, release))
        await wait_until(lambda: eng.pool.checkedout() == 1, message="the holder has its turn")
        with pytest.raises(OperationalError, match="database is locked"):
            async with session_factory(eng)() as session:
                await session.connection()
                order.append("late")
        assert order == []
        release.set()
        await asyncio.wait_for(holder, 10)
    finally:
        await eng.dispose()


async def _write_table_free(engine: AsyncEngine, release: asyncio.Event) -> None:
    async with session_factory(engine)() as session:
        await session.connection()
        await release.wait()
        await session.commit()
