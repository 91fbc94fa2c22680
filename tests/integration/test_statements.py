"""Statements run on the driver (``backend.persistence.statements``): the same values in and out as
SQLAlchemy's own execution (aware UTC datetimes, JSON, booleans), row counts, RETURNING, and the
session's transaction: a statement is inside it from the first one on, rolled back with it, beside
ORM statements of the same transaction; driver errors come out as SQLAlchemy's."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Boolean, Column, Integer, MetaData, String, Table, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.persistence.db import read_session_factory, session_factory
from backend.persistence.statements import Statement
from backend.persistence.types import JSONType, UTCDateTime

AT = datetime(2026, 3, 2, 1, 30, 15, 123456, tzinfo=UTC)


def scratch_table() -> Table:
    return Table(f"stmt_{uuid.uuid4().hex[:10]}", MetaData(),
                 Column("id", Integer, primary_key=True), Column("name", String(40), nullable=False, unique=True),
                 Column("at", UTCDateTime(), nullable=True), Column("payload", JSONType, nullable=False),
                 Column("flag", Boolean, nullable=False))


@pytest.fixture
async def table(engine: AsyncEngine) -> AsyncIterator[Table]:
    t = scratch_table()
    async with engine.begin() as conn:
        await conn.run_sync(t.metadata.create_all)
    yield t
    async with engine.begin() as conn:
        await conn.run_sync(t.metadata.drop_all)


def statements_for(t: Table) -> dict[str, Statement]:
    return {
        "insert": Statement(insert(t).values(name=bindparam("name"), at=bindparam("at"), payload=bindparam("payload"),
                                             flag=bindparam("flag"))),
        "read": Statement(select(t.c.name, t.c.at, t.c.payload, t.c.flag).where(t.c.name == bindparam("name"))),
        "count": Statement(select(func.count()).select_from(t)),
        "rename": Statement(update(t).where(t.c.flag == bindparam("flag")).values(name=t.c.name + "!")),
        "stamp": Statement(update(t).where(t.c.name == bindparam("name")).values(at=bindparam("at"))
                           .returning(t.c.id, t.c.at)),
    }


ROW = {"name": "a", "at": AT, "payload": {"k": [1, "二", None], "nested": {"x": 1.5}}, "flag": True}


async def test_values_are_what_sqlalchemy_gives(engine: AsyncEngine, table: Table) -> None:
    s = statements_for(table)
    async with session_factory(engine)() as session:
        assert await s["insert"].rowcount(session, **ROW) == 1
        await s["insert"].rowcount(session, name="b", at=None, payload=[], flag=False)
        await session.commit()
    async with session_factory(engine)() as session:
        ours = await s["read"].all(session, name="a")
        theirs = [tuple(r) for r in (await session.exec(select(table.c.name, table.c.at, table.c.payload,
                                                                         table.c.flag).where(table.c.name == "a")))]
        assert ours == theirs == [("a", AT, ROW["payload"], True)]
        assert ours[0][1].tzinfo is UTC
        assert await s["read"].first(session, name="b") == ("b", None, [], False)
        assert await s["read"].first(session, name="nobody") is None
        assert s["read"].columns == ("name", "at", "payload", "flag")
        with pytest.raises(ValueError, match="naive"):  # the column type's own checks still run
            await s["insert"].rowcount(session, name="c", at=AT.replace(tzinfo=None), payload={}, flag=True)


async def test_repeated_columns_of_a_join_come_from_its_first_row(engine: AsyncEngine, table: Table) -> None:
    """``repeated``: the leading columns of a one-to-many join, processed on the first row only;
    the others are processed on every row, as without it."""
    s = statements_for(table)
    other = table.alias("other")
    joined = (select(table.c.name, table.c.at, other.c.name, other.c.at, other.c.payload)
              .join(other, other.c.flag == table.c.flag).where(table.c.name == bindparam("name"))
              .order_by(other.c.name))
    async with session_factory(engine)() as session:
        for name, at in (("a", AT), ("b", AT + timedelta(days=1)), ("c", None)):
            await s["insert"].rowcount(session, **{**ROW, "name": name, "at": at})
        plain = await Statement(joined).all(session, name="a")
        ours = await Statement(joined, repeated=2).all(session, name="a")
        await session.rollback()
    assert [r[:2] for r in plain] == [("a", AT)] * 3
    assert ours[0] == plain[0] and ours[0][1].tzinfo is UTC
    assert [r[:2] for r in ours[1:]] == [(None, None)] * 2
    assert [r[2:] for r in ours] == [r[2:] for r in plain]
    assert ours[1][3] == AT + timedelta(days=1) and ours[1][3].tzinfo is UTC and ours[2][3] is None


async def test_row_counts_and_returning(engine: AsyncEngine, table: Table) -> None:
    s = statements_for(table)
    async with session_factory(engine)() as session:
        for name, flag in (("a", True), ("b", True), ("c", False)):
            await s["insert"].rowcount(session, **{**ROW, "name": name, "flag": flag})
        assert await s["rename"].rowcount(session, flag=True) == 2
        assert await s["rename"].rowcount(session, flag=None) == 0
        later = AT + timedelta(hours=1)
        (row_id, at), = await s["stamp"].all(session, name="c", at=later)
        assert isinstance(row_id, int) and at == later
        assert await s["stamp"].all(session, name="nobody", at=later) == []
        await session.commit()
    async with session_factory(engine)() as session:
        assert {r[0] for r in await session.exec(select(table.c.name))} == {"a!", "b!", "c"}


async def test_first_statement_is_inside_the_sessions_transaction(engine: AsyncEngine, table: Table) -> None:
    s = statements_for(table)
    async with session_factory(engine)() as session:
        await s["insert"].rowcount(session, **ROW)  # the transaction's first statement
        await session.exec(insert(table).values(name="orm", payload={}, flag=False))  # beside an ORM one
        assert await s["count"].scalar(session) == 2
        await session.rollback()
        assert await s["count"].scalar(session) == 0  # both went with the rollback
        await s["insert"].rowcount(session, **ROW)  # a new transaction after the rollback
        await session.commit()
    async with session_factory(engine)() as session:
        assert await s["count"].scalar(session) == 1


async def test_a_sessions_pending_orm_changes_are_flushed_first(engine: AsyncEngine) -> None:
    """As the ORM's autoflush would: an object added, or changed, in the session is what a
    statement in the same transaction reads."""
    from backend.persistence.tables import Region  # a table every migrated database has

    code = f"r{uuid.uuid4().hex[:8]}"
    read = Statement(select(Region.__table__.c.name).where(Region.__table__.c.code == bindparam("code")))
    async with session_factory(engine)() as session:
        region = Region(code=code, name="added")
        session.add(region)
        assert await read.scalar(session, code=code) == "added"
        region.name = "changed"
        assert await read.scalar(session, code=code) == "changed"
        with session.no_autoflush:
            region.name = "not yet"
            assert await read.scalar(session, code=code) == "changed"  # no_autoflush is honoured
        await session.rollback()


async def test_inside_a_savepoint_session(table: Table, session: object) -> None:
    """The test harness's sessions (an outer transaction, commits as savepoints) work as well."""
    s = statements_for(table)
    await s["insert"].rowcount(session, **ROW)  # type: ignore[arg-type]
    await session.commit()  # type: ignore[attr-defined]
    assert await s["read"].first(session, name="a") is not None  # type: ignore[arg-type]


async def test_read_sessions_in_autocommit(engine: AsyncEngine, table: Table) -> None:
    s = statements_for(table)
    async with session_factory(engine)() as session:
        await s["insert"].rowcount(session, **ROW)
        await session.commit()
    async with read_session_factory(engine)() as reads:
        assert await s["read"].first(reads, name="a") == ("a", AT, ROW["payload"], True)
        assert await s["count"].scalar(reads) == 1


async def test_driver_errors_are_sqlalchemys(engine: AsyncEngine, table: Table) -> None:
    s = statements_for(table)
    async with session_factory(engine)() as session:
        await s["insert"].rowcount(session, **ROW)
        await session.commit()
        with pytest.raises(IntegrityError):
            await s["insert"].rowcount(session, **ROW)  # the unique name again
        await session.rollback()
        assert await s["count"].scalar(session) == 1  # usable again after the rollback


def test_missing_parameters_and_expanding_ones_are_refused(engine: AsyncEngine) -> None:
    t = scratch_table()
    with pytest.raises(TypeError, match="expanding"):
        Statement(select(t.c.id).where(t.c.id.in_(bindparam("ids", expanding=True)))).compiled(engine.dialect)
    compiled = Statement(select(t.c.id).where(t.c.name == bindparam("name"))).compiled(engine.dialect)
    with pytest.raises(TypeError, match="missing parameter"):
        compiled.args({})
