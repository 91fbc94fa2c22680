"""The auth services against the database (SQLite and PostgreSQL, rolled back): what a refusal
leaves for the caller to commit, single-use refresh tokens, logout by refresh token, deactivation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from backend import errors
from backend.auth import tokens
from backend.auth.passwords import hash_password
from backend.clock import FrozenClock
from backend.domain.actors import Role
from backend.persistence.repositories import users
from backend.persistence.tables import AuditLog, LoginAttempt, RefreshToken, User
from backend.services import auth
from backend.services.uow import UnitOfWork
from backend.settings import Settings

START = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
PASSWORD = "correct horse battery staple"


@pytest.fixture
def uow(session: AsyncSession) -> UnitOfWork:
    return UnitOfWork(session, FrozenClock(START))


async def _add_user(uow: UnitOfWork, username: str = "ada", role: Role = Role.AGENT) -> User:
    user = User(username=username, display_name=username.title(), role=role, created_at=uow.now(),
                password_hash=hash_password(PASSWORD))
    uow.session.add(user)
    await uow.commit()
    return user


async def _count(session: AsyncSession, table: type, *where: object) -> int:
    return (await session.exec(select(func.count()).select_from(table).where(*where))).one()


async def test_a_refused_login_leaves_its_record_for_the_caller_to_commit(uow: UnitOfWork) -> None:
    user = await _add_user(uow)
    with pytest.raises(errors.Unauthenticated) as caught:
        await auth.login(uow, Settings(environment="test"), "ada", "wrong", "10.0.0.1")
    assert caught.value.code == "invalid-credentials"
    await uow.commit()
    assert await _count(uow.session, LoginAttempt, LoginAttempt.user_id == user.id) == 1
    assert await _count(uow.session, AuditLog, AuditLog.action == "auth.login_failed") == 1
    assert await _count(uow.session, RefreshToken) == 0


async def test_the_limit_comes_from_settings(uow: UnitOfWork) -> None:
    await _add_user(uow)
    settings = Settings(environment="test", login_failures_per_minute=3)
    for _ in range(3):
        with pytest.raises(errors.Unauthenticated):
            await auth.login(uow, settings, "ada", "wrong", "")
    with pytest.raises(errors.RateLimited) as caught:
        await auth.login(uow, settings, "ada", PASSWORD, "")
    assert caught.value.retry_after_s == 60
    assert caught.value.details == {"retry_after_s": 60}


async def test_a_refresh_token_is_spent_once(uow: UnitOfWork) -> None:
    await _add_user(uow)
    pair = await auth.login(uow, Settings(environment="test"), "ada", PASSWORD, "")
    row = await users.find_refresh_token(uow.session, tokens.hash_refresh_token(pair.refresh_token))
    assert row is not None and row.id is not None
    # Two concurrent refreshes both read the row unused; the conditional UPDATE lets one through.
    assert await users.mark_refresh_token_used(uow.session, row.id, uow.now()) is True
    assert await users.mark_refresh_token_used(uow.session, row.id, uow.now()) is False


async def test_logout_by_refresh_token_revokes_the_family(uow: UnitOfWork) -> None:
    settings = Settings(environment="test")
    await _add_user(uow)
    pair = await auth.login(uow, settings, "ada", PASSWORD, "")
    principal = await auth.authenticate(uow, settings, pair.access_token, uow.now())
    assert principal.session_id == pair.session_id and principal.role is Role.AGENT

    await auth.logout(uow, tokens.new_refresh_token())  # unknown: nothing to revoke, no error
    assert await _count(uow.session, AuditLog, AuditLog.action == "auth.logout") == 0
    await auth.logout(uow, pair.refresh_token)
    await uow.commit()
    assert await _count(uow.session, RefreshToken, RefreshToken.family_id == pair.session_id,
                        col(RefreshToken.revoked_at).is_(None)) == 0
    with pytest.raises(errors.Unauthenticated) as caught:
        await auth.authenticate(uow.session, settings, pair.access_token, uow.now())
    assert caught.value.code == "token-revoked"
    assert await _count(uow.session, AuditLog, AuditLog.action == "auth.logout") == 1


async def test_deactivating_a_user_ends_their_sessions(uow: UnitOfWork) -> None:
    settings = Settings(environment="test")
    user = await _add_user(uow, role=Role.ENGINEER)
    pair = await auth.login(uow, settings, "ada", PASSWORD, "")
    user.active = False
    uow.session.add(user)
    await uow.commit()
    with pytest.raises(errors.Unauthenticated) as caught:
        await auth.authenticate(uow, settings, pair.access_token, uow.now())
    assert caught.value.code == "token-revoked"
    with pytest.raises(errors.Unauthenticated) as caught:
        await auth.refresh(uow, settings, pair.refresh_token)
    assert caught.value.code == "invalid-refresh-token"


async def test_authenticate_without_a_token(uow: UnitOfWork) -> None:
    for token in (None, ""):
        with pytest.raises(errors.Unauthenticated) as caught:
            await auth.authenticate(uow, Settings(environment="test"), token, uow.now())
        assert caught.value.code == "unauthenticated"
