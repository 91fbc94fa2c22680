"""Test harness for the auth HTTP tests: the app on a fresh migrated database (``tests.support.apptest``)
plus helpers to add users, refresh, call /me and decode access tokens."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from backend.auth import tokens
from backend.auth.passwords import hash_password
from backend.persistence.tables import User
from backend.settings import Settings
from tests.support.apptest import START, AppHarness, error_code, migrated_settings, open_app

PASSWORD = "correct horse battery staple"

__all__ = ["PASSWORD", "START", "AuthHarness", "error_code", "migrated_settings", "open_harness"]


@dataclass
class AuthHarness(AppHarness):
    password: str = PASSWORD

    def add_user(self, username: str, *, role: str = "supervisor", active: bool = True,
                 password: str = PASSWORD, password_hash: str | None = None) -> int:
        async def insert(session: Any) -> int:
            user = User(username=username, display_name=username.title(), role=role, active=active,
                        password_hash=password_hash or hash_password(password), created_at=self.clock.now())
            session.add(user)
            await session.commit()
            return user.id

        return self.run(insert)

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
    with open_app(settings, harness=AuthHarness, extra_routes=extra_routes) as harness:
        yield harness
