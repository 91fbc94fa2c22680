"""Idempotency records: the advisory lock that makes an in-flight duplicate visible (PostgreSQL),
taken in the same statement as the look-up and the check that the request's session is still live
(``users.FAMILY_IS_LIVE``: one round trip instead of a pooled connection of its own); the record of
the response (written once, with the action); pruning. Never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, bindparam, delete, func, literal_column, select
from sqlmodel.ext.asyncio.session import AsyncSession

from backend.persistence import appends
from backend.persistence.repositories.users import FAMILY_IS_LIVE
from backend.persistence.statements import Executor, Statement, dialect_of
from backend.persistence.tables_mobile import IdempotencyRecord as Record


@dataclass(frozen=True, slots=True)
class Stored:
    fingerprint: str
    status_code: int | None
    response_body: str | None
    response_headers: dict[str, Any]


# Statements of every mutating mobile request, on the driver (``persistence.statements``).
_TABLE = Record.__table__  # type: ignore[attr-defined]
_COLUMNS = (_TABLE.c.fingerprint, _TABLE.c.status_code, _TABLE.c.response_body, _TABLE.c.response_headers)
_MINE = (_TABLE.c.user_id == bindparam("user_id")) & (_TABLE.c.key == bindparam("key"))
_LIVE = FAMILY_IS_LIVE.label("live")
_ONE = select(literal_column("1").label("one")).subquery("one")  # one row, whether a record is found or not
_FIND = Statement(select(_LIVE, *_COLUMNS).select_from(_ONE.outerjoin(_TABLE, _MINE)))
# PostgreSQL: the lock and the look-up in one round trip. The look-up's snapshot is taken as the
# statement starts, so it may miss a record that the lock's previous holder committed just before
# letting go; the request then runs again on the current state and its own record collides with
# that one on the (user, key) key as it commits: ``RecordExists``, the transaction rolls back whole,
# and the caller replays the stored response (services.idempotency).
_LOCK_AND_FIND = Statement(
    select(_LIVE, func.pg_try_advisory_xact_lock(bindparam("k", type_=BigInteger)), *_COLUMNS)
    .select_from(_ONE.outerjoin(_TABLE, _MINE)))


def _stored(row: tuple[Any, ...]) -> Stored:
    fingerprint, status_code, body, headers = row
    return Stored(fingerprint, status_code, body, dict(headers))


@dataclass(frozen=True, slots=True)
class Found:
    live: bool  # the session family (``family_id``) is live; True when none was given
    locked: bool  # the lock on (user, key) is ours (always on SQLite: ``BEGIN IMMEDIATE`` serialises writers)
    stored: Stored | None


async def lock_and_find(session: Executor, lock_id: int, user_id: int, key: str, family_id: str | None) -> Found:
    """Takes the transaction-scoped lock on (user, key) (PostgreSQL: not ours while another
    transaction holds it), reads the record of (user, key), if any (a plain row, not an ORM object),
    and checks the session family ``family_id`` of ``user_id`` is live, in one statement."""
    args = {"user_id": user_id, "key": key, "family_id": family_id or ""}
    if dialect_of(session).name != "postgresql":
        row = await _FIND.first(session, **args)
        locked = True
    else:
        row = await _LOCK_AND_FIND.first(session, k=lock_id, **args)
        assert row is not None  # one row, whatever the join finds
        locked = bool(row[1])
        row = (row[0], *row[2:])
    assert row is not None
    live, *record = row
    return Found(family_id is None or bool(live), locked, None if record[0] is None else _stored(tuple(record)))


def record(session: appends.Target, *, user_id: int, key: str, fingerprint: str, method: str, path: str,
                 status: int, body: str, headers: dict[str, Any], now: datetime) -> None:
    """The response of a request that ran, written in its transaction as it commits (queued with
    the other append-only rows; the unique (user, key) constraint is the last line of defence: the
    lock and ``find`` come first)."""
    appends.append(session, Record, user_id=user_id, key=key, fingerprint=fingerprint, method=method, path=path,
                   state="done", status_code=status, response_body=body, response_headers=headers, created_at=now,
                   completed_at=now)


async def prune(session: AsyncSession, created_before: datetime) -> int:
    result = await session.exec(delete(Record).where(Record.created_at < created_before))  # type: ignore[call-overload, arg-type]
    return result.rowcount or 0
