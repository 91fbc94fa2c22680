"""The unit of work: one session, one transaction, the outbox and audit rows written with the
change (queued in ``persistence.appends`` and inserted together as the transaction commits). The
caller (a request, a job, a test) commits; after commit the factory's ``on_commit`` hears of it
with what the transaction wrote that a background loop cares about: events (the outbox relay),
the earliest instant of the timer rows it set (the SLA timer loop) and queued jobs (the report
runner), so each loop wakes only when there is something for it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from backend.clock import Clock
from backend.domain.actors import Principal
from backend.domain.calendar import BusinessCalendar
from backend.events import Event
from backend.observability import request_id_var
from backend.persistence import appends
from backend.persistence.tables import AuditLog, Outbox

OnCommit = Callable[["UnitOfWork"], None]


class UnitOfWork:
    def __init__(self, session: AsyncSession, clock: Clock, on_commit: OnCommit | None = None,
                 calendar: BusinessCalendar | None = None) -> None:
        self.session = session
        self.clock = clock
        self.calendar = calendar or BusinessCalendar()
        self._on_commit = on_commit
        self.emitted: list[Event] = []
        self.timers_at: datetime | None = None  # the earliest warning or due instant of timer rows set here
        self.jobs_queued = False

    def timer_set(self, at: datetime) -> None:
        """A deadline row was opened or moved here: it warns or falls due at ``at`` at the earliest."""
        self.timers_at = at if self.timers_at is None else min(self.timers_at, at)

    def job_queued(self) -> None:
        self.jobs_queued = True

    def now(self) -> datetime:
        return self.clock.now()

    def emit(self, event: Event, payload: dict[str, Any] | None = None) -> None:
        """Write the event to the outbox in this transaction; it is handed on after commit.
        ``payload``: its JSON form, if already made (the order's event log row has the same)."""
        appends.append(self.session, Outbox, event_id=str(uuid.uuid4()), type=event.type, key=event.key,
                       payload=event.model_dump(mode="json") if payload is None else payload, created_at=self.now(),
                       published_at=None)
        self.emitted.append(event)

    def audit(self, actor: Principal, action: str, target_type: str = "", target_id: Any = "",
              **details: Any) -> None:
        appends.append(self.session, AuditLog, at=self.now(), actor_id=actor.user_id, actor_role=str(actor.role),
                       action=action, target_type=target_type, target_id=str(target_id),
                       request_id=request_id_var.get(), details=details)

    async def commit(self) -> None:
        await appends.write(self.session)  # the append-only rows, on the driver, just before the COMMIT
        await self.session.commit()
        if self._on_commit is not None and (self.emitted or self.timers_at is not None or self.jobs_queued):
            self._on_commit(self)


class UnitOfWorkFactory:
    """Opens units of work on fresh sessions: ``async with uows() as uow: ...; await uow.commit()``.
    Leaving the block without commit rolls back."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock,
                 on_commit: OnCommit | None = None, calendar: BusinessCalendar | None = None) -> None:
        self.sessions = sessions
        self.clock = clock
        self.on_commit = on_commit
        self.calendar = calendar or BusinessCalendar()

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[UnitOfWork]:
        async with self.sessions() as session:
            uow = UnitOfWork(session, self.clock, self.on_commit, self.calendar)
            try:
                yield uow
            finally:
                if session.in_transaction():
                    await session.rollback()
