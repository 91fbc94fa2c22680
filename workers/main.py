"""The arq workers of scaled mode. Two queues with their own workers, because arq holds a killed job
for (the worker's largest job timeout + 10 s): the SLA worker (short timeout, the sweep cron) must
not share it with long report jobs. ``python -m workers.main [sla|jobs|all]`` builds the settings
once and runs the worker(s) in one process; ``arq workers.main.SlaWorkerSettings`` works too."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from arq import cron
from arq.connections import RedisSettings
from arq.worker import Function, Worker, func
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from backend.brokers.redis import RedisStreamBroker
from backend.clock import Clock, SystemClock
from backend.observability import configure_logging
from backend.persistence.db import create_engine, session_factory
from backend.relay import OutboxRelay
from backend.services.uow import UnitOfWorkFactory
from backend.settings import Settings
from workers import reports, sla
from workers.push import PUSH_CRON_JOBS, PUSH_FUNCTIONS, push_shutdown, push_startup

log = logging.getLogger("fieldline.workers")

SLA_FUNCTIONS: list[Function] = [func(sla.fire, name="sla.fire"), func(sla.warn, name="sla.warn")]
REPORT_FUNCTIONS: list[Function] = [func(reports.generate, name="reports.generate", max_tries=1)]


@dataclass
class WorkerRuntime:
    """What jobs reach through ``ctx["runtime"]``: the same pieces as the app's runtime."""

    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    uows: UnitOfWorkFactory
    relay: OutboxRelay
    redis: Redis


@contextlib.asynccontextmanager
async def open_worker_runtime(settings: Settings, clock: Clock) -> AsyncIterator[WorkerRuntime]:
    if not settings.redis_url:
        raise RuntimeError("the arq workers run in scaled mode: set FIELDLINE_REDIS_URL")
    engine = create_engine(settings.database_url, pool_size=settings.database_pool_size)
    redis = Redis.from_url(settings.redis_url)
    sessions = session_factory(engine)
    relay = OutboxRelay(sessions, RedisStreamBroker(redis), clock)
    uows = UnitOfWorkFactory(sessions, clock, on_commit=relay.after_commit, calendar=settings.calendar)
    task = asyncio.create_task(relay.run(), name="outbox-relay")  # breaches reach supervisors promptly
    try:
        yield WorkerRuntime(settings, clock, engine, sessions, uows, relay, redis)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await redis.aclose()
        await engine.dispose()


async def startup(ctx: dict[str, Any]) -> None:
    settings = ctx.get("settings") or Settings()  # built here when started by the arq CLI
    await sla.require_noeviction(ctx["redis"])
    stack = contextlib.AsyncExitStack()
    ctx["runtime"] = await stack.enter_async_context(open_worker_runtime(settings, SystemClock()))
    ctx["stack"] = stack


async def shutdown(ctx: dict[str, Any]) -> None:
    stack = ctx.pop("stack", None)
    if stack is not None:
        await stack.aclose()


async def jobs_startup(ctx: dict[str, Any]) -> None:
    """The jobs queue (reports, push delivery): the shared runtime, then the FCM sender."""
    await startup(ctx)
    ctx["settings"] = ctx["runtime"].settings
    ctx["uows"] = ctx["runtime"].uows
    await push_startup(ctx)


async def jobs_shutdown(ctx: dict[str, Any]) -> None:
    await push_shutdown(ctx)
    await shutdown(ctx)


async def sweep(ctx: dict[str, Any]) -> dict[str, int]:
    """``sla.sweep`` (cron): timers first, then a job for any queued report."""
    result = await sla.sweep_timers(ctx)
    result["reports"] = await reports.enqueue_queued(ctx["runtime"].uows, ctx["redis"])
    return result


def sweep_schedule(interval_s: int) -> dict[str, Any]:
    """arq cron fields for "every ``interval_s`` seconds" (snapped to the minute's grid)."""
    if interval_s < 60:
        return {"second": set(range(0, 60, interval_s))}
    return {"second": {0}, "minute": set(range(0, 60, max(1, interval_s // 60)))}


class SlaWorkerSettings:
    queue_name = sla.SLA_QUEUE
    functions = [*SLA_FUNCTIONS]
    cron_jobs = [cron(sweep, name="sla.sweep", run_at_startup=True, unique=True, **sweep_schedule(30))]
    job_timeout = 20
    keep_result = 0  # nothing reads SLA results; a failed job can then be re-enqueued by the sweep
    poll_delay = 0.25
    max_jobs = 20
    job_serializer = staticmethod(sla.serialize)
    job_deserializer = staticmethod(sla.deserialize)
    on_startup = staticmethod(startup)
    on_shutdown = staticmethod(shutdown)


class WorkerSettings:
    queue_name = sla.JOBS_QUEUE
    functions = [*REPORT_FUNCTIONS, *PUSH_FUNCTIONS]
    cron_jobs = [*PUSH_CRON_JOBS]
    job_timeout = 600
    keep_result = 3600
    job_serializer = staticmethod(sla.serialize)
    job_deserializer = staticmethod(sla.deserialize)
    on_startup = staticmethod(jobs_startup)
    on_shutdown = staticmethod(jobs_shutdown)


def worker_options(settings: Settings, queue: str) -> dict[str, Any]:
    """The Worker keyword arguments for ``queue`` ("sla" or "jobs"), timings from ``settings``."""
    base = SlaWorkerSettings if queue == "sla" else WorkerSettings
    options = {k: getattr(base, k) for k in vars(base) if not k.startswith("_")}
    options["redis_settings"] = RedisSettings.from_dsn(settings.redis_url or "")
    options["ctx"] = {"settings": settings}
    if queue == "sla":
        options["job_timeout"] = settings.sla_job_timeout_s
        options["cron_jobs"] = [cron(sweep, name="sla.sweep", run_at_startup=True, unique=True,
                                     timeout=settings.sla_job_timeout_s,
                                     **sweep_schedule(settings.sla_sweep_interval_s))]
    return options


async def run(settings: Settings, queues: list[str]) -> None:
    workers = [Worker(**worker_options(settings, q), handle_signals=False) for q in queues]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(w.async_run()) for w in workers]
    stopper = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not stopper and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
    finally:
        for task in [*tasks, stopper]:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for worker in workers:
            await worker.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers.main")
    parser.add_argument("queue", nargs="?", default="all", choices=["sla", "jobs", "all"])
    queue = parser.parse_args(argv).queue
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    asyncio.run(run(settings, ["sla", "jobs"] if queue == "all" else [queue]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
