"""Shared fixtures: throwaway servers, migrated databases (SQLite and PostgreSQL), sessions
rolled back after each test, settings for tests."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel.ext.asyncio.session import AsyncSession

from backend.persistence.db import create_engine
from backend.persistence.migrate import upgrade
from backend.settings import Settings
from tests.support.servers import Postgres, Redis, postgres_server, redis_server

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def pg() -> Iterator[Postgres]:
    with postgres_server() as server:
        yield server


@pytest.fixture(scope="session")
def redis_srv() -> Iterator[Redis]:
    with redis_server() as server:
        yield server


def _migrate(url: str) -> None:
    async def run() -> None:
        engine = create_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    path: Path = tmp_path_factory.mktemp("sqlite") / "fieldline.db"
    url = f"sqlite+aiosqlite:///{path}"
    _migrate(url)
    return url


@pytest.fixture(scope="session")
def pg_url(pg: Postgres) -> str:
    pg.psql("CREATE DATABASE fieldline_test")
    url = pg.url("fieldline_test")
    _migrate(url)
    return url


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest) -> str:
    """A migrated database URL, once per backend: tests using it run on SQLite and PostgreSQL."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
async def engine(db_url: str) -> AsyncIterator[AsyncEngine]:
    eng = create_engine(db_url)
    yield eng
    await eng.dispose()


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    """A session inside a transaction that is rolled back at the end; code may still commit
    (commits become savepoints)."""
    async with engine.connect() as conn:
        outer = await conn.begin()
        sess = AsyncSession(bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False)
        try:
            yield sess
        finally:
            await sess.close()
            if outer.is_active:
                await outer.rollback()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'app.db'}",
        demo_data=False,
        simulator=False,
        log_json=False,
    )
