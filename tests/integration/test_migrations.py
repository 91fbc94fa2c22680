"""Migrations run from empty on both backends; history tables refuse rewrites."""

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import SQLModel

import backend.persistence.schema  # noqa: F401  (registers every table on the metadata)
from backend.persistence.db import create_engine
from backend.persistence.migrate import alembic_config, current_revision, upgrade


async def test_migrates_from_empty_to_head(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        assert await current_revision(engine) is not None
        await upgrade(engine)  # idempotent: already at head
        async with engine.connect() as conn:
            count = (await conn.execute(text("SELECT COUNT(*) FROM work_order"))).scalar_one()
        assert count >= 0
    finally:
        await engine.dispose()


@pytest.mark.parametrize("table", ["audit_log", "work_order_event"])
async def test_history_is_append_only(session, table: str) -> None:
    now = datetime.now(UTC).replace(tzinfo=None)
    if table == "audit_log":
        await session.exec(text(
            "INSERT INTO audit_log (at, actor_role, action, target_type, target_id, request_id, details)"
            " VALUES (:at, 'system', 'test', '', '', '', '{}')").bindparams(at=now))
    else:
        await session.exec(text(
            "INSERT INTO customer (name, contact_name, phone, created_at) VALUES ('c', '', '1', :at)"
        ).bindparams(at=now))
        await session.exec(text(
            "INSERT INTO work_order (number, kind, state, version, channel, description, contact_name,"
            " contact_phone, special_incident, flags, reported_at, urge_count, created_at, updated_at)"
            " VALUES ('WO-T', 'repair', 'created', 1, 'phone', '', '', '', false, '[]', :at, 0, :at, :at)"
        ).bindparams(at=now))
        await session.exec(text(
            "INSERT INTO work_order_event (event_id, work_order_id, seq, type, actor_role, occurred_at,"
            " recorded_at, payload) SELECT 'e1', id, 1, 'WorkOrderCreated', 'system', :at, :at, '{}'"
            " FROM work_order WHERE number = 'WO-T'").bindparams(at=now))
    nested = await session.begin_nested()
    with pytest.raises((IntegrityError, DBAPIError), match="append-only"):
        await session.exec(text(f"UPDATE {table} SET id = id"))
    await nested.rollback()
    nested = await session.begin_nested()
    with pytest.raises((IntegrityError, DBAPIError), match="append-only"):
        await session.exec(text(f"DELETE FROM {table}"))
    await nested.rollback()


def test_the_history_has_one_head() -> None:
    assert ScriptDirectory.from_config(alembic_config()).get_heads() == ["0007"]


async def test_the_migrated_schema_matches_the_models(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), SQLModel.metadata))
    finally:
        await engine.dispose()
    assert diff == []
