"""The service-rule timers inside the app process (registered in ``fieldline.app.SERVICES``).
Embedded mode: an in-process loop over the deadline rows that wakes at the next due or warning time,
re-checks every few seconds, and is woken early by a commit that set a timer due before its planned
wake-up (not by every commit: a pass is six statements); it also runs queued report jobs.
Scaled mode: only the after-commit enqueuer (deferred arq jobs); the arq workers do the firing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

from backend.clock import Clock
from backend.services import reports
from backend.services.sla_firing import next_instant
from backend.services.sla_timers import PassResult, run_pass
from backend.services.uow import OnCommit, UnitOfWork, UnitOfWorkFactory
from backend.settings import Settings
from workers import sla
from workers.reports import enqueue_queued

log = logging.getLogger(__name__)


def _chain(first: OnCommit | None, then: OnCommit) -> OnCommit:
    def on_commit(committed: UnitOfWork) -> None:
        if first is not None:
            first(committed)
        then(committed)

    return on_commit


class Waker:
    """A loop's wake-up: ``nudge()`` after a commit, or a timeout; ``stop()`` ends the loop at its
    next wait, so shutdown never interrupts a transaction (SQLite would keep its write lock)."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.stopping = False

    def nudge(self) -> None:
        self._event.set()

    def stop(self) -> None:
        self.stopping = True
        self._event.set()

    async def wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):  # asyncio.timeout: wait_for can swallow a cancel on 3.11
            async with asyncio.timeout(max(seconds, 0.0)):
                await self._event.wait()
        self._event.clear()


class TimerLoop:
    """Fires deadlines in-process. ``tick()`` is one pass; ``run()`` repeats it until cancelled."""

    def __init__(self, uows: UnitOfWorkFactory, clock: Clock, settings: Settings) -> None:
        self.uows = uows
        self.clock = clock
        self.settings = settings
        self.waker = Waker()
        self.passes = 0
        self._stuck = 0
        self.wake_at: datetime | None = None  # when the loop plans to look next (None: it is looking now)

    def nudge(self) -> None:
        self.waker.nudge()

    def after_commit(self, committed: UnitOfWork) -> None:
        """Wake early only for a timer that falls before the planned look; later ones are found then."""
        at = committed.timers_at
        if at is not None and (self.wake_at is None or at < self.wake_at):
            self.nudge()

    async def tick(self) -> PassResult:
        result = await run_pass(self.uows, self.settings.daily_clearing_at)
        self.passes += 1
        return result

    async def _delay(self, result: PassResult) -> float:
        if result.progressed:
            self._stuck = 0
            return 0.0  # more may be waiting beyond this pass's limit
        recheck = self.settings.sla_recheck_s
        upcoming = await next_instant(self.uows)
        if upcoming is None:
            return recheck
        until = (upcoming - self.clock.now()).total_seconds()
        if until > 0:
            self._stuck = 0
            return min(until, recheck)
        # Due already: it fell due just after the pass looked, or its firing fails. Look again soon,
        # backing off towards the re-check pace if nothing moves.
        self._stuck += 1
        return min(recheck, 0.01 * 2 ** min(self._stuck, 10))

    async def run(self) -> None:
        while not self.waker.stopping:
            delay = self.settings.sla_recheck_s
            try:
                delay = await self._delay(await self.tick())
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("SLA timer pass failed; retrying")
            self.wake_at = self.clock.now() + timedelta(seconds=delay)
            await self.waker.wait(delay)
            self.wake_at = None


class ReportRunner:
    """Runs queued report jobs one at a time (embedded mode), beside the timer loop."""

    def __init__(self, uows: UnitOfWorkFactory, settings: Settings) -> None:
        self.uows = uows
        self.settings = settings
        self.waker = Waker()

    def after_commit(self, committed: UnitOfWork) -> None:
        if committed.jobs_queued:
            self.waker.nudge()

    async def run(self) -> None:
        while not self.waker.stopping:
            try:
                while not self.waker.stopping and await reports.run_next(self.uows, self.settings):
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("report job failed")
            await self.waker.wait(self.settings.sla_recheck_s)


class Enqueuer:
    """Scaled mode, in the app process: after each commit, give newly opened deadlines due soon a
    deferred arq job, and queued report jobs a job on the jobs queue."""

    def __init__(self, uows: UnitOfWorkFactory, pool: Any, settings: Settings) -> None:
        self.uows = uows
        self.pool = pool
        self.settings = settings
        self.waker = Waker()

    def nudge(self) -> None:
        self.waker.nudge()

    def after_commit(self, committed: UnitOfWork) -> None:
        if committed.timers_at is not None or committed.jobs_queued:
            self.nudge()

    async def run(self) -> None:
        while not self.waker.stopping:
            try:
                await sla.enqueue_upcoming(self.uows, self.pool, self.settings, only_new=True)
                await enqueue_queued(self.uows, self.pool)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("enqueueing SLA jobs failed; the sweep covers it")
            await self.waker.wait(self.settings.sla_recheck_s)


@contextlib.asynccontextmanager
async def _running(*loops: Any, grace_s: float = 5.0) -> AsyncIterator[None]:
    """Run the loops as tasks; on exit ask them to stop, and cancel only what outlives the grace."""
    tasks = [asyncio.create_task(loop.run(), name=type(loop).__name__) for loop in loops]
    try:
        yield
    finally:
        for loop in loops:
            loop.waker.stop()
        _, late = await asyncio.wait(tasks, timeout=grace_s)
        for task in late:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


@contextlib.asynccontextmanager
async def sla_timers(app: Any, runtime: Any) -> AsyncIterator[Any]:
    """The SERVICES entry: ``app.state.sla_timers`` is the loop (embedded) or the enqueuer (scaled)."""
    settings: Settings = runtime.settings
    uows: UnitOfWorkFactory = runtime.uows
    previous = uows.on_commit
    if settings.scaled:
        await sla.require_noeviction(runtime.redis)
        pool = await sla.open_pool(settings)
        try:
            enqueuer = Enqueuer(uows, pool, settings)
            uows.on_commit = _chain(previous, enqueuer.after_commit)
            app.state.sla_timers = enqueuer
            async with _running(enqueuer):
                yield enqueuer
        finally:
            uows.on_commit = previous
            await pool.aclose()
        return
    loop = TimerLoop(uows, runtime.clock, settings)
    runner = ReportRunner(uows, settings)
    uows.on_commit = _chain(_chain(previous, loop.after_commit), runner.after_commit)
    app.state.sla_timers = loop
    try:
        async with _running(loop, runner):
            yield loop
    finally:
        uows.on_commit = previous
