"""Engine and session factory. SQLite and PostgreSQL differences live only here."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

READ_ONLY = "fieldline_read_only"  # execution option of read sessions (see read_session_factory)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> AsyncEngine:
    """An async engine. SQLite gets WAL, a busy timeout, foreign keys and ``BEGIN IMMEDIATE``
    (one writer at a time, and a writer never fails with SQLITE_BUSY halfway through)."""
    parsed = make_url(url)
    kwargs: dict[str, Any] = {"echo": echo}
    if is_sqlite(url):
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_recycle=RECYCLE_S)
    engine = create_async_engine(url, **kwargs)
    if is_sqlite(url):
        _configure_sqlite(engine)
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


def _configure_sqlite(engine: AsyncEngine) -> None:
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
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


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


def read_connection(engine: AsyncEngine) -> AsyncConnection:
    """A pooled connection for a lone read on the driver (``persistence.statements``), used as
    ``async with read_connection(engine) as conn``: no transaction is begun on it, so each statement
    stands alone (one round trip; no BEGIN, ROLLBACK or lock), and no ORM session is built around it.
    The access-token session check of every request runs on one."""
    return engine.connect()
