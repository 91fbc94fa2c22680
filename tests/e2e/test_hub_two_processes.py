"""Two real hub processes behind no load balancer, sharing one PostgreSQL and one Redis: an event
ingested by one reaches a WebSocket client of the other, in order; both compute the same board;
each has its own epoch."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import websockets

from realtime.protocol import ClientMirror
from realtime.telephony.webhook import signature
from tests.integration.realtime.processes import WEBHOOK_SECRET, Server, base_env, prepare, serve
from tests.support.servers import Postgres, Redis, free_port

pytestmark = pytest.mark.e2e


@pytest.fixture
def pair(pg: Postgres, redis_srv: Redis, tmp_path: Path) -> Iterator[tuple[Server, Server]]:
    database = f"hub2p_{uuid.uuid4().hex[:8]}"
    pg.psql(f"CREATE DATABASE {database}")
    redis_url = f"redis://127.0.0.1:{redis_srv.port}/5"
    redis.Redis.from_url(redis_url).flushdb()
    env = base_env(pg.url(database), FIELDLINE_REDIS_URL=redis_url)
    prepare(env)
    try:
        with serve(env, free_port(), tmp_path / "a") as a, serve(env, free_port(), tmp_path / "b") as b:
            yield a, b
    finally:
        pg.psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def login(server: Server) -> str:
    response = httpx.post(f"{server.url}/api/auth/login", json={"username": "supervisor",
                                                                "password": "supervisor-demo"})
    return response.json()["access_token"]


def post_events(server: Server, events: list[dict[str, Any]]) -> dict[str, Any]:
    body = json.dumps({"events": events}).encode()
    ts = str(int(datetime.now(UTC).timestamp()))
    response = httpx.post(f"{server.url}/api/telephony/v1/events", content=body, headers={
        "Content-Type": "application/json", "X-Fieldline-Timestamp": ts,
        "X-Fieldline-Signature": signature(WEBHOOK_SECRET, ts, body)})
    assert response.status_code == 200, response.text
    return response.json()


async def subscribe(url: str, token: str, *channels: str) -> tuple[Any, ClientMirror, dict[str, Any]]:
    ws = await websockets.connect(url)
    mirror = ClientMirror()
    await ws.send(json.dumps({"op": "auth", "token": token}))
    hello = mirror.feed(await ws.recv())[0]
    for channel in channels:
        await ws.send(json.dumps({"op": "subscribe", "channel": channel}))
    while not all(c in mirror.channels for c in channels):
        mirror.feed(await asyncio.wait_for(ws.recv(), 10))
    return ws, mirror, hello


async def until(ws: Any, mirror: ClientMirror, predicate: Any, timeout: float = 15.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            mirror.feed(await ws.recv())


def test_an_event_ingested_by_one_reaches_a_client_of_the_other_in_order(pair: tuple[Server, Server]) -> None:
    a, b = pair
    token = login(a)

    async def scenario() -> None:
        ws_b, mirror_b, hello_b = await subscribe(b.ws_url, token, "queue:hotline", "queues")
        ws_a, mirror_a, hello_a = await subscribe(a.ws_url, token, "queues")
        assert hello_a["epoch"] != hello_b["epoch"]  # one epoch per process
        start = datetime.now(UTC) - timedelta(seconds=30)
        order: list[str] = []

        def seen() -> list[str]:
            for call_id in mirror_b.state("queue:hotline")["waiting"]:
                if call_id not in order:
                    order.append(call_id)
            return order

        for i in range(5):  # five separate commits on A, each a new caller
            post_events(a, [{"id": f"e{i}", "type": "call.joined", "at": (start + timedelta(seconds=i)).isoformat(),
                             "call_id": f"k{i}", "queue": "hotline", "caller": f"1390000000{i}"}])
            await until(ws_b, mirror_b, lambda i=i: f"k{i}" in seen())
        assert order == [f"k{i}" for i in range(5)]
        post_events(a, [{"id": "x1", "type": "call.abandoned", "at": datetime.now(UTC).isoformat(), "call_id": "k0"}])

        def tile(mirror: ClientMirror) -> dict[str, Any]:
            return mirror.state("queues")["queues"]["hotline"]

        def done(mirror: ClientMirror) -> bool:
            return tile(mirror)["windows"]["today"]["abandoned"] == 1

        await until(ws_b, mirror_b, lambda: done(mirror_b))
        await until(ws_a, mirror_a, lambda: done(mirror_a))
        assert tile(mirror_a)["waiting"] == tile(mirror_b)["waiting"] == 4
        assert tile(mirror_a)["windows"]["today"] == tile(mirror_b)["windows"]["today"]  # the same board
        await ws_a.close()
        await ws_b.close()

    asyncio.run(scenario())
