"""Fixtures for the live-feed integration tests: the app on a fresh migrated database per test, on
SQLite and PostgreSQL, with the seed users (``tests.support.factories``) and queues."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from backend.persistence.db import create_engine, session_factory
from backend.persistence.tables import CallQueue
from backend.settings import Settings
from tests.support import factories
from tests.support.apptest import START, AppHarness, migrated_settings, open_app


class Live:
    def __init__(self, harness: AppHarness, ref: factories.Ref) -> None:
        self.harness = harness
        self.ref = ref


def _seed(url: str) -> factories.Ref:
    """Users and queues, written before the app starts (the hub loads them at start-up)."""
    async def run() -> factories.Ref:
        engine = create_engine(url)
        try:
            async with session_factory(engine)() as session:
                ref = await factories.seed(session, START)
                session.add_all([CallQueue(code="hotline", name="Fault hotline", line="fault", sl_threshold_s=20),
                                 CallQueue(code="consultation", name="Consultation", line="consultation",
                                           sl_threshold_s=30, sl_formula="asterisk_sl")])
                await session.commit()
                return ref
        finally:
            await engine.dispose()

    return asyncio.run(run())


def start_live(request: pytest.FixtureRequest, settings: Settings, **overrides: Any) -> Iterator[Live]:
    with migrated_settings(request, settings.model_copy(update=overrides)) as s:
        ref = _seed(s.database_url)
        with open_app(s) as harness:
            yield Live(harness, ref)


@pytest.fixture(params=["sqlite", "postgresql"])
def live(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Live]:
    yield from start_live(request, settings)


@pytest.fixture(params=["sqlite"])
def live_sqlite(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Live]:
    """For transport behaviour that does not depend on the database."""
    yield from start_live(request, settings)
