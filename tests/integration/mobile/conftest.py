"""Fixtures of the mobile API tests: the app harness on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from backend.settings import Settings
from tests.conftest import BACKENDS
from tests.integration.mobile.fcm_standin import Standin, fcm_standin
from tests.integration.mobile.harness import MobileHarness
from tests.support.apptest import migrated_settings, open_app


@pytest.fixture(params=BACKENDS)
def mobile(request: pytest.FixtureRequest, settings: Settings) -> Iterator[MobileHarness]:
    with migrated_settings(request, settings) as migrated, open_app(migrated, harness=MobileHarness) as harness:
        yield harness


@pytest.fixture(scope="session")
def fcm_server() -> Iterator[Standin]:
    with fcm_standin() as server:
        yield server


@pytest.fixture
def fcm(fcm_server: Standin) -> Iterator[Standin]:
    fcm_server.reset()
    yield fcm_server
    fcm_server.reset()
