"""Append-only rows of a transaction, written together as it commits.

The event log, the outbox, the audit trail, the mobile action log and the idempotency records are
only ever inserted, and nothing reads them back in the transaction that writes them. A request adds
several of them (an engineer's action: one of each), and an ORM flush sends each in its own INSERT
with a ``RETURNING id`` nobody needs. Here they are kept in the ``info`` of the unit of work's
session or ``DriverTransaction`` and written just before the commit (by ``UnitOfWork.commit``, on the
driver; a ``before_commit`` listener covers every other commit path): on PostgreSQL as ONE statement
(``WITH w0 AS (INSERT ...), w1 AS (INSERT ...) INSERT ...``, built once per shape and reused), on
SQLite as one multi-row INSERT per table. A rollback drops them with the rest (a rollback to a
savepoint, those queued since the savepoint).

Reading such a table inside the writing transaction needs ``await flush(session)`` first
(``repositories.work_orders.history`` does)."""

from __future__ import annotations

import functools
from collections import OrderedDict
from typing import Any

from sqlalchemy import BindParameter, Dialect, Table, TextClause, bindparam, event, insert, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql.compiler import IdentifierPreparer
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from backend.persistence.connections import DriverTransaction
from backend.persistence.statements import Statement

_KEY = "fieldline.appends"
_MARKS = "fieldline.appends.savepoints"
_MAX_COMBINED_ROWS = 32  # beyond this (bulk creation, imports): one executemany per table
_SHAPES: OrderedDict[tuple[Any, ...], tuple[list[Statement], list[str]]] = OrderedDict()  # and parameter names
_MAX_SHAPES = 256

Pending = list[tuple[Table, dict[str, Any]]]
# Where rows are queued: a session, or a unit of work's ``connections.DriverTransaction``.
Target = AsyncSession | DriverTransaction


def append(target: Target | Session, model: type[SQLModel], **values: Any) -> None:
    """Queue a row of ``model``'s table for this transaction: its column values by name (a column
    not given gets its database default; the serial key is left to the database). Values, not a
    model instance: an instrumented instance costs more to build than its INSERT costs to send."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    defaults = _defaults(table)
    unknown = values.keys() - defaults.keys()
    if unknown:
        raise TypeError(f"{table.name} has no column(s) {sorted(unknown)}")
    if isinstance(target, (AsyncSession, Session)):
        sync = target.sync_session if isinstance(target, AsyncSession) else target
        if not sync.in_transaction():
            sync.begin()  # lazy (no connection yet): ties the queue to a transaction a rollback drops
    # (a DriverTransaction clears its info, and so the queue, when its transaction ends)
    target.info.setdefault(_KEY, []).append((table, {**defaults, **values}))


@functools.cache
def _defaults(table: Table) -> dict[str, Any]:
    """Every column but the serial key, with its Python-side default (or None): each row of a
    table carries every column, in table order, so rows of a table share one statement shape."""
    serial = table.autoincrement_column
    out: dict[str, Any] = {}
    for column in table.columns:
        if column is serial:
            continue
        default = column.default
        scalar = default is not None and getattr(default, "is_scalar", False)
        out[column.name] = default.arg if scalar else None  # type: ignore[union-attr]
    return out


def pending(target: Target | Session) -> int:
    return len(target.info.get(_KEY, ()))


async def flush(target: Target, model: type[SQLModel] | None = None) -> None:
    """Write the queued rows now (before reading their tables in the same transaction). ``model``:
    only if a row of its table is queued (then all of them, in order)."""
    if model is not None:
        table = model.__table__  # type: ignore[attr-defined]
        if not any(t is table for t, _ in target.info.get(_KEY, ())):
            return
    await write(target)


async def write(target: Target) -> None:
    """Write the queued rows now, on the driver (``persistence.statements``): ``UnitOfWork.commit``
    calls it just before committing; the ``before_commit`` listener writes, through SQLAlchemy, what a
    commit by another path finds still queued."""
    rows: Pending | None = target.info.pop(_KEY, None)
    if not rows:
        return
    if isinstance(target, AsyncSession):
        if len(rows) > _MAX_COMBINED_ROWS:
            await target.run_sync(_write_many, rows)
            return
        bind = target.bind
        assert bind is not None, "appends need a session bound to an engine or a connection"
        dialect = bind.dialect
    else:
        if len(rows) > _MAX_COMBINED_ROWS:
            connection = await target.sqlalchemy_connection()
            await connection.run_sync(_insert_many, rows)
            return
        dialect = target.dialect
    for statement, params in _combined(rows, dialect):
        await statement.rowcount(target, **params)


def _write(session: Session) -> None:
    rows: Pending | None = session.info.pop(_KEY, None)
    if not rows:
        return
    if len(rows) > _MAX_COMBINED_ROWS:
        _write_many(session, rows)
        return
    connection = session.connection()
    for statement, params in _combined(rows, connection.dialect):
        connection.execute(statement.element, params)  # type: ignore[arg-type]


def _write_many(session: Session, rows: Pending) -> None:
    _insert_many(session.connection(), rows)


def _insert_many(connection: Connection, rows: Pending) -> None:
    """Bulk (creation in bulk, imports): one executemany per table and shape."""
    by_shape: dict[tuple[Table, tuple[str, ...]], list[dict[str, Any]]] = {}
    for table, values in rows:
        by_shape.setdefault((table, tuple(values)), []).append(values)
    for (table, _), values_list in by_shape.items():  # first-appended table first (foreign keys)
        connection.execute(insert(table), values_list)


def _combined(rows: Pending, dialect: Dialect) -> list[tuple[Statement, dict[str, Any]]]:
    """Few statements for all rows: each table's rows a multi-row VALUES; on PostgreSQL all tables
    in ONE statement (all but the last in data-modifying CTEs), on SQLite one per table (it has no
    DML in CTEs). SQLAlchemy does not cache statements with DML in CTEs (it would compile this one on
    every commit), so each is written as a typed ``text()`` once per shape (tables, row counts,
    columns) and reused."""
    groups: dict[tuple[Table, tuple[str, ...]], list[dict[str, Any]]] = {}
    for table, values in rows:
        groups.setdefault((table, tuple(values)), []).append(values)
    together = dialect.name == "postgresql"
    shape = (together, tuple((t.name, len(vs), keys) for (t, keys), vs in groups.items()))
    found = _SHAPES.get(shape)
    if found is None:
        built = _build([(t, vs) for (t, _), vs in groups.items()], dialect.identifier_preparer, together)
        names = [f"a{g}_{r}_{name}" for g, ((_, keys), vs) in enumerate(groups.items())
                 for r in range(len(vs)) for name in keys]
        found = _SHAPES[shape] = ([Statement(b) for b in built], names)
        if len(_SHAPES) > _MAX_SHAPES:
            _SHAPES.popitem(last=False)
    else:
        _SHAPES.move_to_end(shape)
    statements, names = found
    params = dict(zip(names, (value for vs in groups.values() for values in vs for value in values.values()),
                      strict=True))
    return [(statement, params) for statement in statements]


def _build(groups: list[tuple[Table, list[dict[str, Any]]]], quote: IdentifierPreparer,
           together: bool) -> list[TextClause]:
    inserts: list[tuple[str, list[BindParameter[Any]]]] = []
    for g, (table, values_list) in enumerate(groups):
        columns = list(values_list[0])
        binds: list[BindParameter[Any]] = []
        tuples = []
        for r in range(len(values_list)):
            names = [f"a{g}_{r}_{c}" for c in columns]
            binds.extend(bindparam(n, type_=table.c[c].type) for n, c in zip(names, columns, strict=True))
            tuples.append("(" + ", ".join(f":{n}" for n in names) + ")")
        inserts.append((f"INSERT INTO {quote.format_table(table)} ({', '.join(quote.quote(c) for c in columns)}) "
                        f"VALUES {', '.join(tuples)}", binds))
    if not together:
        return [text(sql).bindparams(*binds) for sql, binds in inserts]
    *ctes, (last, last_binds) = inserts
    with_clause = "WITH " + ", ".join(f"w{i} AS ({sql})" for i, (sql, _) in enumerate(ctes)) + " " if ctes else ""
    return [text(with_clause + last).bindparams(*(b for _, binds in ctes for b in binds), *last_binds)]


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    _write(session)


@event.listens_for(Session, "after_transaction_create")
def _savepoint_started(session: Session, transaction: SessionTransaction) -> None:
    if transaction.nested:  # remember where the queue stood: a rollback to it drops what came after
        session.info.setdefault(_MARKS, {})[transaction] = len(session.info.get(_KEY, ()))


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous: SessionTransaction) -> None:
    if not previous.nested:
        session.info.pop(_KEY, None)
        session.info.pop(_MARKS, None)
        return
    mark = session.info.get(_MARKS, {}).pop(previous, None)
    if mark is not None and _KEY in session.info:
        del session.info[_KEY][mark:]
