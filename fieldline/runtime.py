"""Builds the process's shared resources (engine, sessions, broker, relay, Redis) for the app's
lifespan and the worker's start-up, and tears them down in reverse order."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from backend.brokers.memory import MemoryBroker
from backend.brokers.redis import RedisStreamBroker
from backend.clock import Clock
from backend.persistence.db import create_engine, read_session_factory, session_factory
from backend.ports import Broker
from backend.relay import OutboxRelay
from backend.services.uow import UnitOfWorkFactory
from backend.settings import Settings

log = logging.getLogger("fieldline")


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    reads: async_sessionmaker[AsyncSession]  # autocommit sessions for a lone read (db.read_session_factory)
    uows: UnitOfWorkFactory
    broker: Broker
    relay: OutboxRelay
    redis: Redis | None


@contextlib.asynccontextmanager
async def open_runtime(settings: Settings, clock: Clock, *, run_relay: bool = True) -> AsyncIterator[Runtime]:
    engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
    sessions = session_factory(engine)
    redis: Redis | None = None
    broker: Broker
    if settings.redis_url:
        redis = Redis.from_url(settings.redis_url)
        broker = RedisStreamBroker(redis)
    else:
        broker = MemoryBroker()
    relay = OutboxRelay(sessions, broker, clock)
    uows = UnitOfWorkFactory(sessions, clock, on_commit=relay.after_commit, calendar=settings.calendar)
    tasks: list[asyncio.Task[None]] = []
    if run_relay:
        tasks.append(asyncio.create_task(relay.run(), name="outbox-relay"))
    try:
        yield Runtime(settings, clock, engine, sessions, read_session_factory(engine), uows, broker, relay, redis)
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if redis is not None:
            await redis.aclose()
        await engine.dispose()
