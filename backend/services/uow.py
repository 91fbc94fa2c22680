"""The unit of work: one transaction, the outbox and audit rows written with the change (queued in
``persistence.appends`` and inserted together as the transaction commits). The caller (a request, a
job, a test) commits; after commit the factory's ``on_commit`` hears of it with what the transaction
wrote that a background loop cares about: events (the outbox relay), the earliest instant of the
timer rows it set (the SLA timer loop) and queued jobs (the report runner), so each loop wakes only
when there is something for it.

Two ways into the database, one transaction: ``uow.db`` for statements on the driver
(``persistence.statements``) and queued rows, ``uow.session`` for the ORM. On PostgreSQL ``db`` is a
``DriverTransaction`` (no session is built unless ORM work asks for one: ~400 µs of CPU less per unit
of work); a session asked for after it has its connection joins that connection and transaction, and
from then on ``db`` is the session too, so ORM changes are flushed before statements read. Elsewhere
(SQLite, sessions bound to a test's connection) ``db`` is the session."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from backend.clock import Clock
from backend.domain.actors import Principal
from backend.domain.calendar import BusinessCalendar
from backend.events import Event
from backend.observability import request_id_var
from backend.persistence import appends
from backend.persistence.connections import DriverTransaction, lean
from backend.persistence.db import read_connection
from backend.persistence.statements import Executor
from backend.persistence.tables import AuditLog, Outbox

OnCommit = Callable[["UnitOfWork"], None]


class UnitOfWork:
    """``session``: a session to work in (a test's), or the factory to make one from when needed;
    ``engine``: run on the driver in a ``DriverTransaction`` of this engine (``UnitOfWorkFactory``)."""

    def __init__(self, session: AsyncSession | async_sessionmaker[AsyncSession], clock: Clock,
                 on_commit: OnCommit | None = None, calendar: BusinessCalendar | None = None,
                 engine: AsyncEngine | None = None) -> None:
        given = isinstance(session, AsyncSession)
        self._sessions = None if given else session
        self._session: AsyncSession | None = session if given else None
        self._tx = DriverTransaction(engine) if engine is not None and not given else None
        self.clock = clock
        self.calendar = calendar or BusinessCalendar()
        self._on_commit = on_commit
        self.emitted: list[Event] = []
        self.timers_at: datetime | None = None  # the earliest warning or due instant of timer rows set here
        self.jobs_queued = False

    @property
    def db(self) -> AsyncSession | DriverTransaction:
        """Where this unit of work's statements run and its rows are queued (read it each time:
        it becomes the session once ORM work has joined)."""
        if self._tx is not None and self._session is None:
            return self._tx
        return self.session

    @property
    def session(self) -> AsyncSession:
        """The ORM session, made on first use, in this unit of work's transaction."""
        if self._session is None:
            assert self._sessions is not None
            tx = self._tx
            if tx is not None and tx.checked_out:
                self._session = self._sessions(bind=tx.connection)
            else:  # nothing ran on the driver yet: the session takes the connection itself
                self._session = self._sessions()
                self._tx = None
            if tx is not None:
                self._session.sync_session.info = tx.info  # what was queued or read along so far
        return self._session

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
        appends.append(self.db, Outbox, event_id=str(uuid.uuid4()), type=event.type, key=event.key,
                       payload=event.model_dump(mode="json") if payload is None else payload, created_at=self.now(),
                       published_at=None)
        self.emitted.append(event)

    def audit(self, actor: Principal, action: str, target_type: str = "", target_id: Any = "",
              **details: Any) -> None:
        appends.append(self.db, AuditLog, at=self.now(), actor_id=actor.user_id, actor_role=str(actor.role),
                       action=action, target_type=target_type, target_id=str(target_id),
                       request_id=request_id_var.get(), details=details)

    async def commit(self) -> None:
        await appends.write(self.db)  # the append-only rows, on the driver, just before the COMMIT
        if self._session is not None:
            await self._session.commit()
        if self._tx is not None:
            await self._tx.commit()
        if self._on_commit is not None and (self.emitted or self.timers_at is not None or self.jobs_queued):
            self._on_commit(self)

    async def rollback(self) -> None:
        """Ends the transaction without a trace (the unit of work may go on in a new one)."""
        if self._session is not None:
            await self._session.rollback()
        if self._tx is not None:
            await self._tx.rollback()

    async def close(self) -> None:
        """Rolls back what was not committed and lets the connection go."""
        try:
            if self._session is not None:
                await self._session.close()
        finally:
            if self._tx is not None:
                await self._tx.close()


class UnitOfWorkFactory:
    """Opens units of work on fresh sessions: ``async with uows() as uow: ...; await uow.commit()``.
    Leaving the block without commit rolls back."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Clock,
                 on_commit: OnCommit | None = None, calendar: BusinessCalendar | None = None) -> None:
        self.sessions = sessions
        self.clock = clock
        self.on_commit = on_commit
        self.calendar = calendar or BusinessCalendar()
        bind = getattr(sessions, "kw", {}).get("bind")
        self._bind = bind
        self._engine = bind if lean(bind) else None  # PostgreSQL: units of work on the driver

    def reads(self) -> AbstractAsyncContextManager[Executor]:
        """A connection for lone reads outside any transaction (``db.read_connection``: on
        PostgreSQL no BEGIN or ROLLBACK, one round trip a statement), for statements only."""
        assert isinstance(self._bind, AsyncEngine), "reads() needs a sessionmaker bound to an engine"
        return read_connection(self._bind)

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[UnitOfWork]:
        uow = UnitOfWork(self.sessions, self.clock, self.on_commit, self.calendar, self._engine)
        try:
            yield uow
        finally:
            await uow.close()
