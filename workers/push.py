"""Push delivery: claim due push rows (committed as ``sending`` before the send, so a row is never
sent twice), send them through a ``PushSender`` (FCM), record each outcome. Runs as arq jobs in
scaled mode (``PUSH_FUNCTIONS`` / ``PUSH_CRON_JOBS``, with ``push_startup``/``push_shutdown`` for
the worker's hooks) and as an in-process loop in embedded mode (``embedded_push_service``)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

from arq import cron, func

from backend.ports import PushSender
from backend.services import devices, idempotency
from backend.services import push as svc
from backend.services.uow import UnitOfWorkFactory
from backend.settings import Settings
from workers.fcm import FcmPushSender

log = logging.getLogger(__name__)


class PushDelivery:
    """One sender's delivery: ``deliver_once`` is a unit of work owner (it commits)."""

    def __init__(self, uows: UnitOfWorkFactory, sender: PushSender, *, max_attempts: int = 8,
                 batch: int = 500, jitter: float = 0.2, rng: random.Random | None = None) -> None:
        self.uows, self.sender, self.max_attempts, self.batch = uows, sender, max_attempts, batch
        self._rng = rng or random.Random()
        self._jitter = jitter
        self.wake = asyncio.Event()

    async def deliver_once(self) -> svc.DeliveryReport:
        async with self.uows() as uow:
            messages = await svc.claim(uow, self.batch)
            await uow.commit()  # 'sending' is on record before anything leaves
        if not messages:
            return svc.DeliveryReport()
        results = await self.sender.send(messages)
        async with self.uows() as uow:
            report = await svc.record(uow, results, max_attempts=self.max_attempts,
                                      jitter=lambda: self._rng.random() * self._jitter)
            await uow.commit()
        return report

    async def drain(self) -> svc.DeliveryReport:
        """Deliver until nothing is due now."""
        total = svc.DeliveryReport()
        while (report := await self.deliver_once()).claimed:
            for name in ("claimed", "sent", "retried", "invalid_tokens", "failed", "expired"):
                setattr(total, name, getattr(total, name) + getattr(report, name))
            total.outcomes.update(report.outcomes)
        return total

    async def run(self, poll_interval_s: float) -> None:
        """Until cancelled: deliver what is due, then wait for a nudge or the poll interval."""
        while True:
            try:
                await self.drain()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("push delivery failed; retrying")
            self.wake.clear()
            with contextlib.suppress(TimeoutError):  # asyncio.timeout: wait_for can swallow a cancel on 3.11
                async with asyncio.timeout(poll_interval_s):
                    await self.wake.wait()


def make_sender(settings: Settings) -> PushSender | None:
    """The FCM sender, or None (push off) without a service-account file."""
    if settings.fcm_credentials_file is None:
        return None
    return FcmPushSender(settings.fcm_credentials_file, endpoint=settings.fcm_endpoint)


async def sweep_mobile(uows: UnitOfWorkFactory, settings: Settings) -> dict[str, int]:
    """Housekeeping: sends abandoned mid-flight become 'unknown' (never resent), idempotency
    records past their retention are pruned, devices unseen for 60 days are deactivated."""
    async with uows() as uow:
        counts = {
            "abandoned": await svc.abandon_stale(uow),
            "idempotency_pruned": await idempotency.prune(uow, timedelta(hours=settings.idempotency_retention_h)),
            "stale_devices": await devices.deactivate_stale(uow, uow.now()),
        }
        await uow.commit()
    return counts


# --- embedded mode: an in-process loop, one of the app's SERVICES ---------------------------------

@contextlib.asynccontextmanager
async def embedded_push_service(app: Any, runtime: Any) -> AsyncIterator[PushDelivery | None]:
    settings: Settings = runtime.settings
    if settings.scaled:
        log.info("push: delivered by the arq worker (scaled mode)")
        yield None
        return
    sender = make_sender(settings)
    if sender is None:
        log.warning("push disabled: FIELDLINE_FCM_CREDENTIALS_FILE is not set; pushes are recorded, not sent")
        yield None
        return
    delivery = PushDelivery(runtime.uows, sender, max_attempts=settings.push_max_attempts)
    app.state.push_delivery = delivery  # tests and admin tools may nudge it
    task = asyncio.create_task(delivery.run(settings.push_poll_interval_s), name="push-delivery")
    log.info("push: delivering through FCM", extra={"project": getattr(sender, "project_id", None)})
    try:
        yield delivery
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await sender.aclose()


# --- scaled mode: arq ------------------------------------------------------------------------------
# The worker's on_startup must have put ``uows`` and ``settings`` in ctx and call ``push_startup``;
# on_shutdown calls ``push_shutdown``.

async def push_startup(ctx: dict[str, Any]) -> None:
    sender = make_sender(ctx["settings"])
    if sender is None:
        log.warning("push disabled: FIELDLINE_FCM_CREDENTIALS_FILE is not set; pushes are recorded, not sent")
        return
    ctx["push_delivery"] = PushDelivery(ctx["uows"], sender, max_attempts=ctx["settings"].push_max_attempts)


async def push_shutdown(ctx: dict[str, Any]) -> None:
    delivery: PushDelivery | None = ctx.pop("push_delivery", None)
    if delivery is not None:
        await delivery.sender.aclose()


async def deliver_pushes(ctx: dict[str, Any]) -> dict[str, int]:
    delivery: PushDelivery | None = ctx.get("push_delivery")
    if delivery is None:
        return {"claimed": 0}
    report = await delivery.drain()
    return {"claimed": report.claimed, "sent": report.sent, "retried": report.retried,
            "invalid_tokens": report.invalid_tokens, "failed": report.failed}


async def sweep(ctx: dict[str, Any]) -> dict[str, int]:
    return await sweep_mobile(ctx["uows"], ctx["settings"])


PUSH_FUNCTIONS = [func(deliver_pushes, name="push.deliver"), func(sweep, name="push.sweep")]
PUSH_CRON_JOBS = [
    cron(deliver_pushes, name="push.deliver.cron", second=set(range(0, 60, 2)), run_at_startup=True),
    cron(sweep, name="push.sweep.cron", minute={0, 15, 30, 45}),
]
