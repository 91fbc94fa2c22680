"""The app on a fresh, migrated database per test, on SQLite or PostgreSQL, under Starlette's
TestClient with a FrozenClock; helpers to run DB code on the app's loop and to log in.

Each backend is migrated once per test session into a template (a SQLite file, a PostgreSQL
template database); a test gets a copy of it, so "fresh per test" costs milliseconds."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import uuid
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlalchemy.engine import make_url
from sqlmodel import select
from starlette.testclient import TestClient

from backend.clock import FrozenClock
from backend.domain.actors import Principal
from backend.domain.work_orders import WorkOrder
from backend.domain.work_orders import commands as c
from backend.persistence.db import create_engine
from backend.persistence.migrate import upgrade
from backend.services import work_orders as svc
from backend.settings import Settings
from fieldline.app import create_app
from tests.support import factories

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # Monday 09:00 in Shanghai: business hours


@dataclass
class _Databases:
    """Per test session: each backend's migrated template; for PostgreSQL, a thread that copies the
    next test's database while the current test runs (a copy costs ~0.4 s of I/O) and drops old ones."""

    templates: dict[str, str] = field(default_factory=dict)
    copier: ThreadPoolExecutor | None = None
    spare: tuple[str, Future[None]] | None = None


_DATABASES = pytest.StashKey[_Databases]()


def _databases(request: pytest.FixtureRequest) -> _Databases:
    return request.config.stash.setdefault(_DATABASES, _Databases())


def _copier(request: pytest.FixtureRequest) -> ThreadPoolExecutor:
    dbs = _databases(request)
    if dbs.copier is None:
        request.getfixturevalue("pg")  # set up before this finalizer is added, so torn down after it runs
        copier = dbs.copier = ThreadPoolExecutor(1, "apptest-db")
        request.session.addfinalizer(copier.shutdown)  # let the last copy and drops finish
    return dbs.copier


def _migrate(url: str) -> None:
    async def run() -> None:
        engine = create_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())


def _template(request: pytest.FixtureRequest, backend: str) -> str:
    """The migrated template of ``backend`` (a file path or a database name), made once per session."""
    templates = _databases(request).templates
    if backend not in templates:
        if backend == "sqlite":
            path = request.getfixturevalue("tmp_path_factory").mktemp("apptest-template") / "template.db"
            _migrate(f"sqlite+aiosqlite:///{path}")
            templates[backend] = str(path)
        else:
            pg = request.getfixturevalue("pg")
            name = f"apptest_template_{uuid.uuid4().hex[:8]}"
            pg.psql(f"CREATE DATABASE {name}")
            _migrate(pg.url(name))  # the engine is disposed: nobody stays connected to the template
            templates[backend] = name
    return templates[backend]


def _pg_copy(request: pytest.FixtureRequest) -> str:
    """A new database copied from the PostgreSQL template; starts copying the next one."""
    pg, template, dbs = request.getfixturevalue("pg"), _template(request, "postgresql"), _databases(request)

    def copy(name: str) -> None:
        # FILE_COPY (PostgreSQL >= 15) checkpoints and copies the files, instead of WAL-logging every block.
        pg.psql(f"CREATE DATABASE {name} TEMPLATE {template} STRATEGY FILE_COPY")

    if dbs.spare is None:
        name = f"apptest_{uuid.uuid4().hex[:12]}"
        copy(name)
    else:
        name, copying = dbs.spare
        copying.result()
    following = f"apptest_{uuid.uuid4().hex[:12]}"
    dbs.spare = (following, _copier(request).submit(copy, following))
    return name


@contextmanager
def fresh_database(request: pytest.FixtureRequest, backend: str, sqlite_path: Path) -> Iterator[str]:
    """The URL of an empty, migrated database of ``backend``, dropped afterwards (PostgreSQL)."""
    if backend == "sqlite":
        sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.closing(sqlite3.connect(_template(request, backend))) as src, \
                contextlib.closing(sqlite3.connect(sqlite_path)) as dst:
            src.backup(dst)
        yield f"sqlite+aiosqlite:///{sqlite_path}"
        return
    pg = request.getfixturevalue("pg")
    name = _pg_copy(request)
    try:
        yield pg.url(name)
    finally:  # in the background too: nobody waits for a drop
        _copier(request).submit(pg.psql, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@contextmanager
def migrated_settings(request: pytest.FixtureRequest, settings: Settings,
                      backend: str | None = None) -> Iterator[Settings]:
    """``settings`` pointing at a fresh migrated database of ``backend`` (default: ``request.param``)."""
    backend = backend or request.param
    path = Path(make_url(settings.database_url).database or "app.db")
    with fresh_database(request, backend, path) as url:
        yield settings.model_copy(update={"database_url": url})


@dataclass
class AppHarness:
    client: TestClient
    clock: FrozenClock
    settings: Settings
    password: str = factories.PASSWORD
    _bearers: dict[str, tuple[dict[str, str], datetime]] = field(default_factory=dict, repr=False)

    # --- database, on the app's own loop -------------------------------------------------------

    def run(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        """Run ``await fn(session, *args)`` on the app's loop and session factory."""
        async def call() -> Any:
            async with self.client.app.state.sessions() as session:
                return await fn(session, *args)

        assert self.client.portal is not None
        return self.client.portal.call(call)

    def run_uow(self, fn: Callable[..., Awaitable[Any]], *args: Any) -> Any:
        """Run ``await fn(uow, *args)`` in one of the app's units of work, committed if it returns."""
        async def call() -> Any:
            async with self.client.app.state.uows() as uow:
                result = await fn(uow, *args)
                await uow.commit()
                return result

        assert self.client.portal is not None
        return self.client.portal.call(call)

    def act(self, actor: Principal, order_id: int, command: c.Command) -> WorkOrder:
        """A lifecycle command through the service (engineer actions have no console route)."""
        return self.run_uow(lambda uow: svc.act(uow, actor, order_id, command))

    def seed(self) -> factories.Ref:
        async def insert(session: Any) -> factories.Ref:
            ref = await factories.seed(session, self.clock.now())
            await session.commit()
            return ref

        return self.run(insert)

    def rows(self, table: type, *where: Any) -> list[Any]:
        async def query(session: Any) -> list[Any]:
            return list((await session.exec(select(table).where(*where))).all())

        return self.run(query)

    def count(self, table: type, *where: Any) -> int:
        async def query(session: Any) -> int:
            stmt = sa_select(func.count()).select_from(table).where(*where)
            return (await session.exec(stmt)).scalar_one()

        return self.run(query)

    # --- authentication ------------------------------------------------------------------------

    def login(self, username: str, password: str | None = None) -> httpx.Response:
        return self.client.post("/api/auth/login", json={"username": username, "password": password or self.password})

    def tokens_for(self, username: str, password: str | None = None) -> dict[str, Any]:
        response = self.login(username, password)
        assert response.status_code == 200, response.text
        return response.json()

    def bearer(self, who: str | Principal) -> dict[str, str]:
        """``Authorization`` headers for a user: logged in once, again after the clock passed expiry."""
        username = who.username if isinstance(who, Principal) else who
        cached = self._bearers.get(username)
        if cached is None or self.clock.now() >= cached[1]:
            tokens = self.tokens_for(username)
            cached = ({"Authorization": f"Bearer {tokens['access_token']}"},
                      self.clock.now() + timedelta(seconds=tokens["expires_in"]))
            self._bearers[username] = cached
        return cached[0]


@contextmanager
def open_app(settings: Settings, *, harness: type[AppHarness] = AppHarness, start: datetime = START,
             extra_routes: list[Any] | None = None) -> Iterator[Any]:
    """The app (lifespan run) under a TestClient, on a FrozenClock at ``start``."""
    clock = FrozenClock(start)
    app = create_app(settings, clock=clock)
    app.router.routes.extend(extra_routes or [])
    with TestClient(app) as client:
        yield harness(client, clock, settings)


def error_code(response: httpx.Response) -> str:
    return response.json()["error"]["code"]
