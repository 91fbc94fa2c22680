"""The transactional outbox: events are written with the change, handed on after commit in order
per work order, at least once, and a crash between commit and relay loses nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from redis.asyncio import Redis
from sqlmodel import select

from backend.brokers.memory import MemoryBroker
from backend.brokers.redis import RedisStreamBroker
from backend.clock import FrozenClock
from backend.domain.work_orders import commands as c
from backend.domain.work_orders.creation import NewWorkOrder
from backend.persistence.db import session_factory
from backend.persistence.tables import Outbox
from backend.ports import Envelope
from backend.relay import OutboxRelay
from backend.services import work_orders as svc
from backend.services.uow import UnitOfWorkFactory
from tests.conftest import BACKENDS
from tests.support.apptest import fresh_database
from tests.support.factories import seed

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A fresh database per test (overrides conftest's shared one): these tests commit for real and
    must not leave their orders and events behind for the tests that share it."""
    with fresh_database(request, request.param, tmp_path / "relay.db") as url:
        yield url


class Recorder:
    def __init__(self, fail_times: int = 0) -> None:
        self.seen: list[Envelope] = []
        self.fail_times = fail_times

    async def publish(self, batch: list[Envelope]) -> None:
        if self.fail_times:
            self.fail_times -= 1
            raise ConnectionError("broker down")
        self.seen.extend(batch)


async def _create_and_urge(uows: UnitOfWorkFactory, suffix: str) -> int:
    async with uows() as uow:
        ref = await seed(uow.session, uow.now(), suffix=suffix)
        order = await svc.create_work_order(uow, ref.agent, NewWorkOrder(
            kind="repair", description="leak", customer_id=ref.customer, site_id=ref.site))
        for _ in range(3):
            await svc.act(uow, ref.agent, order.id, c.Urge())
        await uow.commit()
        return order.id


async def test_crash_between_commit_and_relay_loses_nothing(engine, request) -> None:
    clock = FrozenClock(NOW)
    sessions = session_factory(engine)
    nudges: list[int] = []
    uows = UnitOfWorkFactory(sessions, clock, on_commit=lambda committed: nudges.append(1))
    order_id = await _create_and_urge(uows, suffix=f"-relay-{request.node.callspec.id}")
    assert nudges == [1]  # the committed change nudged a relay... which "crashed" before running

    broker = Recorder(fail_times=1)
    relay = OutboxRelay(sessions, broker, clock, batch_size=2)  # a relay started after the restart
    with pytest.raises(ConnectionError):
        await relay.drain_once()  # broker down: nothing is marked published
    await relay.drain()
    mine = [e for e in broker.seen if e.key == f"work_order:{order_id}"]
    assert [e.type for e in mine] == ["WorkOrderCreated", "WorkOrderUrged", "WorkOrderUrged", "WorkOrderUrged"]
    assert [e.outbox_id for e in mine] == sorted(e.outbox_id for e in mine)
    async with sessions() as s:
        rows = (await s.exec(select(Outbox).where(Outbox.key == f"work_order:{order_id}"))).all()
        assert rows and all(r.published_at is not None for r in rows)
    assert await relay.drain() == 0  # nothing is published twice once marked


class Held(Recorder):
    """A broker whose publish waits until released: its relay holds the relay lock meanwhile."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = asyncio.Event()
        self.release = asyncio.Event()

    async def publish(self, batch: list[Envelope]) -> None:
        self.entered.set()
        await self.release.wait()
        await super().publish(batch)


async def test_one_relay_at_a_time(engine, request) -> None:
    """Two processes' relays on one database: while one is publishing a batch, the other claims
    nothing (PostgreSQL: the relay lock, taken in the statement that reads the batch); every row
    goes out once, in order."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has one writer at a time: a second relay waits for BEGIN IMMEDIATE instead")
    clock = FrozenClock(NOW)
    sessions = session_factory(engine)
    order_id = await _create_and_urge(UnitOfWorkFactory(sessions, clock), suffix=f"-two-{request.node.callspec.id}")
    first, second = Held(), Recorder()
    first_relay, second_relay = OutboxRelay(sessions, first, clock), OutboxRelay(sessions, second, clock)
    publishing = asyncio.create_task(first_relay.drain_once())
    async with asyncio.timeout(10):
        await first.entered.wait()
    assert await second_relay.drain_once() == 0 and second.seen == []  # the first holds the lock
    first.release.set()
    async with asyncio.timeout(10):
        published = await publishing
    assert published == len(first.seen) > 0
    assert await second_relay.drain() == 0 and second.seen == []  # nothing left, nothing twice
    mine = [e.type for e in first.seen if e.key == f"work_order:{order_id}"]
    assert mine == ["WorkOrderCreated", "WorkOrderUrged", "WorkOrderUrged", "WorkOrderUrged"]


async def test_rolled_back_change_publishes_nothing(engine, request) -> None:
    clock = FrozenClock(NOW)
    sessions = session_factory(engine)
    uows = UnitOfWorkFactory(sessions, clock)
    async with uows() as uow:
        ref = await seed(uow.session, uow.now(), suffix=f"-rb-{request.node.callspec.id}")
        await uow.commit()
    async with uows() as uow:
        order = await svc.create_work_order(uow, ref.agent, NewWorkOrder(
            kind="repair", description="leak", customer_id=ref.customer, site_id=ref.site))
        # leaving without commit rolls back
    broker = Recorder()
    await OutboxRelay(sessions, broker, clock).drain()
    assert all(e.payload.get("number") != order.number for e in broker.seen)


async def test_memory_broker_delivers_in_order(engine, request) -> None:
    clock = FrozenClock(NOW)
    sessions = session_factory(engine)
    order_id = await _create_and_urge(UnitOfWorkFactory(sessions, clock), suffix=f"-mem-{request.node.callspec.id}")
    broker = MemoryBroker()
    got: list[str] = []

    async def subscriber(batch: list[Envelope]) -> None:
        got.extend(e.type for e in batch if e.key == f"work_order:{order_id}")

    broker.subscribe(subscriber)
    await OutboxRelay(sessions, broker, clock).drain()
    assert got == ["WorkOrderCreated", "WorkOrderUrged", "WorkOrderUrged", "WorkOrderUrged"]


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
async def test_redis_broker_stream_keeps_order(engine, redis_srv, request) -> None:
    clock = FrozenClock(NOW)
    sessions = session_factory(engine)
    order_id = await _create_and_urge(UnitOfWorkFactory(sessions, clock), suffix="-redis")
    redis = Redis.from_url(redis_srv.url)
    try:
        await redis.delete("test:events")
        await OutboxRelay(sessions, RedisStreamBroker(redis, stream="test:events"), clock).drain()
        entries = await redis.xrange("test:events")
        mine = [f for _, f in entries if f[b"key"] == f"work_order:{order_id}".encode()]
        assert [f[b"type"].decode() for f in mine] == [
            "WorkOrderCreated", "WorkOrderUrged", "WorkOrderUrged", "WorkOrderUrged"]
        assert json.loads(mine[0][b"payload"])["work_order_id"] == order_id
    finally:
        await redis.aclose()
