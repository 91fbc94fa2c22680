"""Fixtures of the SLA integration tests: ``env`` runs on SQLite and PostgreSQL (via ``engine``);
``scaled`` is a committed PostgreSQL database (fresh per test) with seed data and settings for the
arq tests, on the shared Redis in a database of its own, emptied before and after."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.clock import SystemClock
from backend.persistence.db import create_engine, session_factory
from backend.services.uow import UnitOfWorkFactory
from backend.settings import Settings
from tests.integration.sla.support import Env, open_env
from tests.support.apptest import fresh_database
from tests.support.factories import Ref, seed

REDIS_DB = 7  # the SLA tests' own Redis database: FLUSHDB here touches nobody else's keys


@pytest.fixture
async def env(engine: AsyncEngine) -> AsyncIterator[Env]:
    async with open_env(engine) as e:
        yield e


@dataclass
class Scaled:
    settings: Settings
    uows: UnitOfWorkFactory
    ref: Ref
    redis: Redis


@pytest.fixture
def scaled_db(request: pytest.FixtureRequest, tmp_path: Path, redis_srv: object) -> Iterator[Settings]:
    with fresh_database(request, "postgresql", tmp_path / "unused.db") as url:
        yield Settings(environment="test", database_url=url, redis_url=f"{redis_srv.url[:-2]}/{REDIS_DB}",  # type: ignore[attr-defined]
                       demo_data=False, simulator=False, log_json=False, sla_job_timeout_s=2,
                       sla_sweep_interval_s=1, sla_recheck_s=0.05)


@pytest.fixture
async def scaled(scaled_db: Settings) -> AsyncIterator[Scaled]:
    engine = create_engine(scaled_db.database_url)
    redis = Redis.from_url(scaled_db.redis_url or "")
    await redis.flushdb()
    uows = UnitOfWorkFactory(session_factory(engine), SystemClock(), calendar=scaled_db.calendar)
    async with uows() as uow:
        ref = await seed(uow.session, uow.now())
        await uow.commit()
    try:
        yield Scaled(scaled_db, uows, ref, redis)
    finally:
        await redis.flushdb()
        await redis.aclose()
        await engine.dispose()
