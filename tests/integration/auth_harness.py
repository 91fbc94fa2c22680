"""Test harness for the auth HTTP tests: a freshly migrated database per test (SQLite file or a
throwaway PostgreSQL database), the app on a FrozenClock, and helpers to seed users and read rows."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from sqlmodel import select
from starlette.testclient import TestClient

from backend.auth import tokens
from backend.auth.passwords import hash_password
from backend.clock import FrozenClock
from backend.persistence.db import create_engine
from backend.persistence.migrate import upgrade
from backend.persistence.tables import User
from backend.settings import Settings
from fieldline.app import create_app

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"


def _migrate(url: str) -> None:
    async def run() -> None:
        engine = create_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())


@contextmanager
def migrated_settings(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Settings]:
    """``settings`` pointing at an empty, migrated database of the backend ``request.param``."""
    if request.param == "sqlite":
        _migrate(settings.database_url)
        yield settings
        return
    pg = request.getfixturevalue("pg")
    name = f"auth_{uuid.uuid4().hex[:12]}"
    pg.psql(f"CREATE DATABASE {name}")
    try:
        _migrate(pg.url(name))
        yield settings.model_copy(update={"database_url": pg.url(name)})
    finally:
        pg.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@dataclass
class AuthHarness:
    client: TestClient
    clock: FrozenClock
    settings: Settings

    def run(self, fn: Any, *args: Any) -> Any:
        """Run ``await fn(session, *args)`` on the app's own loop and session factory."""
        async def call() -> Any:
            async with self.client.app.state.sessions() as session:
                return await fn(session, *args)

        assert self.client.portal is not None
        return self.client.portal.call(call)

    def add_user(self, username: str, *, role: str = "supervisor", active: bool = True,
                 password: str = PASSWORD, password_hash: str | None = None) -> int:
        async def insert(session: Any) -> int:
            user = User(username=username, display_name=username.title(), role=role, active=active,
                        password_hash=password_hash or hash_password(password), created_at=self.clock.now())
            session.add(user)
            await session.commit()
            return user.id

        return self.run(insert)

    def rows(self, table: type, *where: Any) -> list[Any]:
        async def query(session: Any) -> list[Any]:
            return list((await session.exec(select(table).where(*where))).all())

        return self.run(query)

    def login(self, username: str, password: str = PASSWORD) -> httpx.Response:
        return self.client.post("/api/auth/login", json={"username": username, "password": password})

    def tokens_for(self, username: str, password: str = PASSWORD) -> dict[str, Any]:
        response = self.login(username, password)
        assert response.status_code == 200, response.text
        return response.json()

    def refresh(self, refresh_token: str) -> httpx.Response:
        return self.client.post("/api/auth/refresh", json={"refresh_token": refresh_token})

    def me(self, access_token: str) -> httpx.Response:
        return self.client.get("/api/auth/me", headers={"Authorization": f"Bearer {access_token}"})

    def claims(self, access_token: str) -> tokens.AccessClaims:
        return tokens.decode_access(access_token, secret=self.settings.secret_key.get_secret_value(),
                                    issuer=self.settings.jwt_issuer, audience=self.settings.jwt_audience,
                                    now=self.clock.now())


@contextmanager
def open_harness(settings: Settings, extra_routes: list[Any] | None = None) -> Iterator[AuthHarness]:
    clock = FrozenClock(START)
    app = create_app(settings, clock=clock)
    app.router.routes.extend(extra_routes or [])
    with TestClient(app) as client:
        yield AuthHarness(client, clock, settings)


def error_code(response: httpx.Response) -> str:
    return response.json()["error"]["code"]
