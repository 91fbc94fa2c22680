"""arq plumbing and jobs of the service rules (scaled mode): the queues, the JSON job serializer, the
Redis eviction check, the enqueuer that turns upcoming deadline rows into deferred jobs with
deterministic ids, and the jobs ``sla.fire``, ``sla.warn`` and the timer half of the ``sla.sweep`` cron."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from arq import Retry
from arq.connections import ArqRedis, RedisSettings, create_pool
from redis.asyncio import Redis
from redis.exceptions import ResponseError

from backend.services import sla_timers
from backend.services.sla_firing import Outcome, fire_one, warn_one
from backend.services.sla_timers import run_pass
from backend.services.uow import UnitOfWorkFactory
from backend.settings import Settings

log = logging.getLogger(__name__)

SLA_QUEUE = "fieldline:sla"  # short jobs, short timeout: a killed worker's job runs again quickly
JOBS_QUEUE = "fieldline:jobs"  # longer jobs (reports; pushes join here)


def serialize(data: dict[str, Any]) -> bytes:
    """JSON, never pickle: whoever can write to Redis must not be able to run code in a worker."""
    return json.dumps(data, default=repr, separators=(",", ":")).encode()


def deserialize(raw: bytes) -> dict[str, Any]:
    return json.loads(raw)


class RedisEvictionPolicyError(RuntimeError):
    pass


async def require_noeviction(redis: Redis) -> None:
    """Refuse a Redis that may evict keys: arq's job payloads have TTLs and would go first."""
    try:
        policy = (await redis.config_get("maxmemory-policy")).get("maxmemory-policy")
    except ResponseError as exc:
        raise RedisEvictionPolicyError(
            f"cannot read Redis maxmemory-policy ({exc}); Fieldline needs 'noeviction' and must be able "
            "to check it (allow CONFIG GET)") from exc
    if policy != "noeviction":
        raise RedisEvictionPolicyError(
            f"Redis maxmemory-policy is {policy!r}: Fieldline refuses to start, because queued jobs could be "
            "evicted. Set `maxmemory-policy noeviction` in redis.conf (or CONFIG SET maxmemory-policy noeviction).")


async def open_pool(settings: Settings, queue: str = SLA_QUEUE) -> ArqRedis:
    assert settings.redis_url, "scaled mode needs FIELDLINE_REDIS_URL"
    return await create_pool(RedisSettings.from_dsn(settings.redis_url), job_serializer=serialize,
                             job_deserializer=deserialize, default_queue_name=queue)


def lookahead(settings: Settings) -> timedelta:
    """How far ahead deadlines get an arq job: beyond two sweeps, so a job always exists in time."""
    return timedelta(seconds=2 * settings.sla_sweep_interval_s + 10)


def backstop(settings: Settings) -> timedelta:
    """A deadline still open this long after its due time has lost its job (a flushed Redis, a job
    stuck behind a killed worker's in-progress key): the sweep fires it itself."""
    return timedelta(seconds=settings.sla_job_timeout_s + 10 + settings.sla_sweep_interval_s)


def fire_job_id(deadline_id: int, due_at: datetime) -> str:
    return f"sla:{deadline_id}:{int(due_at.timestamp())}"


def warn_job_id(deadline_id: int, warn_at: datetime) -> str:
    return f"sla-warn:{deadline_id}:{int(warn_at.timestamp())}"


async def enqueue_upcoming(uows: UnitOfWorkFactory, pool: ArqRedis, settings: Settings, *, only_new: bool,
                           limit: int = 5000) -> int:
    """Deferred jobs for the open deadlines due within the lookahead. Ids are deterministic, so a job
    that already exists is left alone (arq returns None): enqueueing twice is harmless."""
    now = uows.clock.now()
    rows = await sla_timers.upcoming(uows, now + lookahead(settings), only_new=only_new, limit=limit)
    created = 0
    for deadline_id, due_at, warn_at, warned in rows:
        job = await pool.enqueue_job("sla.fire", deadline_id, int(due_at.timestamp()),
                                     _job_id=fire_job_id(deadline_id, due_at), _defer_until=due_at,
                                     _queue_name=SLA_QUEUE)
        created += job is not None
        if not warned and now < due_at:  # a warning is pointless once the deadline is due
            await pool.enqueue_job("sla.warn", deadline_id, _job_id=warn_job_id(deadline_id, warn_at),
                                   _defer_until=max(warn_at, now), _queue_name=SLA_QUEUE)
    await sla_timers.mark_enqueued(uows, [r[0] for r in rows], now)
    return created


# --- jobs (ctx["runtime"] is built in workers.main on start-up) -----------------------------------

async def fire(ctx: dict[str, Any], deadline_id: int, due_epoch: int) -> str:
    runtime = ctx["runtime"]
    fired = await fire_one(runtime.uows, deadline_id)
    if fired.outcome is Outcome.NOT_DUE and fired.due_at is not None:
        # This worker's clock is behind the enqueuer's, or the deadline moved: come back when due.
        remaining = (fired.due_at - runtime.clock.now()).total_seconds()
        if remaining <= lookahead(runtime.settings).total_seconds():
            raise Retry(defer=max(remaining, 0.05))
    return str(fired.outcome)


async def warn(ctx: dict[str, Any], deadline_id: int) -> bool:
    return await warn_one(ctx["runtime"].uows, deadline_id)


async def sweep_timers(ctx: dict[str, Any]) -> dict[str, int]:
    """Make every timer fire at all: recreate the jobs of upcoming deadlines (after a FLUSHALL they
    are gone), fire what is overdue beyond the backstop, warn, advance the daily clearing."""
    runtime = ctx["runtime"]
    settings: Settings = runtime.settings
    enqueued = await enqueue_upcoming(runtime.uows, ctx["redis"], settings, only_new=False)
    result = await run_pass(runtime.uows, settings.daily_clearing_at, overdue_by=backstop(settings))
    return {"enqueued": enqueued, "fired": len(result.fired), "breached": result.breached, "warned": result.warned,
            "cleared": result.cleared}
