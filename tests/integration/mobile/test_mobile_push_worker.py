"""Scaled mode: push delivery in the arq "jobs" worker (``workers.main.WorkerSettings``, its own
start-up hooks), on a real PostgreSQL and Redis, arq in burst mode, through the real firebase-admin
SDK against the FCM stand-in: a dispatch push written with the change leaves the worker once."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from arq.worker import Worker
from redis.asyncio import Redis
from sqlmodel import select

from backend.clock import SystemClock
from backend.domain.work_orders import commands as c
from backend.domain.work_orders.creation import NewWorkOrder
from backend.persistence.db import create_engine, session_factory
from backend.persistence.tables_mobile import PushNotification
from backend.services import devices
from backend.services import work_orders as svc
from backend.services.uow import UnitOfWorkFactory
from backend.settings import Settings
from tests.integration.mobile.fcm_standin import Standin
from tests.support.apptest import fresh_database
from tests.support.factories import Ref, seed
from workers import main as worker_main
from workers import sla

pytestmark = [pytest.mark.pg, pytest.mark.redis]
REDIS_DB = 8  # this module's own Redis database: FLUSHDB here touches nobody else's keys
TOKEN = "token-a-phone-worker-0001"


@pytest.fixture
def scaled_settings(request: pytest.FixtureRequest, tmp_path: Path, redis_srv: object,
                    fcm: Standin) -> Iterator[Settings]:
    with fresh_database(request, "postgresql", tmp_path / "unused.db") as url:
        yield Settings(environment="test", database_url=url, redis_url=f"{redis_srv.url[:-2]}/{REDIS_DB}",  # type: ignore[attr-defined]
                       demo_data=False, simulator=False, log_json=False,
                       fcm_credentials_file=fcm.service_account(tmp_path), fcm_endpoint=fcm.endpoint)


@pytest.fixture
async def uows(scaled_settings: Settings) -> AsyncIterator[UnitOfWorkFactory]:
    engine = create_engine(scaled_settings.database_url)
    redis = Redis.from_url(scaled_settings.redis_url or "")
    await redis.flushdb()
    try:
        yield UnitOfWorkFactory(session_factory(engine), SystemClock(), calendar=scaled_settings.calendar)
    finally:
        await redis.flushdb()
        await redis.aclose()
        await engine.dispose()


async def _dispatched_with_a_device(uows: UnitOfWorkFactory) -> tuple[Ref, int]:
    async with uows() as uow:
        ref = await seed(uow.session, uow.now())
        await uow.commit()
    async with uows() as uow:
        await devices.register(uow, ref.eng_a, TOKEN, "android", "1.4.2")
        order = await svc.create_work_order(uow, ref.agent, NewWorkOrder(
            kind="repair", description="hydraulic pump leaking", customer_id=ref.customer, site_id=ref.site))
        await svc.act(uow, ref.agent, order.id, c.Dispatch(engineer_id=ref.eng_a.user_id))
        await uow.commit()
    return ref, order.id


async def _pushes(uows: UnitOfWorkFactory, order_id: int) -> list[SimpleNamespace]:
    async with uows() as uow:
        rows = await uow.session.exec(select(PushNotification).where(PushNotification.work_order_id == order_id))
        return [SimpleNamespace(**r.model_dump()) for r in sorted(rows.all(), key=lambda r: r.id or 0)]


async def _burst(settings: Settings, *, max_jobs: int = -1, cron: bool = False) -> Worker:
    """The jobs worker as deployed (functions, hooks, serializer), in burst mode. With ``cron``,
    only the delivery cron is kept (its run-at-startup tick), not the quarter-hourly sweep."""
    options = worker_main.worker_options(settings, "jobs")
    crons = [j for j in options["cron_jobs"] if j.name == "push.deliver.cron"] if cron else None
    options.update(burst=True, cron_jobs=crons, max_burst_jobs=max_jobs, poll_delay=0.05, handle_signals=False)
    worker = Worker(**options)
    try:
        await worker.main()
    finally:
        with warnings.catch_warnings():  # arq closes its pool with redis' deprecated close()
            warnings.simplefilter("ignore", DeprecationWarning)
            await worker.close()
    return worker


def test_the_jobs_worker_carries_push_delivery() -> None:
    names = {f.name for f in worker_main.WorkerSettings.functions}  # type: ignore[attr-defined]
    assert {"push.deliver", "push.sweep", "reports.generate"} <= names
    assert {j.name for j in worker_main.WorkerSettings.cron_jobs} >= {"push.deliver.cron", "push.sweep.cron"}


async def test_enqueued_delivery_sends_the_dispatch_push(uows: UnitOfWorkFactory, scaled_settings: Settings,
                                                        fcm: Standin) -> None:
    _, order_id = await _dispatched_with_a_device(uows)
    [pending] = [r for r in await _pushes(uows, order_id) if r.token == TOKEN]
    assert (pending.kind, pending.state) == ("dispatch", "pending")

    pool = await sla.open_pool(scaled_settings, sla.JOBS_QUEUE)
    try:
        assert await pool.enqueue_job("push.deliver") is not None
    finally:
        await pool.aclose()
    worker = await _burst(scaled_settings)

    assert (worker.jobs_complete, worker.jobs_failed) == (1, 0)
    [sent] = [r for r in await _pushes(uows, order_id) if r.token == TOKEN]
    assert (sent.state, sent.attempts) == ("sent", 1) and sent.message_id
    [request] = fcm.sends_to(TOKEN)
    message = request["json"]["message"]
    assert message["data"]["type"] == "dispatch" and message["data"]["work_order_id"] == str(order_id)
    assert message["android"]["priority"] == "high"
    assert message["android"]["collapse_key"] == f"work_order:{order_id}"

    await _burst(scaled_settings)  # nothing queued: a second worker run sends nothing again
    assert len(fcm.sends_to(TOKEN)) == 1


async def test_the_delivery_cron_sends_at_start_up(uows: UnitOfWorkFactory, scaled_settings: Settings,
                                                   fcm: Standin) -> None:
    _, order_id = await _dispatched_with_a_device(uows)
    worker = await _burst(scaled_settings, max_jobs=1, cron=True)  # the run-at-startup tick, then stop
    assert (worker.jobs_complete, worker.jobs_failed) == (1, 0)
    [sent] = [r for r in await _pushes(uows, order_id) if r.token == TOKEN]
    assert sent.state == "sent"
    assert len(fcm.sends_to(TOKEN)) == 1
