"""The benchmark's publisher: RATE messages a second for SECONDS, each stamped with its publish
time, through each system's own API: for our hub, committed-event envelopes on the Redis stream the
outbox relay writes (``AgentStateChanged`` of 50 agents in turn: each delta is one ~300-byte agent
card); ``channel_layer.group_send`` for Django Channels; ``AsyncRedisManager.emit`` for
python-socketio. Prints how many it sent.

    python -m bench.hub_publisher SYSTEM REDIS_URL RATE SECONDS
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

AGENTS = 50
PAD = "x" * 150  # brings the peers' payload to ~300 bytes, like an agent card


def _agent(i: int, now: float) -> dict[str, Any]:
    return {"id": 1000 + i, "interface": f"PJSIP/{3000 + i}", "name": f"b{now:.6f}", "user_id": None,
            "presence": "available", "reason": None, "activity": "on_call" if i % 2 else "idle",
            "call_id": None, "queues": ["hotline", "consultation"], "state": "on_call" if i % 2 else "available",
            "since": datetime.fromtimestamp(now, UTC).isoformat()}


async def fieldline(redis_url: str) -> Callable[[int], Awaitable[None]]:
    from redis.asyncio import Redis

    from backend.brokers.redis import RedisStreamBroker
    from backend.ports import Envelope

    broker = RedisStreamBroker(Redis.from_url(redis_url))

    async def send(n: int) -> None:
        now = time.time()
        payload = {"type": "AgentStateChanged", "agent": _agent(n % AGENTS, now), "previous_state": None}
        await broker.publish([Envelope(outbox_id=n, event_id=str(uuid.uuid4()), type="AgentStateChanged",
                                       key=f"agent:{n % AGENTS}", payload=payload,
                                       created_at=datetime.fromtimestamp(now, UTC))])

    return send


async def channels(redis_url: str) -> Callable[[int], Awaitable[None]]:
    from channels_redis.core import RedisChannelLayer

    layer = RedisChannelLayer(hosts=[redis_url])

    async def send(n: int) -> None:
        text = json.dumps({"ts": round(time.time(), 6), "queue": "hotline", "waiting": n % 7, "pad": PAD})
        await layer.group_send("wall", {"type": "stats.message", "text": text})

    return send


async def socketio(redis_url: str) -> Callable[[int], Awaitable[None]]:
    import socketio as sio

    manager = sio.AsyncRedisManager(redis_url, write_only=True)

    async def send(n: int) -> None:
        await manager.emit("stats", {"ts": round(time.time(), 6), "queue": "hotline", "waiting": n % 7,
                                     "pad": PAD})

    return send


async def broadcast(redis_url: str) -> Callable[[int], Awaitable[None]]:
    from redis.asyncio import Redis

    redis = Redis.from_url(redis_url)

    async def send(n: int) -> None:
        await redis.publish("wall", json.dumps({"ts": round(time.time(), 6), "queue": "hotline", "waiting": n % 7,
                                                "pad": PAD}))

    return send


async def main(system: str, redis_url: str, rate: float, seconds: float) -> None:
    send = await {"fieldline": fieldline, "channels": channels, "socketio": socketio,
                  "broadcast": broadcast}[system](redis_url)
    loop = asyncio.get_running_loop()
    start, started_at = loop.time(), time.time()  # the window starts now, not when this process started
    total = int(rate * seconds)
    for n in range(total):
        delay = start + n / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)  # the publisher's clock: a steady rate, not a wait for a result
        await send(n)
    print(json.dumps({"sent": total, "started_at": started_at, "seconds": round(loop.time() - start, 3)}), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])))
