"""POST /api/auth/login over HTTP on SQLite and PostgreSQL: credentials, inactive and unknown
users, what a refusal writes (and only that), the per-account rate limit, audit rows, body parsing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from backend.auth import tokens
from backend.persistence.tables import AuditLog, LoginAttempt, Outbox, RefreshToken, User
from backend.settings import Settings
from tests.conftest import BACKENDS
from tests.integration.auth_harness import PASSWORD, AuthHarness, error_code, migrated_settings, open_harness


@pytest.fixture(params=BACKENDS)
def auth(request: pytest.FixtureRequest, settings: Settings) -> Iterator[AuthHarness]:
    with migrated_settings(request, settings) as migrated, open_harness(migrated) as harness:
        yield harness


def test_login_returns_tokens_and_user(auth: AuthHarness) -> None:
    user_id = auth.add_user("ada", role="engineer")
    response = auth.login("ada")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == auth.settings.access_token_ttl_s
    assert body["refresh_expires_in"] == auth.settings.refresh_token_ttl_s
    assert body["user"] == {"id": user_id, "username": "ada", "display_name": "Ada", "role": "engineer",
                            "region_id": None, "provider_id": None}
    claims = auth.claims(body["access_token"])
    assert (claims.user_id, claims.role, claims.username) == (user_id, "engineer", "ada")
    assert (claims.expires_at - claims.issued_at).total_seconds() == auth.settings.access_token_ttl_s
    [stored] = auth.rows(RefreshToken)
    # Only the digest is stored, in the family named by the access token.
    assert stored.token_hash == tokens.hash_refresh_token(body["refresh_token"]) != body["refresh_token"]
    assert stored.family_id == claims.session_id and stored.user_id == user_id
    assert auth.me(body["access_token"]).json()["user"]["username"] == "ada"


def test_successful_login_is_recorded_and_audited(auth: AuthHarness) -> None:
    user_id = auth.add_user("ada")
    session_id = auth.claims(auth.tokens_for("ada")["access_token"]).session_id
    [attempt] = auth.rows(LoginAttempt)
    assert (attempt.username, attempt.user_id, attempt.success, attempt.remote) == ("ada", user_id, True,
                                                                                   "testclient")
    assert attempt.at == auth.clock.now()
    [audit] = auth.rows(AuditLog)
    assert (audit.action, audit.actor_id, audit.actor_role, audit.target_id) == (
        "auth.login_succeeded", user_id, "supervisor", str(user_id))
    assert audit.details["session_id"] == session_id
    assert audit.request_id  # the request id of the login request


def test_bad_password_writes_only_the_attempt_and_audit_row(auth: AuthHarness) -> None:
    user_id = auth.add_user("ada")
    [before] = auth.rows(User)
    response = auth.login("ada", "wrong password")
    assert response.status_code == 401
    assert error_code(response) == "invalid-credentials"
    assert response.headers["www-authenticate"] == "Bearer"
    assert "access_token" not in response.text
    [attempt] = auth.rows(LoginAttempt)
    assert (attempt.user_id, attempt.success) == (user_id, False)
    [audit] = auth.rows(AuditLog)
    assert (audit.action, audit.actor_id, audit.target_id) == ("auth.login_failed", None, str(user_id))
    assert audit.details == {"username": "ada", "remote": "testclient", "reason": "bad-password"}
    assert auth.rows(RefreshToken) == [] and auth.rows(Outbox) == []
    [after] = auth.rows(User)
    assert after.password_hash == before.password_hash


def test_unknown_user_is_refused_like_a_bad_password(auth: AuthHarness) -> None:
    auth.add_user("ada")
    unknown = auth.login("nobody")
    wrong = auth.login("ada", "wrong password")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()  # nothing tells the two apart
    attempts = auth.rows(LoginAttempt, LoginAttempt.username == "nobody")
    assert [(a.user_id, a.success) for a in attempts] == [(None, False)]
    reasons = [a.details["reason"] for a in auth.rows(AuditLog, AuditLog.action == "auth.login_failed")]
    assert sorted(reasons) == ["bad-password", "unknown-user"]


def test_inactive_user_cannot_log_in_even_with_the_right_password(auth: AuthHarness) -> None:
    auth.add_user("gone", active=False)
    response = auth.login("gone")
    assert response.status_code == 401
    assert error_code(response) == "invalid-credentials"
    assert auth.rows(RefreshToken) == []
    [audit] = auth.rows(AuditLog)
    assert (audit.action, audit.details["reason"]) == ("auth.login_failed", "inactive")


def test_ten_failures_a_minute_then_429_until_the_minute_passes(auth: AuthHarness) -> None:
    limit = auth.settings.login_failures_per_minute
    assert limit == 10
    auth.add_user("ada")
    auth.add_user("bob")
    for _ in range(limit):
        assert auth.login("ada", "guess").status_code == 401
    limited = auth.login("ada")  # even the right password: the account is locked for now
    assert limited.status_code == 429
    assert error_code(limited) == "rate-limited"
    assert limited.headers["retry-after"] == "60"
    assert auth.login("bob").status_code == 200  # per account, not global

    auth.clock.advance(seconds=59)
    still = auth.login("ada")
    assert still.status_code == 429 and still.headers["retry-after"] == "1"
    auth.clock.advance(seconds=1)
    assert auth.login("ada").status_code == 200
    # A refused (rate-limited) request checks no password and counts as no attempt, but is audited.
    assert len(auth.rows(LoginAttempt, LoginAttempt.username == "ada")) == limit + 1
    reasons = [a.details["reason"] for a in auth.rows(AuditLog, AuditLog.action == "auth.login_failed")]
    assert reasons.count("rate-limited") == 2


def test_failures_older_than_a_minute_do_not_count(auth: AuthHarness) -> None:
    auth.add_user("ada")
    for _ in range(9):
        auth.login("ada", "guess")
    auth.clock.advance(seconds=30)
    auth.login("ada", "guess")  # the tenth within the minute
    assert auth.login("ada").status_code == 429
    auth.clock.advance(seconds=30)  # the first nine leave the window
    assert auth.login("ada").status_code == 200


def test_rehash_on_login_when_parameters_are_weaker(auth: AuthHarness) -> None:
    from argon2 import PasswordHasher

    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    auth.add_user("ada", password_hash=weak)
    assert auth.login("ada").status_code == 200
    [user] = auth.rows(User)
    assert user.password_hash != weak and user.password_hash.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert auth.login("ada").status_code == 200


@pytest.mark.parametrize(("content", "headers", "status", "code"), [
    (b'{"username": "ada", "password": ', {"content-type": "application/json"}, 400, "malformed-json"),
    (b'["ada"]', {"content-type": "application/json"}, 400, "malformed-json"),
    (b'{"username": "ada", "password": "x", "remember": true}', {"content-type": "application/json"},
     422, "validation-failed"),
    (b'{"username": "ada"}', {"content-type": "application/json"}, 422, "validation-failed"),
    (b'{"username": "ada", "password": "x"}', {"content-type": "text/plain"}, 415, "unsupported-media-type"),
    (b"username=ada&password=x", {"content-type": "application/x-www-form-urlencoded"}, 415,
     "unsupported-media-type"),
])
def test_login_body_is_parsed_strictly(auth: AuthHarness, content: bytes, headers: dict[str, str],
                                       status: int, code: str) -> None:
    auth.add_user("ada")
    response = auth.client.post("/api/auth/login", content=content, headers=headers)
    assert response.status_code == status
    assert error_code(response) == code
    if code == "validation-failed":
        fields = [f["field"] for f in response.json()["error"]["details"]["fields"]]
        assert fields == (["remember"] if b"remember" in content else ["password"])
    assert auth.rows(LoginAttempt) == [] and auth.rows(AuditLog) == []


def test_login_is_post_only(auth: AuthHarness) -> None:
    response = auth.client.get("/api/auth/login")
    assert response.status_code == 405
    assert error_code(response) == "method-not-allowed"
