"""Sessions over HTTP on SQLite and PostgreSQL: access tokens refused when expired, forged or
revoked; refresh rotation and replay detection; logout; the role guard ``require_principal``."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import replace

import pytest
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from backend.auth import tokens
from backend.domain.actors import Role
from backend.persistence.tables import AuditLog, RefreshToken
from backend.settings import Settings
from backend.web.auth import require_principal
from tests.conftest import BACKENDS
from tests.integration.auth_harness import AuthHarness, error_code, migrated_settings, open_harness

OTHER_KEY = "another-secret-key-of-at-least-32-bytes-0123456789"


async def admin_only(request: Request) -> Response:
    principal = await require_principal(request, Role.ADMIN, Role.SUPERVISOR)
    return JSONResponse({"user_id": principal.user_id, "role": principal.role,
                         "session_id": principal.session_id})


@pytest.fixture(params=BACKENDS)
def auth(request: pytest.FixtureRequest, settings: Settings) -> Iterator[AuthHarness]:
    with migrated_settings(request, settings) as migrated, \
            open_harness(migrated, [Route("/test/admin-only", admin_only)]) as harness:
        yield harness


def _forge(auth: AuthHarness, access_token: str, *, secret: str | None = None, **claims: object) -> str:
    """Re-sign a genuine token's claims with one thing changed."""
    settings = auth.settings
    audience = str(claims.pop("audience", settings.jwt_audience))
    issuer = str(claims.pop("issuer", settings.jwt_issuer))
    return tokens.encode_access(replace(auth.claims(access_token), **claims),
                                secret=secret or settings.secret_key.get_secret_value(),
                                issuer=issuer, audience=audience)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_missing_or_malformed_authorization_is_unauthenticated(auth: AuthHarness) -> None:
    access = auth.tokens_for(_user(auth))["access_token"]
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": f"Basic {access}"}):
        response = auth.client.get("/api/auth/me", headers=headers)
        assert response.status_code == 401
        assert error_code(response) == "unauthenticated"
        assert response.headers["www-authenticate"] == "Bearer"


def test_access_token_expires(auth: AuthHarness) -> None:
    access = auth.tokens_for(_user(auth))["access_token"]
    auth.clock.advance(seconds=auth.settings.access_token_ttl_s - 1)
    assert auth.me(access).status_code == 200
    auth.clock.advance(seconds=1)
    expired = auth.me(access)
    assert expired.status_code == 401
    assert error_code(expired) == "token-expired"


@pytest.mark.parametrize("change", [
    {"audience": "someone-else"},
    {"issuer": "someone-else"},
    {"secret": OTHER_KEY},
])
def test_forged_tokens_are_invalid(auth: AuthHarness, change: dict) -> None:
    access = auth.tokens_for(_user(auth))["access_token"]
    assert auth.me(_forge(auth, access)).status_code == 200  # the forge itself is faithful
    response = auth.me(_forge(auth, access, **change))
    assert response.status_code == 401
    assert error_code(response) == "invalid-token"


def test_alg_none_is_refused(auth: AuthHarness) -> None:
    access = auth.tokens_for(_user(auth))["access_token"]
    _, payload, _ = access.split(".")
    unsigned = f"{_b64({'alg': 'none', 'typ': 'access'})}.{payload}."
    response = auth.me(unsigned)
    assert response.status_code == 401
    assert error_code(response) == "invalid-token"


def test_refresh_rotates_within_the_family(auth: AuthHarness) -> None:
    first = auth.tokens_for(_user(auth))
    auth.clock.advance(seconds=600)
    response = auth.refresh(first["refresh_token"])
    assert response.status_code == 200
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["user"] == first["user"]
    family = auth.claims(first["access_token"]).session_id
    assert auth.claims(second["access_token"]).session_id == family
    assert auth.claims(second["access_token"]).issued_at == auth.clock.now()
    rows = {r.token_hash: r for r in auth.rows(RefreshToken)}
    spent = rows[tokens.hash_refresh_token(first["refresh_token"])]
    fresh = rows[tokens.hash_refresh_token(second["refresh_token"])]
    assert spent.used_at == auth.clock.now() and spent.revoked_at is None
    assert fresh.family_id == family and fresh.used_at is None
    assert auth.me(second["access_token"]).status_code == 200
    assert auth.refresh(second["refresh_token"]).status_code == 200  # and again


def test_refresh_replay_revokes_the_whole_family(auth: AuthHarness) -> None:
    username = _user(auth)
    first = auth.tokens_for(username)
    other_session = auth.tokens_for(username)  # another device: must survive
    second = auth.refresh(first["refresh_token"]).json()

    replay = auth.refresh(first["refresh_token"])
    assert replay.status_code == 401
    assert error_code(replay) == "refresh-token-reused"
    # The revocation was committed although the request was refused.
    newer = auth.refresh(second["refresh_token"])
    assert newer.status_code == 401 and error_code(newer) == "refresh-token-reused"
    for access in (first["access_token"], second["access_token"]):
        me = auth.me(access)
        assert me.status_code == 401 and error_code(me) == "token-revoked"
    family = auth.claims(first["access_token"]).session_id
    assert all(r.revoked_at is not None for r in auth.rows(RefreshToken, RefreshToken.family_id == family))
    assert auth.me(other_session["access_token"]).status_code == 200
    audits = auth.rows(AuditLog, AuditLog.action == "auth.refresh_reused")
    assert [a.details["session_id"] for a in audits] == [family, family]
    assert audits[0].details["tokens_revoked"] == 2


def test_unknown_and_expired_refresh_tokens(auth: AuthHarness) -> None:
    first = auth.tokens_for(_user(auth))
    unknown = auth.refresh(tokens.new_refresh_token())
    assert unknown.status_code == 401 and error_code(unknown) == "invalid-refresh-token"
    auth.clock.advance(seconds=auth.settings.refresh_token_ttl_s)
    expired = auth.refresh(first["refresh_token"])
    assert expired.status_code == 401 and error_code(expired) == "refresh-token-expired"
    assert all(r.revoked_at is None and r.used_at is None for r in auth.rows(RefreshToken))


def test_logout_revokes_the_session(auth: AuthHarness) -> None:
    username = _user(auth)
    pair = auth.tokens_for(username)
    other_session = auth.tokens_for(username)
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    response = auth.client.post("/api/auth/logout", headers=headers)
    assert response.status_code == 204 and response.content == b""
    me = auth.me(pair["access_token"])
    assert me.status_code == 401 and error_code(me) == "token-revoked"
    again = auth.client.post("/api/auth/logout", headers=headers)
    assert again.status_code == 401 and error_code(again) == "token-revoked"
    refreshed = auth.refresh(pair["refresh_token"])
    assert refreshed.status_code == 401 and error_code(refreshed) == "refresh-token-reused"
    assert auth.me(other_session["access_token"]).status_code == 200
    [audit] = auth.rows(AuditLog, AuditLog.action == "auth.logout")
    assert audit.details["session_id"] == auth.claims(pair["access_token"]).session_id
    assert audit.actor_id == int(audit.target_id)


def test_logout_needs_a_token(auth: AuthHarness) -> None:
    response = auth.client.post("/api/auth/logout")
    assert response.status_code == 401 and error_code(response) == "unauthenticated"


@pytest.mark.parametrize(("role", "status"), [("admin", 200), ("supervisor", 200), ("agent", 403),
                                              ("engineer", 403), ("wallboard", 403)])
def test_require_principal_checks_the_role(auth: AuthHarness, role: str, status: int) -> None:
    access = auth.tokens_for(_user(auth, role))["access_token"]
    response = auth.client.get("/test/admin-only", headers={"Authorization": f"Bearer {access}"})
    assert response.status_code == status
    if status == 403:
        assert error_code(response) == "role-not-allowed"
        assert response.json()["error"]["details"]["allowed"] == ["admin", "supervisor"]
    else:
        assert response.json()["role"] == role
        assert response.json()["session_id"] == auth.claims(access).session_id


def _user(auth: AuthHarness, role: str = "supervisor") -> str:
    username = f"{role}-user"
    auth.add_user(username, role=role)
    return username
