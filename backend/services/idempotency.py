"""Runs a mutating request at most once per (user, Idempotency-Key). The action and its stored
response are written in ONE transaction: a crash can never leave an applied action without its
response, nor a response without its action. A business refusal rolls the action's transaction back
whole and is then stored on its own, so a replay gets the same refusal.

In flight: on PostgreSQL a duplicate finds the (user, key) advisory lock taken and gets 409
``idempotency-key-in-use``; on SQLite the single writer lock makes it wait, then replay. The lock
and the look-up are one statement, the record is written with the action: two statements of
bookkeeping on PostgreSQL, no savepoint. That look-up may miss a record its lock's previous holder
committed a moment before (the statement's snapshot predates the lock): the request then runs again,
its record collides with the stored one on the (user, key) key as it commits, the whole
transaction rolls back and the stored response is replayed. Nothing is applied twice."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from backend import errors
from backend.domain.mobile import idempotency as rules
from backend.domain.mobile.idempotency import StoredResponse
from backend.persistence.repositories import idempotency as repo
from backend.services.auth import revoked
from backend.services.uow import UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    user_id: int
    key: str
    method: str
    path: str
    fingerprint: str
    # The requester's session (refresh-token family), checked live in the lock's statement: a
    # request may come in on a token checked without the database (``auth.token_principal``).
    # None: nothing to check (the caller checked it already).
    session_id: str | None = None


@dataclass(frozen=True, slots=True)
class Executed:
    response: StoredResponse
    replayed: bool


async def replayable(uow: UnitOfWork, request: IdempotentRequest) -> StoredResponse | None:
    """Takes the key's lock for this transaction and returns the response to replay (None: go
    ahead). Raises 401 ``token-revoked`` (the session was revoked: nothing is replayed either),
    409 ``idempotency-key-in-use`` or 422 ``idempotency-key-reused``."""
    found = await repo.lock_and_find(uow.db, rules.lock_id(request.user_id, request.key), request.user_id,
                                     request.key, request.session_id)
    if not found.live:
        raise revoked()
    existing = found.stored
    if not found.locked:
        raise errors.Conflict("idempotency-key-in-use", "a request with this Idempotency-Key is still running")
    if existing is None:
        return None
    rules.check_existing(existing.fingerprint, request.fingerprint)
    assert existing.status_code is not None and existing.response_body is not None
    return StoredResponse(existing.status_code, existing.response_body, dict(existing.response_headers))


def _record(uow: UnitOfWork, request: IdempotentRequest, response: StoredResponse) -> None:
    repo.record(uow.db, user_id=request.user_id, key=request.key, fingerprint=request.fingerprint,
                      method=request.method, path=request.path, status=response.status, body=response.body,
                      headers=response.headers, now=uow.now())


async def execute(uows: UnitOfWorkFactory, request: IdempotentRequest,
                  perform: Callable[[UnitOfWork], Awaitable[StoredResponse]],
                  refusal: Callable[[errors.DomainError], StoredResponse]) -> Executed:
    """Replays the stored response, or performs the action and stores its response, committed.
    A business refusal is stored too (after the action's transaction is rolled back). Transient
    refusals (a lost optimistic-lock race, a clock ahead of ours) are raised with nothing stored,
    so the same key may be retried."""
    async with uows() as uow:
        stored = await replayable(uow, request)
        if stored is not None:
            return Executed(stored, replayed=True)
        try:
            response = await perform(uow)
        except errors.DomainError as exc:
            if exc.code in rules.TRANSIENT_CODES:
                raise
            refused = refusal(exc)
        else:
            return await _store(uows, uow, request, response)
    # Refused: everything the action wrote went with its transaction. Store the refusal in a new one
    # (if a duplicate ran meanwhile and stored its outcome, that outcome is the answer).
    async with uows() as again:
        stored = await replayable(again, request)
        if stored is not None:
            return Executed(stored, replayed=True)
        return await _store(uows, again, request, refused)


async def _store(uows: UnitOfWorkFactory, uow: UnitOfWork, request: IdempotentRequest,
                 response: StoredResponse) -> Executed:
    """Records the response and commits; if the record collides with one stored meanwhile (see the
    module's note), the transaction is gone and that stored response is the answer."""
    _record(uow, request, response)
    try:
        await uow.commit()
    except IntegrityError:
        await uow.rollback()  # lets go of the lock (and SQLite's write lock) before looking again
        async with uows() as again:
            stored = await replayable(again, request)
        if stored is None:  # not this key's record that collided: a real fault
            raise
        return Executed(stored, replayed=True)
    return Executed(response, replayed=False)


async def prune(uow: UnitOfWork, retention: timedelta, now: datetime | None = None) -> int:
    """Deletes records older than ``retention`` (>= 72 h; see docs/mobile-api.md)."""
    if retention < timedelta(hours=72):
        raise ValueError("idempotency keys are kept at least 72 hours")
    return await repo.prune(uow.session, (now or uow.now()) - retention)
