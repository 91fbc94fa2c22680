"""Authentication use cases: log in (rate-limited, audited), rotate refresh tokens with reuse
detection, log out, authenticate an access token. Never commits. A refusal that must leave a
record (failed login, refresh reuse) raises only after writing it: the caller commits on it too."""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession

from backend import errors
from backend.auth import tokens
from backend.auth.passwords import DUMMY_HASH, hash_password, needs_rehash, verify_password
from backend.domain.actors import Principal, Role
from backend.persistence.repositories import users
from backend.persistence.statements import Executor
from backend.persistence.tables import User
from backend.services.uow import UnitOfWork
from backend.settings import Settings

FAILURE_WINDOW = timedelta(minutes=1)
ANONYMOUS = Principal(user_id=None, role=Role.SYSTEM, username="anonymous")  # audit actor before login


@dataclass(frozen=True, slots=True)
class UserInfo:
    id: int
    username: str
    display_name: str
    role: Role
    region_id: int | None
    provider_id: int | None


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    session_id: str
    user: UserInfo


def _role_of(user: User) -> Role | None:
    try:
        role = Role(user.role)
    except ValueError:
        return None
    return None if role is Role.SYSTEM else role


def _info(user: User, role: Role) -> UserInfo:
    assert user.id is not None
    return UserInfo(user.id, user.username, user.display_name, role, user.region_id, user.provider_id)


def _principal(info: UserInfo, session_id: str | None = None) -> Principal:
    return Principal(user_id=info.id, role=info.role, username=info.username, region_id=info.region_id,
                     provider_id=info.provider_id, session_id=session_id)


async def _issue(uow: UnitOfWork, settings: Settings, info: UserInfo, family_id: str) -> TokenPair:
    now = uow.now()
    refresh_token = tokens.new_refresh_token()
    users.add_refresh_token(
        uow.session, family_id=family_id, user_id=info.id, token_hash=tokens.hash_refresh_token(refresh_token),
        created_at=now, expires_at=now + timedelta(seconds=settings.refresh_token_ttl_s),
    )
    access, _ = tokens.issue_access(
        user_id=info.id, role=info.role, username=info.username, region_id=info.region_id,
        provider_id=info.provider_id, session_id=family_id, now=now, ttl_s=settings.access_token_ttl_s,
        secret=settings.secret_key.get_secret_value(), issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
    )
    return TokenPair(access, settings.access_token_ttl_s, refresh_token, settings.refresh_token_ttl_s,
                     family_id, info)


def _retry_after_s(failures: list[datetime], limit: int, now: datetime) -> int | None:
    """Seconds until fewer than ``limit`` failures remain in the window, or None if under it."""
    if len(failures) < limit:
        return None
    must_expire = failures[len(failures) - limit]
    return max(1, math.ceil((must_expire + FAILURE_WINDOW - now).total_seconds()))


async def login(uow: UnitOfWork, settings: Settings, username: str, password: str, remote: str) -> TokenPair:
    """Raises ``RateLimited`` (nothing verified) or ``Unauthenticated("invalid-credentials")``
    after recording the attempt and its audit row; the caller commits in both cases."""
    now = uow.now()
    session = uow.session
    failures = await users.failures_since(session, username, now - FAILURE_WINDOW)
    retry_after = _retry_after_s(failures, settings.login_failures_per_minute, now)
    if retry_after is not None:
        uow.audit(ANONYMOUS, "auth.login_failed", "user", "", username=username, remote=remote,
                  reason="rate-limited")
        raise errors.RateLimited(retry_after, "too many failed logins for this account; try again later")

    user = await users.get_user_by_username(session, username)
    # Unknown users cost one Argon2 verification too, so timing does not tell who exists.
    password_ok = verify_password(user.password_hash if user else DUMMY_HASH, password)
    role = _role_of(user) if user else None
    reason = ("unknown-user" if user is None else "bad-password" if not password_ok
              else "inactive" if not user.active else "unknown-role" if role is None else None)
    user_id = user.id if user else None
    users.add_login_attempt(session, username=username, user_id=user_id, at=now,
                            success=reason is None, remote=remote)
    if reason is not None or user is None or role is None:
        uow.audit(ANONYMOUS, "auth.login_failed", "user", user_id or "", username=username, remote=remote,
                  reason=reason)
        raise errors.Unauthenticated("invalid-credentials", "wrong username or password")

    if needs_rehash(user.password_hash):
        await users.set_password_hash(session, user, hash_password(password))
    pair = await _issue(uow, settings, _info(user, role), str(uuid.uuid4()))
    uow.audit(_principal(pair.user, pair.session_id), "auth.login_succeeded", "user", user_id,
              username=username, remote=remote, session_id=pair.session_id)
    return pair


async def refresh(uow: UnitOfWork, settings: Settings, refresh_token: str) -> TokenPair:
    """Rotate: spend the presented token, issue a new pair in the same family. A token presented
    twice revokes its whole family (it was stolen, or the client is confused: either way, stop) and
    raises ``refresh-token-reused`` after the revocation is written; the caller commits."""
    now = uow.now()
    session = uow.session
    row = await users.find_refresh_token(session, tokens.hash_refresh_token(refresh_token))
    if row is None:
        raise errors.Unauthenticated("invalid-refresh-token", "the refresh token is not valid")
    assert row.id is not None
    if row.used_at is None and row.revoked_at is None and row.expires_at <= now:
        raise errors.Unauthenticated("refresh-token-expired", "the refresh token has expired")
    user = await users.get_user(session, row.user_id)
    role = _role_of(user) if user else None
    if user is None or role is None or not user.active:
        raise errors.Unauthenticated("invalid-refresh-token", "the refresh token is not valid")
    if not await users.mark_refresh_token_used(session, row.id, now):
        revoked = await users.revoke_family(session, row.family_id, now)
        uow.audit(ANONYMOUS, "auth.refresh_reused", "user", row.user_id, session_id=row.family_id,
                  tokens_revoked=revoked)
        raise errors.Unauthenticated("refresh-token-reused",
                                     "this refresh token was already used; the session is revoked")
    return await _issue(uow, settings, _info(user, role), row.family_id)


async def logout(uow: UnitOfWork, subject: Principal | str) -> None:
    """Revoke the session family of an authenticated principal, or of a refresh token. Idempotent:
    an unknown refresh token is nothing to revoke."""
    if isinstance(subject, Principal):
        family_id, user_id, actor = subject.session_id, subject.user_id, subject
    else:
        row = await users.find_refresh_token(uow.session, tokens.hash_refresh_token(subject))
        if row is None:
            return
        family_id, user_id, actor = row.family_id, row.user_id, ANONYMOUS
    if family_id is None:
        return
    revoked = await users.revoke_family(uow.session, family_id, uow.now())
    uow.audit(actor, "auth.logout", "user", user_id or "", session_id=family_id, tokens_revoked=revoked)


def token_principal(settings: Settings, token: str | None, now: datetime) -> Principal:
    """The principal an access token speaks for, checked without the database (signature,
    algorithm, audience, issuer, expiry). Its session may still have been revoked: that takes
    ``session_is_live`` (``authenticate`` does both). Raises ``Unauthenticated`` with code
    ``unauthenticated`` (no token), ``invalid-token`` or ``token-expired``."""
    if not token:
        raise errors.Unauthenticated("unauthenticated", "an access token is required")
    claims = tokens.decode_access(token, secret=settings.secret_key.get_secret_value(),
                                  issuer=settings.jwt_issuer, audience=settings.jwt_audience, now=now)
    return Principal(user_id=claims.user_id, role=claims.role, username=claims.username,
                     region_id=claims.region_id, provider_id=claims.provider_id,
                     session_id=claims.session_id)


def revoked() -> errors.Unauthenticated:
    return errors.Unauthenticated("token-revoked", "this session has been revoked")


async def require_live(session: Executor, principal: Principal) -> None:
    """Raises ``Unauthenticated("token-revoked")`` if the principal's session family was revoked
    (logout, refresh-token reuse) or its user deactivated."""
    assert principal.session_id is not None and principal.user_id is not None
    if not await users.family_is_live(session, principal.session_id, principal.user_id):
        raise revoked()


async def authenticate(session_or_uow: Executor | UnitOfWork, settings: Settings, token: str | None,
                       now: datetime) -> Principal:
    """The principal an access token speaks for, its session checked live. Raises
    ``Unauthenticated`` with code ``unauthenticated`` (no token), ``invalid-token``,
    ``token-expired`` or ``token-revoked`` (family revoked by logout or reuse, or the user
    deactivated)."""
    principal = token_principal(settings, token, now)
    await require_live(session_or_uow.session if isinstance(session_or_uow, UnitOfWork) else session_or_uow,
                       principal)
    return principal


async def current_user(session_or_uow: AsyncSession | UnitOfWork, principal: Principal) -> UserInfo:
    session = session_or_uow.session if isinstance(session_or_uow, UnitOfWork) else session_or_uow
    user = await users.get_user(session, principal.user_id) if principal.user_id is not None else None
    role = _role_of(user) if user else None
    if user is None or role is None:
        raise errors.NotFound("user-not-found", "no such user")
    return _info(user, role)
