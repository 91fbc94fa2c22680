"""Statements on every request's path, run on the driver.

SQLAlchemy's execution layers cost several times what the driver does per statement (execution
context, result wrappers, greenlet hops: ~290 µs of CPU per ``session.execute`` against ~80 µs for
asyncpg's own ``fetch`` on the 2-core bench machine; docs/performance.md). A ``Statement`` is a Core
statement compiled once per dialect by SQLAlchemy (so its SQL, parameter order and types are
SQLAlchemy's own) and run on a driver connection with SQLAlchemy's bind and result processors
applied: the values in and out are exactly what ``session.execute`` would take and give. Where it
runs (``Executor``): a unit of work's ``connections.DriverTransaction`` (PostgreSQL), a session's
current transaction (its pending ORM changes flushed first, as the ORM does), an SQLAlchemy
connection, or a ``connections.read_connection``. The pool stays SQLAlchemy's; nothing here commits.
No expanding (``IN``) parameters: their SQL depends on the values. The engine's
``before_cursor_execute`` listeners hear of each statement (with no cursor or context); ``echo``
does not log them."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import bindparam, event, exc, or_
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql import ClauseElement, sqltypes

try:  # the PostgreSQL driver; SQLite-only installs run without it
    import asyncpg
except ImportError:  # pragma: no cover
    asyncpg = None

_DRIVER = "fieldline.driver"  # session.info: the driver handle of the session's current transaction
Processor = Callable[[Any], Any] | None


class OnDriver(Protocol):
    """What runs statements without a session: a unit of work's ``connections.DriverTransaction``,
    or a ``Handle`` (``connections.read_connection``)."""

    async def driver_handle(self) -> Handle: ...

    @property
    def dialect(self) -> Dialect: ...


# Where a statement runs: a session (in its transaction, begun if need be), a connection (in its
# transaction if it has begun one, else on its own), or a pooled connection on the driver.
Executor = AsyncSession | AsyncConnection | OnDriver


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]  # bound parameters in positional order
    defaults: dict[str, Any]  # the statement's own values (literals become anonymous parameters)
    processed: tuple[tuple[int, Callable[[Any], Any]], ...]  # (position, bind processor) of those that have one
    results: tuple[tuple[int, Callable[[Any], Any]], ...]  # (position, result processor) of the columns with one
    repeated: int = 0  # leading columns the same on every row (``Statement(repeated=...)``)

    def args(self, params: dict[str, Any]) -> list[Any]:
        defaults = self.defaults
        try:
            values = [params[name] if name in params else defaults[name] for name in self.names]
        except KeyError as missing:
            raise TypeError(f"missing parameter {missing}") from None
        for position, process in self.processed:
            value = values[position]
            if value is not None:
                values[position] = process(value)
        return values

    def row(self, values: Sequence[Any]) -> tuple[Any, ...]:
        if not self.results:
            return tuple(values)
        row = list(values)
        for position, process in self.results:
            value = row[position]
            if value is not None:
                row[position] = process(value)
        return tuple(row)

    def rows(self, records: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
        if not self.repeated or len(records) < 2:
            return [self.row(r) for r in records]
        blank = (None,) * self.repeated
        later = [(p, f) for p, f in self.results if p >= self.repeated]
        rows = [self.row(records[0])]
        for record in records[1:]:
            row = list(record)
            for position, process in later:
                value = row[position]
                if value is not None:
                    row[position] = process(value)
            rows.append(blank + tuple(row[self.repeated:]))
        return rows


class Statement:
    """``Statement(select(...).where(t.c.id == bindparam("id")))``, then ``await s.all(session, id=1)``.
    Results are plain tuples in the statement's column order (``columns`` names them).

    ``repeated``: for a one-to-many join whose first columns are the same on every row (an order and
    its deadlines), how many: they are read from the first row only, and later rows carry None in
    them (their type processing is what a join's width costs in Python)."""

    __slots__ = ("_by_dialect", "columns", "element", "repeated")

    def __init__(self, element: ClauseElement, *, repeated: int = 0) -> None:
        self.element = element
        self.repeated = repeated
        exported = getattr(element, "exported_columns", None)
        self.columns: tuple[str, ...] = tuple(c.key for c in exported) if exported is not None else ()
        self._by_dialect: dict[tuple[str, Any], _Compiled] = {}

    def compiled(self, dialect: Dialect) -> _Compiled:
        key = (dialect.name, dialect.server_version_info)
        found = self._by_dialect.get(key)
        if found is None:
            found = self._by_dialect[key] = self._compile(dialect)
        return found

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self.element.compile(dialect=dialect)
        if any(b.expanding for b in compiled.binds.values()):
            raise TypeError("a Statement takes no expanding (IN) parameters")
        names = tuple(compiled.positiontup or ())
        defaults = {n: compiled.binds[n].effective_value for n in names if not compiled.binds[n].required}
        binds = (compiled.binds[n].type.dialect_impl(dialect).bind_processor(dialect) for n in names)
        processed = tuple((i, p) for i, p in enumerate(binds) if p is not None)
        exported = getattr(self.element, "exported_columns", None) or ()
        results = tuple((i, p) for i, p in enumerate(_result_processor(c.type, dialect) for c in exported)
                        if p is not None)
        return _Compiled(compiled.string, names, defaults, processed, results, self.repeated)

    async def all(self, executor: Executor, **params: Any) -> list[tuple[Any, ...]]:
        rows, _ = await _run(executor, self, params, want_rows=True)
        return rows

    async def first(self, executor: Executor, **params: Any) -> tuple[Any, ...] | None:
        rows = await self.all(executor, **params)
        return rows[0] if rows else None

    async def scalar(self, executor: Executor, **params: Any) -> Any:
        row = await self.first(executor, **params)
        return None if row is None else row[0]

    async def rowcount(self, executor: Executor, **params: Any) -> int:
        """Runs a statement without result rows; the number of rows it matched."""
        _, count = await _run(executor, self, params, want_rows=False)
        return count


class AnyOf:
    """``select`` narrowed to the rows whose ``column`` is one of a list of values, on the driver. A
    Statement takes no IN list (its SQL would depend on the values): one Statement per count of
    values, ``column = :v0 OR column = :v1 ...``, built once, the values sent ``chunk`` at a time."""

    __slots__ = ("_by_count", "chunk", "column", "element")

    def __init__(self, element: Any, column: Any, chunk: int = 32) -> None:
        self.element, self.column, self.chunk = element, column, chunk
        self._by_count: dict[int, Statement] = {}

    def _statement(self, count: int) -> Statement:
        found = self._by_count.get(count)
        if found is None:
            names = [f"any_of_{i}" for i in range(count)]
            found = self._by_count[count] = Statement(
                self.element.where(or_(*(self.column == bindparam(n) for n in names))))
        return found

    async def all(self, executor: Executor, values: Sequence[Any], **params: Any) -> list[tuple[Any, ...]]:
        """The rows of every chunk, one chunk after the other (each in the statement's own order)."""
        rows: list[tuple[Any, ...]] = []
        for start in range(0, len(values), self.chunk):
            part = values[start:start + self.chunk]
            rows += await self._statement(len(part)).all(
                executor, **params, **{f"any_of_{i}": value for i, value in enumerate(part)})
        return rows


def dialect_of(executor: Executor) -> Dialect:
    """The SQL dialect statements on ``executor`` are written in."""
    if isinstance(executor, AsyncSession):
        assert executor.bind is not None, "a session bound to an engine or a connection"
        return executor.bind.dialect
    return executor.dialect


def _result_processor(type_: Any, dialect: Dialect) -> Processor:
    # A result processor may depend on the type the database reports (asyncpg's numerics do). The
    # driver does not hand that over here: give the type this column type creates (FLOAT is double
    # precision, NUMERIC numeric), which is what the migrations made.
    coltype = None
    if dialect.name == "postgresql" and isinstance(type_, sqltypes.NumericCommon):
        coltype = 701 if isinstance(type_, sqltypes.Float) else 1700
    return type_.dialect_impl(dialect).result_processor(dialect, coltype)


class Handle:
    """A driver connection as statements run on it. ``connection`` is the SQLAlchemy
    ``AsyncConnection`` around it (the engine's statement listeners, invalidation, ORM or Core work
    joining): given, or, for a connection taken from the pool itself (``persistence.connections``),
    made on first use by ``connect``, since most units of work never need one."""

    __slots__ = ("_connect", "_connection", "_engine", "adapter", "autocommit", "dialect", "driver", "postgres")

    def __init__(self, connection: AsyncConnection | None, adapter: Any, driver: Any, autocommit: bool,
                 postgres: bool, *, engine: AsyncEngine | None = None,
                 connect: Callable[[], AsyncConnection] | None = None) -> None:
        self._connection = connection
        self._engine = engine
        self._connect = connect
        if connection is None:
            assert engine is not None and connect is not None, "a connection, or how to make it"
            self.dialect: Dialect = engine.dialect
        else:
            self.dialect = connection.dialect
        self.adapter = adapter  # SQLAlchemy's DBAPI adapter of the driver connection
        self.driver = driver  # asyncpg.Connection or aiosqlite.Connection
        self.autocommit = autocommit  # no transaction to begin: autocommit, or outside a transaction
        self.postgres = postgres

    @property
    def connection(self) -> AsyncConnection:
        if self._connection is None:
            assert self._connect is not None
            self._connection = self._connect()
        return self._connection

    @property
    def made(self) -> AsyncConnection | None:
        """The SQLAlchemy connection if there is one yet (None: nothing of SQLAlchemy's to end)."""
        return self._connection

    def listened(self) -> bool:
        """Whether the engine has ``before_cursor_execute`` listeners (statement counters, tracers)."""
        if self._connection is not None:
            return bool(self._connection.sync_connection.dispatch.before_cursor_execute)
        assert self._engine is not None
        return bool(self._engine.sync_engine.dispatch.before_cursor_execute)

    async def driver_handle(self) -> Handle:  # a handle runs statements itself (``connections.read_connection``)
        return self


async def _handle(executor: Executor) -> Handle:
    if not isinstance(executor, AsyncSession):
        if isinstance(executor, AsyncConnection):
            return await _handle_of(executor, standalone=not executor.in_transaction())
        return await executor.driver_handle()
    if _needs_flush(executor.sync_session):  # what the ORM would do first: read your own writes
        await executor.flush()
    handle: Handle | None = executor.info.get(_DRIVER)
    if handle is None:
        # session.connection() begins the session's transaction if it has none
        handle = executor.info[_DRIVER] = await _handle_of(await executor.connection(), standalone=False)
    return handle


def _needs_flush(session: Session) -> bool:
    # Session._is_clean's test (the ORM's autoflush runs it before every query), without the greenlet
    # hop of calling flush() on a clean session.
    return session.autoflush and bool(session._new or session._deleted or session.identity_map.check_modified())


async def _handle_of(connection: AsyncConnection, standalone: bool) -> Handle:
    raw = await connection.get_raw_connection()
    adapter = raw.dbapi_connection
    return Handle(connection, adapter, raw.driver_connection,
                   standalone or bool(getattr(adapter, "autocommit", False)), connection.dialect.name == "postgresql")


@event.listens_for(Session, "after_transaction_end")
def _forget_handle(session: Session, _transaction: SessionTransaction) -> None:
    # The connection goes back to the pool with the transaction (or may: savepoints end too).
    session.info.pop(_DRIVER, None)


async def _run(executor: Executor, statement: Statement, params: dict[str, Any],
               want_rows: bool) -> tuple[list[tuple[Any, ...]], int]:
    handle = await _handle(executor)
    compiled = statement.compiled(handle.dialect)
    args = compiled.args(params)
    try:
        if handle.postgres:
            return await _postgres(handle, compiled, args, want_rows)
        return await _sqlite(handle, compiled, args, want_rows)
    except exc.SQLAlchemyError:
        raise
    except Exception as error:
        raise await driver_failure(handle, error, compiled.sql, args) from error


async def driver_failure(handle: Handle, error: Exception, sql: str, args: Sequence[Any]) -> Exception:
    """What a driver error on ``handle`` is raised as. A connection the server or the network dropped
    leaves the pool at once, as SQLAlchemy does when its own statement finds a dead one (the caller's
    transaction is gone): ``DBAPIError`` with ``connection_invalidated``; otherwise SQLAlchemy's
    error for it (``translated``)."""
    if handle.postgres and handle.driver.is_closed():
        with contextlib.suppress(Exception):
            await handle.connection.invalidate()
        return exc.DBAPIError(sql, args, error, connection_invalidated=True)
    return translated(error, sql, args)


async def _postgres(handle: Handle, compiled: _Compiled, args: Sequence[Any],
                    want_rows: bool) -> tuple[list[tuple[Any, ...]], int]:
    if not handle.autocommit and not handle.driver.is_in_transaction():
        # SQLAlchemy's asyncpg adapter starts the driver's transaction lazily, before the first
        # statement it runs; start it the same way (the adapter's own method, so the transaction it
        # will commit or roll back is the one these statements are in). Without that method (another
        # SQLAlchemy release) SQLAlchemy runs this first statement itself: slower, same result.
        begin = getattr(handle.adapter, "_start_transaction", None)
        if begin is None:
            result = await handle.connection.exec_driver_sql(compiled.sql, args)
            rows = compiled.rows(result.all()) if want_rows else []
            return rows, result.rowcount
        await begin()
    _announce(handle, compiled, args)
    if want_rows:
        records = await handle.driver.fetch(compiled.sql, *args)
        return compiled.rows(records), len(records)
    status: str = await handle.driver.execute(compiled.sql, *args)
    tail = status.rpartition(" ")[2]
    return [], int(tail) if tail.isdigit() else -1


async def _sqlite(handle: Handle, compiled: _Compiled, args: Sequence[Any],
                  want_rows: bool) -> tuple[list[tuple[Any, ...]], int]:
    # Inside the transaction SQLAlchemy began (BEGIN IMMEDIATE, or BEGIN for read sessions).
    _announce(handle, compiled, args)
    if want_rows:
        records = await handle.driver.execute_fetchall(compiled.sql, args)
        return compiled.rows(records), len(records)
    cursor = await handle.driver.execute(compiled.sql, args)
    try:
        return [], cursor.rowcount
    finally:
        await cursor.close()


def _announce(handle: Handle, compiled: _Compiled, args: Sequence[Any]) -> None:
    """Tell the engine's ``before_cursor_execute`` listeners (statement counters, tracers)."""
    if handle.listened():
        sync = handle.connection.sync_connection
        sync.dispatch.before_cursor_execute(sync, None, compiled.sql, args, None, False)


def translated(error: Exception, sql: str, args: Sequence[Any]) -> Exception:
    """The driver's error as SQLAlchemy would raise it, so callers catch one family of errors."""
    integrity = (sqlite3.IntegrityError,) + ((asyncpg.IntegrityConstraintViolationError,) if asyncpg else ())
    if isinstance(error, integrity):
        return exc.IntegrityError(sql, args, error)
    if isinstance(error, sqlite3.Error) or (asyncpg is not None and isinstance(error, asyncpg.PostgresError)):
        return exc.DBAPIError(sql, args, error)
    return error
