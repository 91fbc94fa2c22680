"""Redis broker for scaled mode: one stream holds every committed event in outbox order, so any
number of hub and worker processes read the same sequence (XREAD from their last id)."""

from __future__ import annotations

import json

from redis.asyncio import Redis

from backend.ports import Envelope

STREAM = "fieldline:events"


class RedisStreamBroker:
    def __init__(self, redis: Redis, stream: str = STREAM, maxlen: int = 100_000) -> None:
        self.redis = redis
        self.stream = stream
        self.maxlen = maxlen

    async def publish(self, batch: list[Envelope]) -> None:
        pipe = self.redis.pipeline(transaction=True)
        for env in batch:
            pipe.xadd(self.stream, {
                "event_id": env.event_id, "type": env.type, "key": env.key, "outbox_id": env.outbox_id,
                "created_at": env.created_at.isoformat(), "payload": json.dumps(env.payload),
            }, maxlen=self.maxlen, approximate=True)
        await pipe.execute()
