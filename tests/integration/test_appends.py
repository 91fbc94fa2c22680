"""Append-only rows (``backend.persistence.appends``): queued in the transaction, written as it
commits (one statement on PostgreSQL, one per table on SQLite), every value as given, nothing on a
rollback, visible to a read in the same transaction after ``flush``."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import event, func
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from backend.clock import FrozenClock
from backend.domain.actors import Principal, Role
from backend.events import WorkOrderAcknowledged
from backend.persistence import appends
from backend.persistence.db import session_factory
from backend.persistence.tables import AuditLog, Outbox
from backend.services.uow import UnitOfWork, UnitOfWorkFactory
from tests.conftest import BACKENDS
from tests.support.apptest import fresh_database

AT = datetime(2026, 3, 2, 1, 30, 15, 123456, tzinfo=UTC)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh database per test (overrides conftest's shared one): these tests commit audit and
    outbox rows that tests sharing a database would count."""
    with fresh_database(request, request.param, tmp_path / "appends.db") as url:
        yield url


@pytest.fixture
async def sessions(engine: AsyncEngine) -> AsyncIterator[UnitOfWorkFactory]:
    yield UnitOfWorkFactory(session_factory(engine), FrozenClock(AT))


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[list[str]]:
    seen: list[str] = []

    def listen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", listen)


def outbox_row(payload: dict[str, object]) -> dict[str, object]:
    # Already published: a relay sharing this database never picks them up.
    return {"event_id": str(uuid.uuid4()), "type": "Tested", "key": "k-1", "payload": payload, "created_at": AT,
            "published_at": AT}


def audit_row(action: str) -> dict[str, object]:
    # Not a work order's target: other tests on this database count a work order's audit rows.
    return {"at": AT, "actor_id": None, "action": action, "target_type": "test", "target_id": "appends-test",
            "request_id": "r-1", "details": {"n": 1, "nested": {"x": [1, 2]}}}  # actor_role: its default


async def count(session: AsyncSession, table: type[Outbox] | type[AuditLog], marker: str) -> int:
    column = Outbox.type if table is Outbox else AuditLog.action
    return (await session.exec(select(func.count()).select_from(table).where(column == marker))).one()


async def test_rows_are_written_as_the_transaction_commits_in_one_statement_on_postgresql_or_one_per_table(
        engine: AsyncEngine, sessions: UnitOfWorkFactory) -> None:
    marker = f"test-{uuid.uuid4().hex[:8]}"
    async with sessions() as uow:
        for i in range(2):
            appends.append(uow.session, Outbox, **outbox_row({"i": i, "text": "泵漏油"}))
        appends.append(uow.session, AuditLog, **audit_row(marker))
        assert appends.pending(uow.session) == 3
        with statements(engine) as seen:
            await uow.commit()
    inserts = [s for s in seen if "INSERT" in s.upper()]
    if engine.dialect.name == "postgresql":
        assert len(inserts) == 1 and inserts[0].upper().startswith("WITH")
    else:
        assert len(inserts) == 2  # one multi-row INSERT per table
    async with sessions() as uow:
        rows = (await uow.session.exec(select(Outbox).where(Outbox.key == "k-1", Outbox.created_at == AT)
                                       .order_by(Outbox.id))).all()  # type: ignore[arg-type]
        mine = rows[-2:]
        assert [r.payload for r in mine] == [{"i": 0, "text": "泵漏油"}, {"i": 1, "text": "泵漏油"}]
        assert all(r.created_at == AT and r.published_at == AT for r in mine)
        audit = (await uow.session.exec(select(AuditLog).where(AuditLog.action == marker))).one()
        assert audit.details == {"n": 1, "nested": {"x": [1, 2]}} and audit.at == AT
        assert audit.actor_role == "system"  # a column not given takes its default


async def test_an_unknown_column_is_refused_at_once(sessions: UnitOfWorkFactory) -> None:
    async with sessions() as uow:
        with pytest.raises(TypeError, match="no column"):
            appends.append(uow.session, AuditLog, **audit_row("x"), actor="nobody")
        assert appends.pending(uow.session) == 0


async def test_a_rollback_writes_nothing(sessions: UnitOfWorkFactory) -> None:
    marker = f"test-{uuid.uuid4().hex[:8]}"
    async with sessions() as uow:
        appends.append(uow.session, AuditLog, **audit_row(marker))
        await uow.session.rollback()
        assert appends.pending(uow.session) == 0
    async with sessions() as uow:  # left without commit: the factory rolls back
        appends.append(uow.session, AuditLog, **audit_row(marker))
    async with sessions() as uow:
        assert await count(uow.session, AuditLog, marker) == 0


async def test_a_savepoint_rolled_back_drops_only_what_was_queued_inside_it(sessions: UnitOfWorkFactory) -> None:
    before, inside, after = (f"test-{uuid.uuid4().hex[:8]}" for _ in range(3))
    async with sessions() as uow:
        appends.append(uow.session, AuditLog, **audit_row(before))
        try:
            async with uow.session.begin_nested():
                appends.append(uow.session, AuditLog, **audit_row(inside))
                raise RuntimeError("refused inside the savepoint")
        except RuntimeError:
            pass
        appends.append(uow.session, AuditLog, **audit_row(after))
        await uow.commit()
    async with sessions() as uow:
        assert [await count(uow.session, AuditLog, m) for m in (before, inside, after)] == [1, 0, 1]


async def test_a_commit_by_another_path_and_a_bulk_commit_write_them_too(sessions: UnitOfWorkFactory) -> None:
    """``UnitOfWork.commit`` writes on the driver; a plain ``session.commit`` (the listener, through
    SQLAlchemy) and a queue too long to combine (executemany) give the same rows."""
    plain, bulk = (f"test-{uuid.uuid4().hex[:8]}" for _ in range(2))
    async with sessions() as uow:
        appends.append(uow.session, AuditLog, **audit_row(plain))
        await uow.session.commit()
    async with sessions() as uow:
        for _ in range(appends._MAX_COMBINED_ROWS + 1):
            appends.append(uow.session, AuditLog, **audit_row(bulk))
        await uow.commit()
    async with sessions() as uow:
        assert await count(uow.session, AuditLog, plain) == 1
        assert await count(uow.session, AuditLog, bulk) == appends._MAX_COMBINED_ROWS + 1


async def test_a_read_in_the_same_transaction_sees_them_after_flush(sessions: UnitOfWorkFactory) -> None:
    marker = f"test-{uuid.uuid4().hex[:8]}"
    async with sessions() as uow:
        appends.append(uow.session, AuditLog, **audit_row(marker))
        assert await count(uow.session, AuditLog, marker) == 0  # queued, not written yet
        await appends.flush(uow.session)
        assert appends.pending(uow.session) == 0
        assert await count(uow.session, AuditLog, marker) == 1
        await uow.commit()  # nothing written twice
    async with sessions() as uow:
        assert await count(uow.session, AuditLog, marker) == 1


async def test_a_flush_for_one_table_writes_only_when_that_table_has_rows_queued(sessions: UnitOfWorkFactory) -> None:
    marker = f"test-{uuid.uuid4().hex[:8]}"
    async with sessions() as uow:
        appends.append(uow.session, AuditLog, **audit_row(marker))
        await appends.flush(uow.session, Outbox)  # no outbox row queued: nothing written yet
        assert appends.pending(uow.session) == 1
        appends.append(uow.session, Outbox, **outbox_row({"flush": marker}))
        await appends.flush(uow.session, Outbox)  # now: the whole queue, in order
        assert appends.pending(uow.session) == 0
        assert await count(uow.session, AuditLog, marker) == 1
        await uow.commit()


async def test_a_unit_of_work_emits_and_audits_through_the_queue(session: AsyncSession) -> None:
    marker = f"test.{uuid.uuid4().hex[:8]}"
    actor = Principal(user_id=None, role=Role.SYSTEM, username="system")
    uow = UnitOfWork(session, FrozenClock(AT))  # the fixture's transaction is rolled back afterwards
    uow.emit(WorkOrderAcknowledged(work_order_id=424242, engineer_id=7))
    uow.audit(actor, marker, "work_order", 424242)
    assert appends.pending(session) == 2
    await uow.commit()
    assert appends.pending(session) == 0
    assert await count(session, AuditLog, marker) == 1
    row = (await session.exec(select(Outbox).where(Outbox.key == "work_order:424242"))).one()
    assert row.type == "WorkOrderAcknowledged" and row.payload["engineer_id"] == 7 and row.created_at == AT


async def test_the_statement_of_a_shape_is_built_once(engine: AsyncEngine, sessions: UnitOfWorkFactory) -> None:
    appends._SHAPES.clear()
    for _ in range(2):
        async with sessions() as uow:
            appends.append(uow.session, Outbox, **outbox_row({"shape": "cache"}))
            appends.append(uow.session, AuditLog, **audit_row("shape-cache"))
            await uow.commit()
    shape = (("outbox", 1, tuple(c.name for c in Outbox.__table__.columns if c.name != "id")),  # type: ignore[attr-defined]
             ("audit_log", 1, tuple(c.name for c in AuditLog.__table__.columns if c.name != "id")))  # type: ignore[attr-defined]
    together = engine.dialect.name == "postgresql"
    assert list(appends._SHAPES) == [(together, shape)]  # built by the first commit, reused by the second
    assert len(appends._SHAPES[(together, shape)][0]) == (1 if together else 2)  # SQLite: one per table
