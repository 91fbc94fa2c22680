"""PostgreSQL connections from the engine's pool, driven on asyncpg without SQLAlchemy's session
and connection layers: a unit of work's transaction (``DriverTransaction``) and a lone read in
autocommit (``read_connection``). Imports only SQLAlchemy, the driver and ``persistence.statements``.

Why: an ORM session that only carries a transaction for statements run on the driver
(``persistence.statements``) cost ~400 µs of CPU more per unit of work on the bench machine (the
session, its connection, the greenlet hops of begin, commit and close, the task that shields the
close), and an SQLAlchemy ``Connection`` for one autocommit read ~100 µs more than the pooled
connection itself (docs/performance.md). Here a unit of work checks one connection out of the pool, its statements
run on the driver, the transaction begins with the first of them (as SQLAlchemy's adapter begins
it) and ends with an asyncpg COMMIT or ROLLBACK; the connection goes back to the pool as SQLAlchemy
returns it (its checkin events and reset run). ORM or Core work joins the same transaction on the
same connection through ``sqlalchemy_connection()``: an SQLAlchemy ``Connection`` around the pooled
connection, from which point SQLAlchemy ends the transaction (a unit of work then runs everything
through its session, ``services.uow``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.pool import PoolProxiedConnection
from sqlalchemy.util import greenlet_spawn

from backend.persistence.statements import Handle, driver_failure

_AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT"}  # the engine of read sessions (``db.read_session_factory``)


def lean(bind: Any) -> bool:
    """Whether units of work on ``bind`` take a ``DriverTransaction``: a PostgreSQL engine on the
    asyncpg adapter this module knows, as configured or in autocommit (any other execution option
    keeps the ORM session, which knows what to do with it)."""
    return (isinstance(bind, AsyncEngine) and bind.dialect.name == "postgresql"
            and bind.dialect.driver == "asyncpg" and dict(bind.get_execution_options()) in ({}, _AUTOCOMMIT))


class DriverTransaction:
    """One pooled connection and the transaction on it, for one unit of work. ``info`` is the
    unit of work's scratch space (queued rows, rows read along): cleared when a transaction ends.
    On an engine in autocommit each statement stands alone (commit and rollback have nothing to
    end)."""

    __slots__ = ("_fairy", "_handle", "engine", "info")

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.info: dict[str, Any] = {}
        self._handle: Handle | None = None
        self._fairy: PoolProxiedConnection | None = None

    @property
    def dialect(self) -> Any:
        return self.engine.dialect

    @property
    def checked_out(self) -> bool:
        return self._handle is not None

    async def driver_handle(self) -> Handle:
        """The pooled connection (checked out on first use); ``persistence.statements`` begins the
        transaction with the first statement."""
        handle = self._handle
        if handle is None:
            fairy = self._fairy = await self.engine.raw_connection()
            handle = self._handle = _handle_for(self.engine, fairy)
        return handle

    async def sqlalchemy_connection(self) -> AsyncConnection:
        """An SQLAlchemy connection in this transaction, on the same pooled connection, for ORM or
        Core work (a session bound to it begins its SQLAlchemy transaction without a statement: the
        driver's transaction, begun or not, is the one it commits or rolls back)."""
        return (await self.driver_handle()).connection

    @property
    def connection(self) -> AsyncConnection:
        """``sqlalchemy_connection()`` of a transaction that has its pooled connection (``checked_out``)."""
        assert self._handle is not None, "no connection checked out yet"
        return self._handle.connection

    async def commit(self) -> None:
        await self._end("commit")

    async def rollback(self) -> None:
        await self._end("rollback")

    async def _end(self, how: str) -> None:
        self.info.clear()
        handle = self._handle
        if handle is None:
            return
        joined = handle.made
        if joined is not None and joined.in_transaction():  # SQLAlchemy began it (a session joined): it ends it
            await getattr(joined, how)()
            return
        transaction = handle.adapter._transaction
        if transaction is None:
            return
        handle.adapter._transaction = None  # as the adapter does: once asked, the transaction is over
        try:
            await getattr(transaction, how)()
        except Exception as error:
            raise await driver_failure(handle, error, how.upper(), ()) from error

    async def close(self) -> None:
        """Rolls back what is still open and returns the connection to the pool; runs to the end
        even if the caller is cancelled meanwhile (a connection is never left checked out)."""
        self.info.clear()
        handle, self._handle = self._handle, None
        fairy, self._fairy = self._fairy, None
        if handle is not None:
            assert fairy is not None
            await _run_to_completion(_release(handle, fairy))


async def _release(handle: Handle, fairy: PoolProxiedConnection) -> None:
    """Back to the pool (in SQLAlchemy's greenlet: checking in may close an overflow connection),
    through the SQLAlchemy connection if one was made, else as the pool's own connection."""
    joined = handle.made
    try:
        if joined is not None and joined.in_transaction():
            await joined.rollback()
        transaction, handle.adapter._transaction = handle.adapter._transaction, None
        if transaction is not None:
            await transaction.rollback()
    except Exception:
        # A connection that cannot roll back (cancelled mid-statement, dropped) is not given back
        # as it is: it is closed and the pool opens another.
        with contextlib.suppress(Exception):
            await (joined.invalidate() if joined is not None else greenlet_spawn(fairy.invalidate))
    finally:
        await (joined.close() if joined is not None else greenlet_spawn(fairy.close))


def _handle_for(engine: AsyncEngine, fairy: PoolProxiedConnection, *, autocommit: bool = False) -> Handle:
    # The SQLAlchemy Connection around the pooled connection is what the engine's statement
    # listeners are told of, what invalidates a dead connection and what ORM or Core work joins: made
    # when first needed (most units of work never do), as SQLAlchemy makes it. An engine with
    # execution options (autocommit) gets it at once: making it applies them to the connection (and
    # checking in resets them).
    def connect() -> AsyncConnection:
        return AsyncConnection(engine, Connection(engine.sync_engine, connection=fairy))

    adapter = fairy.dbapi_connection
    handle = Handle(None, adapter, fairy.driver_connection, autocommit=False, postgres=True, engine=engine,
                    connect=connect)
    if engine.get_execution_options():
        handle.connection  # noqa: B018 - made now, for its execution options
    handle.autocommit = autocommit or bool(adapter.autocommit)
    return handle


@contextlib.asynccontextmanager
async def read_connection(engine: AsyncEngine) -> AsyncIterator[Handle]:
    """A pooled PostgreSQL connection for lone reads in autocommit (``persistence.statements``):
    no transaction, no BEGIN or ROLLBACK, each statement one round trip."""
    fairy = await engine.raw_connection()
    handle = _handle_for(engine, fairy, autocommit=True)
    try:
        yield handle
    finally:
        await _run_to_completion(_release(handle, fairy))


async def _run_to_completion(coroutine: Coroutine[Any, Any, None]) -> None:
    """Runs cleanup in a task of its own and waits for it even if the caller is cancelled (then
    re-raises the cancellation), as SQLAlchemy's own ``close`` does."""
    task = asyncio.ensure_future(coroutine)
    cancelled: BaseException | None = None
    while True:
        try:
            await asyncio.shield(task)
        except asyncio.CancelledError as error:
            if task.done():
                raise
            cancelled = error
        else:
            break
    if cancelled is not None:
        raise cancelled
