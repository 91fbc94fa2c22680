"""Fault injection with real processes: an arq worker subprocess SIGKILLed in the middle of a firing
(the timer still fires, exactly one breach and one escalation); Redis FLUSHALL with timers pending
(the sweep restores every job); the worker and the embedded app restarted (nothing forgotten).
A Redis server of their own (FLUSHALL touches nobody else), PostgreSQL, timeouts of seconds."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import func, text
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from backend.clock import SystemClock
from backend.domain.sla import PolicyEntry
from backend.domain.work_orders import commands as c
from backend.domain.work_orders.creation import NewWorkOrder
from backend.persistence.db import create_engine, session_factory
from backend.persistence.repositories import sla as repo
from backend.persistence.tables_sla import SlaBreach, SlaDeadline, SlaEscalation
from backend.services import work_orders as svc
from backend.services.sla_policies import put_override
from backend.services.uow import UnitOfWorkFactory
from backend.settings import Settings
from tests.integration.sla.conftest import Scaled
from tests.support.apptest import fresh_database, migrated_settings, open_app
from tests.support.factories import seed
from tests.support.servers import Redis as RedisServer
from tests.support.servers import redis_server
from tests.support.waiting import wait_until
from workers import sla

pytestmark = [pytest.mark.pg, pytest.mark.redis]
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def own_redis() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@pytest.fixture
def faulty_db(request: pytest.FixtureRequest, tmp_path: Path, own_redis: RedisServer) -> Iterator[Settings]:
    with fresh_database(request, "postgresql", tmp_path / "unused.db") as url:
        yield Settings(environment="test", database_url=url, redis_url=own_redis.url, log_json=False,
                       demo_data=False, simulator=False, sla_job_timeout_s=2, sla_sweep_interval_s=1)


@pytest.fixture
async def faulty(faulty_db: Settings) -> AsyncIterator[Scaled]:
    settings = faulty_db
    engine = create_engine(settings.database_url)
    redis = Redis.from_url(settings.redis_url or "")
    await redis.flushall()
    uows = UnitOfWorkFactory(session_factory(engine), SystemClock(), calendar=settings.calendar)
    async with uows() as uow:
        ref = await seed(uow.session, uow.now())
        await uow.commit()
    try:
        yield Scaled(settings, uows, ref, redis)
    finally:
        await redis.aclose()
        await engine.dispose()


@contextmanager
def worker_process(settings: Settings, log: Path, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m workers.main sla`` with the settings in its environment (as an operator runs it)."""
    variables = {**os.environ, "FIELDLINE_ENVIRONMENT": "test", "FIELDLINE_DATABASE_URL": settings.database_url,
                 "FIELDLINE_REDIS_URL": settings.redis_url or "", "FIELDLINE_LOG_JSON": "false",
                 "FIELDLINE_SLA_JOB_TIMEOUT_S": str(settings.sla_job_timeout_s),
                 "FIELDLINE_SLA_SWEEP_INTERVAL_S": str(settings.sla_sweep_interval_s), **env}
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "workers.main", "sla"], cwd=ROOT, env=variables,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def _orders_due_in(s: Scaled, n: int, seconds: int) -> list[int]:
    """``n`` dispatched repairs whose acknowledge deadline falls due in ``seconds`` (real time)."""
    async with s.uows() as uow:
        await put_override(uow, s.ref.supervisor, PolicyEntry("acknowledge", seconds=seconds))
        await uow.commit()
    ids = []
    async with s.uows() as uow:
        for _ in range(n):
            order = await svc.create_work_order(uow, s.ref.agent, NewWorkOrder(
                kind="repair", description="leak", customer_id=s.ref.customer, site_id=s.ref.site))
            await svc.act(uow, s.ref.agent, order.id, c.Dispatch(engineer_id=s.ref.eng_a.user_id))
            ids.append(order.id)
        await uow.commit()
    return ids


async def _count(s: Scaled, table: type, *where: object) -> int:
    async with s.uows() as uow:
        return (await uow.session.exec(select(func.count()).select_from(table).where(*where))).one()  # type: ignore[arg-type]


async def _ack_deadline(s: Scaled, order_id: int) -> repo.Deadline:
    async with s.uows() as uow:
        [row] = [d for d in await repo.deadlines_of(uow.session, order_id) if d.rule == "acknowledge"]
        return row


async def _enqueue(s: Scaled) -> int:
    pool = await sla.open_pool(s.settings)
    try:
        return await sla.enqueue_upcoming(s.uows, pool, s.settings, only_new=True)
    finally:
        await pool.aclose()


async def test_worker_killed_mid_job_the_timer_still_fires_exactly_once(faulty: Scaled, tmp_path: Path) -> None:
    faulty.settings = faulty.settings.model_copy(update={"sla_job_timeout_s": 4})  # the kill lands inside it
    [order_id] = await _orders_due_in(faulty, 1, seconds=1)
    deadline = await _ack_deadline(faulty, order_id)
    assert await _enqueue(faulty) == 1
    job = sla.fire_job_id(deadline.id, deadline.due_at)  # type: ignore[arg-type]
    engine = create_engine(faulty.settings.database_url)
    try:
        async with engine.connect() as lock:
            # Hold the deadline row: the worker's firing blocks inside its transaction, mid-job.
            await lock.execute(text("SELECT id FROM sla_deadline WHERE id = :id FOR UPDATE"), {"id": deadline.id})
            with worker_process(faulty.settings, tmp_path / "worker1.log") as proc:
                await wait_until(lambda: faulty.redis.exists(f"arq:in-progress:{job}"), timeout=30,
                                 interval=0.02, message="the worker started the job")
                await wait_until(lambda: _blocked_on_lock(engine), timeout=30, interval=0.02,
                                 message="the job is waiting inside its transaction")
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=10)
            await lock.rollback()
    finally:
        await engine.dispose()
    assert await _count(faulty, SlaBreach) == 0
    assert await faulty.redis.exists(f"arq:in-progress:{job}")  # the dead job still holds its place
    with worker_process(faulty.settings, tmp_path / "worker2.log"):
        await wait_until(lambda: _count(faulty, SlaBreach), timeout=60, interval=0.1,
                         message="the deadline fired after the kill")
        # Let the arq retry (after the in-progress key expires) run too: it must change nothing.
        await wait_until(lambda: _gone(faulty, job), timeout=60, interval=0.1, message="the job left the queue")
    assert await _count(faulty, SlaBreach) == 1
    assert await _count(faulty, SlaEscalation) == 1


async def _blocked_on_lock(engine: AsyncEngine) -> bool:
    # A connection of its own: pg_stat_activity is frozen for the length of a transaction.
    async with engine.connect() as conn:
        result = await conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                         "AND query ILIKE 'UPDATE sla_deadline%'"))
        return result.scalar_one() > 0


async def _gone(s: Scaled, job: str) -> bool:
    return await s.redis.zscore(sla.SLA_QUEUE, job) is None


async def test_flushall_with_timers_pending_the_sweep_restores_them_all(faulty: Scaled, tmp_path: Path) -> None:
    ids = await _orders_due_in(faulty, 12, seconds=6)
    with worker_process(faulty.settings, tmp_path / "worker.log"):
        assert await _enqueue(faulty) == 12
        assert await faulty.redis.zcard(sla.SLA_QUEUE) >= 12
        await faulty.redis.flushall()  # every job, the queue and the in-progress keys are gone
        deadline = await _ack_deadline(faulty, ids[0])
        job = f"arq:job:{sla.fire_job_id(deadline.id, deadline.due_at)}"  # type: ignore[arg-type]
        await wait_until(lambda: faulty.redis.exists(job), timeout=30, interval=0.05,
                         message="the sweep re-created the jobs")
        await wait_until(lambda: _count_is(faulty, SlaBreach, 12), timeout=60, interval=0.1,
                         message="all twelve deadlines fired")
    assert await _count(faulty, SlaBreach) == 12 and await _count(faulty, SlaEscalation) == 12
    assert await _count(faulty, SlaDeadline, SlaDeadline.state == "open", SlaDeadline.rule == "acknowledge") == 0


async def _count_is(s: Scaled, table: type, n: int) -> bool:
    return await _count(s, table) >= n


async def test_worker_restarted_after_the_due_time_forgets_nothing(faulty: Scaled, tmp_path: Path) -> None:
    with worker_process(faulty.settings, tmp_path / "worker1.log") as proc:
        await wait_until(lambda: faulty.redis.exists(f"{sla.SLA_QUEUE}:health-check"), timeout=30, interval=0.05,
                         message="the worker is up")
        ids = await _orders_due_in(faulty, 5, seconds=2)
        # The worker's own start-up sweep may race us and queue some of them first (only_new: none twice).
        await _enqueue(faulty)
        proc.send_signal(signal.SIGTERM)  # stopped with its timers pending
        proc.wait(timeout=15)
    last = await _ack_deadline(faulty, ids[-1])
    await wait_until(lambda: SystemClock().now() > last.due_at, timeout=10, interval=0.05, message="due")
    assert await _count(faulty, SlaBreach) == 0  # nobody was running
    with worker_process(faulty.settings, tmp_path / "worker2.log"):
        await wait_until(lambda: _count_is(faulty, SlaBreach, 5), timeout=60, interval=0.1,
                         message="all five fired after the restart")
    assert await _count(faulty, SlaBreach) == 5 and await _count(faulty, SlaEscalation) == 5


@pytest.fixture(params=["sqlite", "postgresql"])
def app_settings(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Settings]:
    with migrated_settings(request, settings.model_copy(update={"sla_recheck_s": 0.05})) as s:
        yield s


def test_embedded_app_restarted_forgets_nothing(app_settings: Settings) -> None:
    with open_app(app_settings) as h:
        ref = h.seed()
        ids = []
        for _ in range(3):
            response = h.client.post("/api/console/v1/work-orders", headers=h.bearer(ref.agent), json={
                "kind": "repair", "description": "leak", "customer_id": ref.customer, "site_id": ref.site})
            ids.append(response.json()["id"])
            h.act(ref.agent, ids[-1], c.Dispatch(engineer_id=ref.eng_a.user_id))
        start = h.clock.now()
    # The app is down for ten minutes: every acknowledge deadline passes unseen.
    with open_app(app_settings, start=start + timedelta(minutes=10)) as h:
        async def breached() -> bool:
            async with h.client.app.state.sessions() as session:
                return (await session.exec(select(func.count()).select_from(SlaBreach))).one() >= 3

        assert h.client.portal is not None
        h.client.portal.call(lambda: wait_until(breached, timeout=10, message="the loop fired after the restart"))
        breaches = h.rows(SlaBreach)
        assert sorted(b.work_order_id for b in breaches) == ids
        assert {b.rule for b in breaches} == {"acknowledge"}
        assert all(b.detected_at == start + timedelta(minutes=10) for b in breaches)
