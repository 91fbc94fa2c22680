"""Report jobs on arq (scaled mode): ``reports.generate`` runs one report job row; the enqueuer gives
each queued row a job with a deterministic id (``report:<id>``), so a repeat is harmless."""

from __future__ import annotations

from typing import Any

from arq.connections import ArqRedis

from backend.services import reports
from backend.services.uow import UnitOfWorkFactory
from workers.sla import JOBS_QUEUE


async def generate(ctx: dict[str, Any], report_job_id: int) -> bool:
    runtime = ctx["runtime"]
    return await reports.run_next(runtime.uows, runtime.settings, report_job_id)


async def enqueue_queued(uows: UnitOfWorkFactory, pool: ArqRedis, limit: int = 100) -> int:
    """A job for every queued report (a row stays queued until a worker claims it)."""
    ids = await reports.queued_ids(uows, limit)
    created = 0
    for job_id in ids:
        job = await pool.enqueue_job("reports.generate", job_id, _job_id=f"report:{job_id}", _queue_name=JOBS_QUEUE)
        created += job is not None
    return created
