"""Runs a mutating request at most once per (user, Idempotency-Key). The action and its stored
response are written in ONE transaction: a crash can never leave an applied action without its
response, nor a response without its action. A business refusal rolls the action's transaction back
whole and is then stored on its own, so a replay gets the same refusal.

In flight: on PostgreSQL a duplicate finds the (user, key) advisory lock taken and gets 409
``idempotency-key-in-use``; on SQLite the single writer lock makes it wait, then replay. The record
is looked up after the lock is held (its own statement, so it sees what the lock's previous holder
committed) and written with the action: three statements of bookkeeping on PostgreSQL, no savepoint."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from backend import errors
from backend.domain.mobile import idempotency as rules
from backend.domain.mobile.idempotency import StoredResponse
from backend.persistence.repositories import idempotency as repo
from backend.services.uow import UnitOfWork, UnitOfWorkFactory


@dataclass(frozen=True, slots=True)
class IdempotentRequest:
    user_id: int
    key: str
    method: str
    path: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class Executed:
    response: StoredResponse
    replayed: bool


async def replayable(uow: UnitOfWork, request: IdempotentRequest) -> StoredResponse | None:
    """Takes the key's lock for this transaction and returns the response to replay (None: go
    ahead). Raises 409 ``idempotency-key-in-use`` or 422 ``idempotency-key-reused``."""
    if not await repo.try_lock(uow.session, rules.lock_id(request.user_id, request.key)):
        raise errors.Conflict("idempotency-key-in-use", "a request with this Idempotency-Key is still running")
    existing = await repo.find(uow.session, request.user_id, request.key)
    if existing is None:
        return None
    rules.check_existing(existing.fingerprint, request.fingerprint)
    assert existing.status_code is not None and existing.response_body is not None
    return StoredResponse(existing.status_code, existing.response_body, dict(existing.response_headers))


def _record(uow: UnitOfWork, request: IdempotentRequest, response: StoredResponse) -> None:
    repo.record(uow.session, user_id=request.user_id, key=request.key, fingerprint=request.fingerprint,
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
            _record(uow, request, response)
            await uow.commit()
            return Executed(response, replayed=False)
    # Refused: everything the action wrote went with its transaction. Store the refusal in a new one
    # (if a duplicate ran meanwhile and stored its outcome, that outcome is the answer).
    async with uows() as uow:
        stored = await replayable(uow, request)
        if stored is not None:
            return Executed(stored, replayed=True)
        _record(uow, request, refused)
        await uow.commit()
    return Executed(refused, replayed=False)


async def prune(uow: UnitOfWork, retention: timedelta, now: datetime | None = None) -> int:
    """Deletes records older than ``retention`` (>= 72 h; see docs/mobile-api.md)."""
    if retention < timedelta(hours=72):
        raise ValueError("idempotency keys are kept at least 72 hours")
    return await repo.prune(uow.session, (now or uow.now()) - retention)
