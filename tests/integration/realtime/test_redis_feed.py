"""The hub's feed in scaled mode against a real Redis: committed events arrive in stream order; a
position the stream no longer holds (trimmed before it was read, or Redis lost its data) is a gap;
after a dropped connection the feed checks for one, reloads the hub through ``on_gap`` and goes on."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from redis.asyncio import Redis

from backend.brokers.redis import RedisStreamBroker
from backend.ports import Envelope
from realtime.feeds import RedisFeed
from tests.support.waiting import wait_until

pytestmark = pytest.mark.redis
DB = 7  # a database of the session's Redis no other test uses


class Accepting:
    """Stands in for the hub: records what it is given, in order."""

    def __init__(self) -> None:
        self.events: list[str] = []

    def accept(self, batch: list[Envelope]) -> None:
        self.events += [e.event_id for e in batch]


def envelope(n: int) -> Envelope:
    return Envelope(outbox_id=n, event_id=f"e{n}", type="CallJoined", key="call:1", payload={"n": n},
                    created_at=datetime(2026, 3, 2, 1, 0, tzinfo=UTC))


@pytest.fixture
async def redis(redis_srv: Any) -> AsyncIterator[Redis]:
    client = Redis.from_url(f"redis://127.0.0.1:{redis_srv.port}/{DB}")
    yield client
    await client.aclose()


@pytest.fixture
def stream() -> str:
    return f"test-events:{uuid.uuid4().hex}"


async def stopped(task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_events_arrive_in_stream_order(redis: Redis, stream: str) -> None:
    broker, hub = RedisStreamBroker(redis, stream), Accepting()
    await broker.publish([envelope(1), envelope(2)])
    feed = RedisFeed(redis, stream, block_ms=50)  # from the start: it reads what is already there
    task = asyncio.create_task(feed.run(hub, on_gap=_no_gap))  # type: ignore[arg-type]
    for n in range(3, 9, 2):
        await broker.publish([envelope(n), envelope(n + 1)])
    await wait_until(lambda: len(hub.events) == 8, message="8 events")
    assert hub.events == [f"e{n}" for n in range(1, 9)]
    await stopped(task)


async def _no_gap() -> str:
    raise AssertionError("no gap expected")


async def test_a_trimmed_or_lost_stream_is_a_gap(redis: Redis, stream: str) -> None:
    broker = RedisStreamBroker(redis, stream)
    await broker.publish([envelope(1), envelope(2), envelope(3)])
    feed = RedisFeed(redis, stream)
    entries = await redis.xrange(stream)
    feed.last = entries[0][0].decode()  # read e1 only
    assert not await feed._gap()
    await redis.xtrim(stream, maxlen=1, approximate=False)  # e2 went before the feed read it
    assert await feed._gap()
    feed.last = entries[-1][0].decode()  # having read everything, a trim loses nothing
    assert not await feed._gap()
    await redis.delete(stream)  # Redis lost its data
    assert await feed._gap()


async def test_after_a_dropped_connection_a_gap_reloads_the_hub(redis_srv: Any, redis: Redis, stream: str) -> None:
    broker, hub = RedisStreamBroker(redis, stream), Accepting()
    name = f"feed-{uuid.uuid4().hex[:8]}"
    feed_redis = Redis.from_url(f"redis://127.0.0.1:{redis_srv.port}/{DB}", client_name=name)
    feed = RedisFeed(feed_redis, stream, block_ms=50)
    reloads: list[str] = []

    async def on_gap() -> str:
        position = await feed.position()
        reloads.append(position)
        return position

    task = asyncio.create_task(feed.run(hub, on_gap))  # type: ignore[arg-type]
    await broker.publish([envelope(1)])
    await wait_until(lambda: hub.events == ["e1"], message="e1")
    clients = await redis.client_list()
    [feed_id] = [c["id"] for c in clients if c.get("name") == name]
    # Atomically: the stream is lost and the feed's connection dropped (as when Redis restarts empty).
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(stream)
        pipe.client_kill_filter(_id=feed_id)
        await pipe.execute()
    await wait_until(lambda: reloads == ["0-0"], timeout=10, message="the hub reloaded after the gap")
    await broker.publish([envelope(2)])
    await wait_until(lambda: hub.events == ["e1", "e2"], timeout=10, message="e2 after the reload")
    await stopped(task)
    await feed_redis.aclose()


class FailingOnce(Accepting):
    """A hub whose first batch raises (a bug in applying an event)."""

    def accept(self, batch: list[Envelope]) -> None:
        if not self.events and not getattr(self, "failed", False):
            self.failed = True
            raise AttributeError("a bug")
        super().accept(batch)


async def test_a_batch_the_hub_cannot_apply_reloads_it_and_the_feed_goes_on(redis: Redis, stream: str) -> None:
    broker, hub = RedisStreamBroker(redis, stream), FailingOnce()
    feed = RedisFeed(redis, stream, block_ms=50)
    reloads: list[str] = []

    async def on_gap() -> str:  # the hub reloads from the database, which has the failed batch's effect
        position = await feed.position()
        reloads.append(position)
        if len(reloads) == 1:
            raise ConnectionRefusedError("the database is away for a moment")  # retried
        return position

    task = asyncio.create_task(feed.run(hub, on_gap))  # type: ignore[arg-type]
    await broker.publish([envelope(1)])
    await wait_until(lambda: len(reloads) == 2, timeout=10, message="the reload, retried after it failed")
    await broker.publish([envelope(2)])
    await wait_until(lambda: hub.events == ["e2"], message="e2, after the reload")
    assert not task.done()
    await stopped(task)


async def test_the_memory_feed_reloads_the_hub_after_a_batch_it_cannot_apply() -> None:
    from backend.brokers.memory import MemoryBroker
    from realtime.feeds import MemoryFeed

    broker, hub = MemoryBroker(), FailingOnce()
    feed = MemoryFeed(broker)
    reloads: list[int] = []

    async def reload() -> None:
        reloads.append(1)
        if len(reloads) == 1:
            raise ConnectionRefusedError("the database is away for a moment")  # retried

    task = asyncio.create_task(feed.run(hub, reload))  # type: ignore[arg-type]
    await broker.publish([envelope(1)])
    await wait_until(lambda: reloads == [1, 1], timeout=10, message="the reload, retried after it failed")
    await broker.publish([envelope(2)])
    await wait_until(lambda: hub.events == ["e2"], message="e2, after the reload")
    assert not task.done()
    await stopped(task)
