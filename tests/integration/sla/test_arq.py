"""Scaled mode against a real Redis and PostgreSQL, arq in burst mode: a deferred job fires its
deadline; enqueueing twice is harmless; a job that runs early comes back when due; after the queue
is emptied the sweep restores every job; a Redis that may evict keys is refused."""

from __future__ import annotations

import warnings

import pytest
from arq.worker import Worker
from sqlalchemy import func
from sqlmodel import select

from backend.domain.sla import PolicyEntry
from backend.domain.work_orders import commands as c
from backend.domain.work_orders.creation import NewWorkOrder
from backend.persistence.repositories import sla as repo
from backend.persistence.tables_sla import SlaBreach, SlaEscalation
from backend.services import work_orders as svc
from backend.services.sla_policies import put_override
from tests.integration.sla.conftest import Scaled
from workers import sla
from workers.main import open_worker_runtime, worker_options

pytestmark = [pytest.mark.pg, pytest.mark.redis]


async def _dispatched_with_short_ack(s: Scaled, n: int = 1, seconds: int = 1) -> list[repo.Deadline]:
    """``n`` dispatched repairs whose acknowledge deadline falls due ``seconds`` from now (real time)."""
    async with s.uows() as uow:
        await put_override(uow, s.ref.supervisor, PolicyEntry("acknowledge", seconds=seconds))
        await uow.commit()
    deadlines = []
    for _ in range(n):
        async with s.uows() as uow:
            order = await svc.create_work_order(uow, s.ref.agent, NewWorkOrder(
                kind="repair", description="leak", customer_id=s.ref.customer, site_id=s.ref.site))
            await svc.act(uow, s.ref.agent, order.id, c.Dispatch(engineer_id=s.ref.eng_a.user_id))
            await uow.commit()
        async with s.uows() as uow:
            [row] = [d for d in await repo.deadlines_of(uow.session, order.id) if d.rule == "acknowledge"]
            deadlines.append(row)
    return deadlines


def _burst_worker(s: Scaled) -> Worker:
    options = worker_options(s.settings, "sla")
    options.update(burst=True, cron_jobs=None, poll_delay=0.05, handle_signals=False)
    return Worker(**options)


async def _run_burst(s: Scaled) -> Worker:
    """Run a burst worker until its queue is empty (deferred jobs included), then close it."""
    worker = _burst_worker(s)
    try:
        await worker.main()
    finally:
        with warnings.catch_warnings():  # arq 0.26 closes its pool with redis' deprecated close()
            warnings.simplefilter("ignore", DeprecationWarning)
            await worker.close()
    return worker


async def _count(s: Scaled, table: type) -> int:
    async with s.uows() as uow:
        return (await uow.session.exec(select(func.count()).select_from(table))).one()


async def test_a_deferred_job_fires_its_deadline_once(scaled: Scaled) -> None:
    [deadline] = await _dispatched_with_short_ack(scaled)
    pool = await sla.open_pool(scaled.settings)
    try:
        assert await sla.enqueue_upcoming(scaled.uows, pool, scaled.settings, only_new=True) == 1
        job_id = sla.fire_job_id(deadline.id, deadline.due_at)  # type: ignore[arg-type]
        assert job_id == f"sla:{deadline.id}:{int(deadline.due_at.timestamp())}"
        assert await scaled.redis.exists(f"arq:job:{job_id}")
        score = await scaled.redis.zscore(sla.SLA_QUEUE, job_id)
        assert score == pytest.approx(deadline.due_at.timestamp() * 1000, abs=1)  # deferred to the due time
        assert await _count(scaled, SlaBreach) == 0
        worker = await _run_burst(scaled)
        assert worker.jobs_complete == 2 and worker.jobs_failed == 0  # the warning and the firing
        assert await _count(scaled, SlaBreach) == 1 and await _count(scaled, SlaEscalation) == 1
        async with scaled.uows() as uow:
            [detected] = (await uow.session.exec(select(SlaBreach.detected_at))).all()
        assert detected >= deadline.due_at
    finally:
        await pool.aclose()


async def test_enqueueing_twice_is_harmless(scaled: Scaled) -> None:
    [deadline] = await _dispatched_with_short_ack(scaled)
    pool = await sla.open_pool(scaled.settings)
    try:
        assert await sla.enqueue_upcoming(scaled.uows, pool, scaled.settings, only_new=True) == 1
        assert await sla.enqueue_upcoming(scaled.uows, pool, scaled.settings, only_new=False) == 0
        again = await pool.enqueue_job("sla.fire", deadline.id, int(deadline.due_at.timestamp()),
                                       _job_id=sla.fire_job_id(deadline.id, deadline.due_at),  # type: ignore[arg-type]
                                       _queue_name=sla.SLA_QUEUE)
        assert again is None
        # A stray job for the same deadline under another id runs too, and changes nothing.
        await pool.enqueue_job("sla.fire", deadline.id, 0, _job_id="stray", _defer_until=deadline.due_at,
                               _queue_name=sla.SLA_QUEUE)
        worker = await _run_burst(scaled)
        assert worker.jobs_failed == 0
        assert await _count(scaled, SlaBreach) == 1 and await _count(scaled, SlaEscalation) == 1
    finally:
        await pool.aclose()


async def test_a_job_that_runs_early_comes_back_when_due(scaled: Scaled) -> None:
    [deadline] = await _dispatched_with_short_ack(scaled, seconds=2)
    pool = await sla.open_pool(scaled.settings)
    try:
        await pool.enqueue_job("sla.fire", deadline.id, 0, _job_id="early", _queue_name=sla.SLA_QUEUE)
        worker = await _run_burst(scaled)
        assert worker.jobs_retried == 1 and worker.jobs_complete == 1
        assert await _count(scaled, SlaBreach) == 1
    finally:
        await pool.aclose()


async def test_after_the_queue_is_emptied_the_sweep_restores_every_job(scaled: Scaled) -> None:
    deadlines = await _dispatched_with_short_ack(scaled, n=3, seconds=2)
    pool = await sla.open_pool(scaled.settings)
    try:
        assert await sla.enqueue_upcoming(scaled.uows, pool, scaled.settings, only_new=True) == 3
        await scaled.redis.flushdb()  # Redis lost everything (FLUSHALL on the SLA tests' own database)
        assert await scaled.redis.zcard(sla.SLA_QUEUE) == 0
        async with open_worker_runtime(scaled.settings, scaled.uows.clock) as runtime:
            swept = await sla.sweep_timers({"runtime": runtime, "redis": pool})
        assert swept["enqueued"] == 3  # the rows said "open": the jobs are back
        assert (await _run_burst(scaled)).jobs_failed == 0
        assert await _count(scaled, SlaBreach) == 3 == len(deadlines)
    finally:
        await pool.aclose()


async def test_a_redis_that_may_evict_keys_is_refused(scaled: Scaled) -> None:
    await sla.require_noeviction(scaled.redis)
    await scaled.redis.config_set("maxmemory-policy", "volatile-lru")
    try:
        with pytest.raises(sla.RedisEvictionPolicyError, match="volatile-lru"):
            await sla.require_noeviction(scaled.redis)
    finally:
        await scaled.redis.config_set("maxmemory-policy", "noeviction")


def test_jobs_travel_as_json_not_pickle() -> None:
    data = {"t": 1, "f": "sla.fire", "a": [5, 1767225600], "k": {}, "et": 1}
    raw = sla.serialize(data)
    assert raw.startswith(b"{") and sla.deserialize(raw) == data
    assert sla.serialize({"r": ValueError("x")}) == b'{"r":"ValueError(\'x\')"}'  # failures stay readable
