"""Queries for users and their credentials: ``User``, ``RefreshToken`` (rotating families) and
``LoginAttempt`` (the rate-limit window). Writes stay in the caller's transaction; nothing commits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, func, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from backend.persistence.statements import Executor, Statement
from backend.persistence.tables import LoginAttempt, RefreshToken, User


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def get_user_by_username(session: AsyncSession, username: str) -> User | None:
    result = await session.exec(select(User).where(User.username == username))
    return result.first()


async def set_password_hash(session: AsyncSession, user: User, password_hash: str) -> None:
    user.password_hash = password_hash
    session.add(user)


def add_login_attempt(session: AsyncSession, *, username: str, user_id: int | None, at: datetime,
                      success: bool, remote: str) -> None:
    session.add(LoginAttempt(username=username[:64], user_id=user_id, at=at, success=success,
                             remote=remote[:64]))


async def failures_since(session: AsyncSession, username: str, since: datetime) -> list[datetime]:
    """When the account's failed logins after ``since`` happened, oldest first."""
    result = await session.exec(
        select(LoginAttempt.at)
        .where(LoginAttempt.username == username[:64], col(LoginAttempt.success).is_(False),
               LoginAttempt.at > since)
        .order_by(col(LoginAttempt.at))
    )
    return list(result.all())


def add_refresh_token(session: AsyncSession, *, family_id: str, user_id: int, token_hash: str,
                      created_at: datetime, expires_at: datetime) -> None:
    session.add(RefreshToken(family_id=family_id, user_id=user_id, token_hash=token_hash,
                             created_at=created_at, expires_at=expires_at))


async def find_refresh_token(session: AsyncSession, token_hash: str) -> RefreshToken | None:
    result = await session.exec(select(RefreshToken).where(RefreshToken.token_hash == token_hash))
    return result.first()


async def mark_refresh_token_used(session: AsyncSession, token_id: int, at: datetime) -> bool:
    """Spend a token exactly once: of two concurrent refreshes with the same token, only one
    sees ``True`` (the conditional UPDATE is the arbiter, not the row read before it)."""
    result = await session.exec(
        update(RefreshToken)
        .where(col(RefreshToken.id) == token_id, col(RefreshToken.used_at).is_(None),
               col(RefreshToken.revoked_at).is_(None))
        .values(used_at=at)
    )
    return result.rowcount == 1


async def revoke_family(session: AsyncSession, family_id: str, at: datetime) -> int:
    """Revoke every token of the family (keeping earlier revocation times); returns rows touched."""
    result = await session.exec(
        update(RefreshToken)
        .where(col(RefreshToken.family_id) == family_id, col(RefreshToken.revoked_at).is_(None))
        .values(revoked_at=at)
    )
    return result.rowcount


# Runs on every authenticated request: on the driver (``persistence.statements``). A family is live
# when it exists for this user, none of its tokens is revoked, and the user is active.
_FAMILY = (select(RefreshToken.id).join(User, col(User.id) == col(RefreshToken.user_id))
           .where(col(RefreshToken.family_id) == bindparam("family_id"),
                  col(RefreshToken.user_id) == bindparam("user_id"), col(User.active).is_(True)))
_FAMILY_IS_LIVE = Statement(_FAMILY.with_only_columns(func.count(), func.count(col(RefreshToken.revoked_at))))

# The same test as one boolean column, for a statement that checks the session on its way (the
# idempotency lock of a mutating mobile request: repositories.idempotency); parameters
# ``family_id`` and ``user_id``.
FAMILY_IS_LIVE = _FAMILY.with_only_columns(
    (func.count() > 0) & (func.count(col(RefreshToken.revoked_at)) == 0)).scalar_subquery()


async def family_is_live(session: Executor, family_id: str, user_id: int) -> bool:
    """The family exists for this user, none of its tokens is revoked, and the user is active."""
    total, revoked = await _FAMILY_IS_LIVE.first(session, family_id=family_id, user_id=user_id)  # type: ignore[misc]
    return total > 0 and revoked == 0
