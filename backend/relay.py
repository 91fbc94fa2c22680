"""The outbox relay: after commit, hands outbox rows to the broker in order and marks them
published. At least once: a crash between publish and mark re-publishes, and consumers dedupe
by event id. Nudged after each commit, and it polls anyway, so nothing committed waits long."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from backend.clock import Clock
from backend.persistence.repositories import outbox as repo
from backend.ports import Broker, Envelope
from backend.services.uow import UnitOfWorkFactory

if TYPE_CHECKING:
    from backend.services.uow import UnitOfWork as Committed

log = logging.getLogger(__name__)


class OutboxRelay:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], broker: Broker, clock: Clock,
                 batch_size: int = 500, poll_interval_s: float = 1.0) -> None:
        self.sessions = sessions
        # Its own units of work (on the driver on PostgreSQL), which tell nobody of their commits.
        self.uows = UnitOfWorkFactory(sessions, clock)
        self.broker = broker
        self.clock = clock
        self.batch_size = batch_size
        self.poll_interval_s = poll_interval_s
        self._wake = asyncio.Event()
        self.published = 0

    def nudge(self) -> None:
        self._wake.set()

    def after_commit(self, committed: Committed) -> None:
        """The unit-of-work factory's ``on_commit``: wake if the transaction wrote outbox rows."""
        if committed.emitted:
            self.nudge()

    async def drain_once(self) -> int:
        """Publish one batch; returns how many rows went out."""
        async with self.uows() as uow:
            rows = await repo.claim(uow.db, self.batch_size)  # none while another process's relay runs
            if not rows:
                return 0
            batch = [Envelope(outbox_id=r.id or 0, event_id=r.event_id, type=r.type, key=r.key,
                              payload=r.payload, created_at=r.created_at) for r in rows]
            await self.broker.publish(batch)
            await repo.mark_published(uow.db, [e.outbox_id for e in batch], self.clock.now())
            await uow.commit()
        self.published += len(batch)
        return len(batch)

    async def drain(self) -> int:
        """Publish batches until one comes back short: the outbox is empty as of that read (a row
        committed after it comes with a nudge of its own, which ``run`` has not cleared)."""
        total = 0
        while True:
            n = await self.drain_once()
            total += n
            if n < self.batch_size:
                return total

    async def run(self) -> None:
        """Until cancelled: drain, then wait for a nudge or the poll interval."""
        while True:
            self._wake.clear()  # before draining: a nudge that arrives meanwhile means "look again"
            try:
                await self.drain()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay failed; retrying")
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancel and hang shutdown.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval_s):
                    await self._wake.wait()
