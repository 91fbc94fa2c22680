"""Units of work on PostgreSQL's driver (``backend.persistence.connections``, ``services.uow``): one
pooled connection and one transaction per unit of work, statements and ORM work in the same
transaction whichever comes first, nothing committed without ``commit``, every connection back in the
pool afterwards (after a commit, a rollback, an error, a cancellation, a dead connection), and the
autocommit ``read_connection`` of the session check."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import (
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    event,
    func,
    insert,
    literal_column,
    select,
    text,
)
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from backend.clock import FrozenClock
from backend.persistence import appends, db
from backend.persistence.connections import DriverTransaction, read_connection
from backend.persistence.statements import Statement
from backend.persistence.tables import Region
from backend.services.uow import UnitOfWork, UnitOfWorkFactory
from tests.support.servers import Postgres
from tests.support.waiting import wait_until

AT = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)
PID = Statement(select(literal_column("pg_backend_pid()").label("pid")))
TXID = Statement(select(literal_column("txid_current()").label("txid")))


@pytest.fixture
async def pg_engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(pg_url, pool_size=2)
    yield engine
    await engine.dispose()


@pytest.fixture
async def table(pg_engine: AsyncEngine) -> AsyncIterator[Table]:
    t = Table(f"conn_{uuid.uuid4().hex[:10]}", MetaData(), Column("id", Integer, primary_key=True),
              Column("name", String(40), nullable=False, unique=True))
    async with pg_engine.begin() as conn:
        await conn.run_sync(t.metadata.create_all)
    yield t
    async with pg_engine.begin() as conn:
        await conn.run_sync(t.metadata.drop_all)


@pytest.fixture
async def code(pg_engine: AsyncEngine) -> AsyncIterator[str]:
    """A prefix for the region codes a test commits (the database is shared: they are removed after)."""
    prefix = f"t{uuid.uuid4().hex[:7]}"
    yield prefix
    async with pg_engine.begin() as conn:
        await conn.execute(Region.__table__.delete().where(Region.__table__.c.code.like(f"{prefix}%")))


def uows(engine: AsyncEngine) -> UnitOfWorkFactory:
    return UnitOfWorkFactory(db.session_factory(engine), FrozenClock(AT))


def add(t: Table) -> Statement:
    return Statement(insert(t).values(name=bindparam("name")))


def names(t: Table) -> Statement:
    return Statement(select(t.c.name).order_by(t.c.name))


async def committed_names(engine: AsyncEngine, t: Table) -> list[str]:
    async with engine.connect() as conn:
        return [r[0] for r in await conn.execute(select(t.c.name).order_by(t.c.name))]


def in_pool(engine: AsyncEngine) -> int:
    return engine.sync_engine.pool.checkedout()  # type: ignore[attr-defined]


async def test_a_unit_of_work_runs_on_the_driver_in_one_transaction(pg_engine: AsyncEngine, table: Table) -> None:
    async with uows(pg_engine)() as uow:
        assert isinstance(uow.db, DriverTransaction)  # no session made
        first = await TXID.scalar(uow.db)
        await add(table).rowcount(uow.db, name="a")
        assert await TXID.scalar(uow.db) == first  # one transaction, begun by the first statement
        assert await committed_names(pg_engine, table) == []  # nothing visible before the commit
        await uow.commit()
        assert uow._session is None
    assert await committed_names(pg_engine, table) == ["a"]
    assert in_pool(pg_engine) == 0


async def test_statements_alone_make_no_sqlalchemy_connection(pg_engine: AsyncEngine, table: Table) -> None:
    """A unit of work of statements only never builds SQLAlchemy's Connection around its pooled
    connection (the cost the driver path exists to save), and the connection goes back to the pool
    all the same (checkin events run: it is taken again)."""
    async with uows(pg_engine)() as uow:
        pid = await PID.scalar(uow.db)
        await add(table).rowcount(uow.db, name="a")
        assert (await uow.db.driver_handle()).made is None
        await uow.commit()
    async with read_connection(pg_engine) as conn:
        assert await PID.scalar(conn) == pid
        assert conn.made is None
    assert await committed_names(pg_engine, table) == ["a"]
    assert in_pool(pg_engine) == 0


async def test_the_engines_statement_listeners_hear_driver_statements(pg_engine: AsyncEngine, table: Table) -> None:
    heard: list[str] = []

    def listen(_conn: object, _cursor: object, sql: str, *_args: object) -> None:
        heard.append(sql.split()[0])

    event.listen(pg_engine.sync_engine, "before_cursor_execute", listen)
    try:
        async with uows(pg_engine)() as uow:
            await PID.scalar(uow.db)
            await add(table).rowcount(uow.db, name="a")
            await uow.commit()
        async with read_connection(pg_engine) as conn:
            await PID.scalar(conn)
    finally:
        event.remove(pg_engine.sync_engine, "before_cursor_execute", listen)
    assert heard == ["SELECT", "INSERT", "SELECT"]
    assert in_pool(pg_engine) == 0


async def test_leaving_without_commit_rolls_back(pg_engine: AsyncEngine, table: Table, code: str) -> None:
    async with uows(pg_engine)() as uow:
        await add(table).rowcount(uow.db, name="a")
        appends.append(uow.db, Region, code=code, name="queued")
    assert await committed_names(pg_engine, table) == []
    assert in_pool(pg_engine) == 0


async def test_orm_work_after_statements_joins_their_transaction(pg_engine: AsyncEngine, table: Table,
                                                                 code: str) -> None:
    region_name = Statement(select(Region.__table__.c.name).where(Region.__table__.c.code == bindparam("code")))
    async with uows(pg_engine)() as uow:
        pid = await PID.scalar(uow.db)
        txid = await TXID.scalar(uow.db)
        await add(table).rowcount(uow.db, name="before")
        uow.session.add(Region(code=code, name="orm"))  # the session joins the driver's connection
        assert uow.db is uow.session  # and from now on statements go through it (autoflush)
        assert await region_name.scalar(uow.db, code=code) == "orm"  # the ORM change, flushed first
        assert (await uow.session.exec(text("SELECT pg_backend_pid(), txid_current()"))).one() == (pid, txid)  # type: ignore[call-overload]
        await add(table).rowcount(uow.db, name="after")
        await uow.rollback()  # both kinds of work go together
        assert await names(table).all(uow.db) == []
        await add(table).rowcount(uow.db, name="again")
        uow.session.add(Region(code=code, name="orm"))
        await uow.commit()
    assert await committed_names(pg_engine, table) == ["again"]
    async with pg_engine.connect() as conn:
        assert (await conn.execute(select(func.count()).where(Region.__table__.c.code == code))).scalar() == 1
    assert in_pool(pg_engine) == 0


async def test_a_session_asked_for_first_owns_the_connection(pg_engine: AsyncEngine, table: Table,
                                                             code: str) -> None:
    async with uows(pg_engine)() as uow:
        appends.append(uow.db, Region, code=code, name="queued before")  # on the unit of work
        session = uow.session  # before any statement: an ordinary session
        assert uow.db is session and appends.pending(session) == 1  # what was queued moved along
        await add(table).rowcount(uow.db, name="a")
        await uow.commit()
    assert await committed_names(pg_engine, table) == ["a"]
    assert in_pool(pg_engine) == 0


async def test_a_test_session_is_used_as_given(session: object, engine: AsyncEngine) -> None:
    uow = UnitOfWork(session, FrozenClock(AT))  # type: ignore[arg-type]
    assert uow.db is session and uow.session is session


async def test_an_error_in_the_transaction_gives_the_connection_back(pg_engine: AsyncEngine, table: Table) -> None:
    with pytest.raises(IntegrityError):
        async with uows(pg_engine)() as uow:
            await add(table).rowcount(uow.db, name="a")
            await add(table).rowcount(uow.db, name="a")  # the unique name again
    assert in_pool(pg_engine) == 0
    async with uows(pg_engine)() as uow:  # the pooled connection is clean: a new transaction works
        await add(table).rowcount(uow.db, name="b")
        await uow.commit()
    assert await committed_names(pg_engine, table) == ["b"]


async def test_a_cancelled_unit_of_work_leaves_nothing_behind(pg_engine: AsyncEngine, table: Table) -> None:
    started = asyncio.Event()

    async def slow() -> None:
        async with uows(pg_engine)() as uow:
            await add(table).rowcount(uow.db, name="a")
            started.set()
            await Statement(select(func.pg_sleep(30))).all(uow.db)  # cancelled while the server works

    async def sleeping() -> bool:  # the statement to cancel is running on the server
        async with pg_engine.connect() as conn:
            found = await conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
                                            "AND query LIKE 'SELECT pg_sleep%'"))
            return bool(found.scalar())

    task = asyncio.create_task(slow())
    await asyncio.wait_for(started.wait(), 10)
    await wait_until(sleeping, timeout=10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 30)
    assert in_pool(pg_engine) == 0
    assert await committed_names(pg_engine, table) == []
    async with uows(pg_engine)() as uow:  # the pool still hands out working connections
        assert await PID.scalar(uow.db) is not None


async def test_a_connection_dead_at_commit_is_reported_and_replaced(pg_engine: AsyncEngine, pg: Postgres,
                                                                   table: Table) -> None:
    async with uows(pg_engine)() as uow:
        old = await PID.scalar(uow.db)
        await add(table).rowcount(uow.db, name="a")
        pg.psql(f"SELECT pg_terminate_backend({old}, 5000)")  # a restart, a failover, a killed backend
        with pytest.raises(DBAPIError) as caught:
            await uow.commit()
        assert caught.value.connection_invalidated
    assert in_pool(pg_engine) == 0
    assert await committed_names(pg_engine, table) == []
    async with uows(pg_engine)() as uow:
        assert await PID.scalar(uow.db) != old


async def test_many_rows_queued_are_written_in_bulk_in_the_transaction(pg_engine: AsyncEngine, code: str) -> None:
    prefix = code
    async with uows(pg_engine)() as uow:
        for i in range(40):  # beyond one combined statement: an executemany through SQLAlchemy
            appends.append(uow.db, Region, code=f"{prefix}{i:02d}", name="bulk")
        await uow.commit()
    async with pg_engine.connect() as conn:
        count = (await conn.execute(select(func.count()).where(Region.__table__.c.code.like(f"{prefix}%")))).scalar()
    assert count == 40
    assert in_pool(pg_engine) == 0


async def test_read_connection_runs_each_statement_on_its_own(pg_engine: AsyncEngine) -> None:
    async with read_connection(pg_engine) as conn:
        first, second = await TXID.scalar(conn), await TXID.scalar(conn)
        assert second != first  # autocommit: no BEGIN, each statement its own transaction
        with pytest.raises(DBAPIError):
            await Statement(select(literal_column("1/0"))).all(conn)
        assert await PID.scalar(conn) is not None  # still usable: nothing to roll back
    assert in_pool(pg_engine) == 0
