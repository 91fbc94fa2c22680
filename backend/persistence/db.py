"""Engine and session factory. SQLite and PostgreSQL differences live only here."""

from __future__ import annotations

import asyncio
import sqlite3
import time
import weakref
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, OperationalError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from backend.persistence import connections
from backend.persistence.statements import Executor

READ_ONLY = "fieldline_read_only"  # execution option of read sessions (see read_session_factory)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


# PostgreSQL connections kept per process, and how many more it may open under a burst (closed again
# once they are back): the pool covers a busy process's concurrent requests and background loops, so
# steady load never pays for connecting (a new connection costs ~4 ms, ~1 ms of CPU, and prepares every
# statement again: with 10 kept, 16 phones at once put 20-30 ms on the bench's p99; docs/performance.md).
POOL_SIZE = 20


def create_engine(url: str, *, echo: bool = False, pool_size: int = POOL_SIZE,
                  sqlite_writer_timeout_s: float = 30.0) -> AsyncEngine:
    """An async engine. SQLite gets WAL, a busy timeout, foreign keys and ``BEGIN IMMEDIATE``
    (one writer at a time, and a writer never fails with SQLITE_BUSY halfway through), the writers
    of this process queueing for their turn (``_Writers``)."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if is_sqlite(url):
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs.update(pool_size=pool_size, max_overflow=max(1, pool_size // 2), pool_recycle=RECYCLE_S)
    engine = create_async_engine(url, **kwargs)
    if is_sqlite(url):
        _configure_sqlite(engine, sqlite_writer_timeout_s)
    else:
        _ping_when_idle(engine)
    return engine


# A pooled PostgreSQL connection is pinged on checkout only if it sat idle longer than this. The
# stock ``pool_pre_ping`` pings on every checkout, and on asyncpg a ping is three round trips
# (BEGIN, ";", ROLLBACK): a request that opens two sessions paid six before its first statement.
# A connection in steady use proves itself; one that idled (a database restart, a NAT or
# firewall timeout, an idle-session kill) is checked before it is handed out, and a dead one is
# replaced transparently (``DisconnectionError`` makes the pool retry with a fresh connection).
IDLE_PING_S = 5.0
RECYCLE_S = 1800  # and none is kept longer than half an hour


def _ping_when_idle(engine: AsyncEngine) -> None:
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "checkout")
    def _checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since <= IDLE_PING_S:
            return
        try:
            dbapi_connection.ping()
        except Exception as exc:
            raise DisconnectionError("pooled connection failed its ping") from exc

    @event.listens_for(sync_engine, "checkin")
    def _checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()


class _Writers:
    """SQLite has one writer at a time. Its busy handler makes a waiting writer sleep and retry (up to
    100 ms a try, in no order), which under concurrent writes put seconds on the tail; here the
    writers of this process queue instead, first come first served, each from its BEGIN IMMEDIATE to
    its COMMIT or ROLLBACK. SQLite's own lock and busy timeout still stand between processes."""

    KEY = "fieldline.sqlite_writer"  # the connection's info: the lock it holds

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = \
            weakref.WeakKeyDictionary()

    def acquire(self, dbapi_connection: Any, info: dict[str, Any]) -> None:
        """Inside SQLAlchemy's greenlet (a sync event handler of the async engine): wait our turn."""
        if self.KEY in info or not hasattr(dbapi_connection, "run_async"):
            return  # already ours, or a plain (sync) sqlite3 connection: SQLite's lock alone
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()

        async def turn(_driver: Any) -> bool:
            try:
                async with asyncio.timeout(self.timeout_s):
                    return await lock.acquire()
            except TimeoutError:
                return False

        if not dbapi_connection.run_async(turn):  # what SQLite says when its own busy timeout runs out
            raise OperationalError("BEGIN IMMEDIATE", (), sqlite3.OperationalError(
                f"database is locked (waited {self.timeout_s:g} s for the other writers)"))
        info[self.KEY] = lock

    def release(self, info: dict[str, Any]) -> None:
        lock = info.pop(self.KEY, None)
        if lock is not None:
            lock.release()


def _configure_sqlite(engine: AsyncEngine, writer_timeout_s: float) -> None:
    writers = _Writers(writer_timeout_s)  # as long as SQLite's own busy timeout below

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from the driver so BEGIN IMMEDIATE and SAVEPOINTs work.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # Read sessions (read_session_factory) take no write lock: in WAL mode readers and the one
        # writer never block each other.
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
            return
        writers.acquire(conn.connection.dbapi_connection, conn.info)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            writers.release(conn.info)
            raise

    # The turn ends with the transaction (the events come just before the driver's COMMIT or
    # ROLLBACK, which the next writer's BEGIN IMMEDIATE waits for in SQLite for a moment), or with
    # the connection: reset on its way back to the pool, invalidated, closed.
    @event.listens_for(engine.sync_engine, "commit")
    @event.listens_for(engine.sync_engine, "rollback")
    def _on_end(conn: Any) -> None:
        try:
            info = conn.info
        except SQLAlchemyError:  # invalidated: its invalidate event gave the turn back already
            return
        writers.release(info)

    @event.listens_for(engine.sync_engine, "reset")
    def _on_reset(_dbapi_connection: Any, record: Any, _state: Any) -> None:
        if record is not None:
            writers.release(record.info)

    @event.listens_for(engine.sync_engine, "invalidate")
    def _on_invalidate(_dbapi_connection: Any, record: Any, _exception: Any) -> None:
        if record is not None:
            writers.release(record.info)

    @event.listens_for(engine.sync_engine, "close")
    def _on_close(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            writers.release(record.info)


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)


def read_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that only read (the access-token session check on every request, the live board's
    cards): on PostgreSQL in autocommit, so a read is one round trip instead of BEGIN, SELECT,
    ROLLBACK; on SQLite a plain (deferred) BEGIN instead of BEGIN IMMEDIATE, so they do not queue
    for the one writer's lock. Never write through them."""
    if is_sqlite(str(engine.url)):
        return async_sessionmaker(engine.execution_options(**{READ_ONLY: True}), class_=AsyncSession,
                                  expire_on_commit=False)
    return async_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"), class_=AsyncSession,
                              expire_on_commit=False)


def read_connection(engine: AsyncEngine) -> AbstractAsyncContextManager[Executor]:
    """A pooled connection for a lone read on the driver (``persistence.statements``), used as
    ``async with read_connection(engine) as conn``: no transaction is begun on it, so each statement
    stands alone (one round trip; no BEGIN, ROLLBACK or lock), and no ORM session is built around it.
    The access-token session check of every request runs on one. On PostgreSQL the pooled connection
    itself (``connections.read_connection``), elsewhere an SQLAlchemy connection."""
    if connections.lean(engine):
        return connections.read_connection(engine)
    return engine.connect()
