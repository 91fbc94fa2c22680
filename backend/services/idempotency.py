"""Runs a mutating request at most once per (user, Idempotency-Key). The claim, the action and the
stored response are written in ONE transaction (the caller's unit of work): a crash can never leave
an applied action without its response, nor a claim without its action. The action runs inside a
savepoint, so a refused action rolls back alone and its refusal is stored for replays.

In flight: on PostgreSQL a duplicate finds the (user, key) advisory lock taken and gets 409
``idempotency-key-in-use``; on SQLite the single writer lock makes it wait, then replay."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from backend import errors
from backend.domain.mobile import idempotency as rules
from backend.domain.mobile.idempotency import StoredResponse
from backend.persistence.repositories import idempotency as repo
from backend.services.uow import UnitOfWork


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
    """Claims the key for this transaction (None: go ahead), or returns the response to replay.
    Raises 409 ``idempotency-key-in-use`` or 422 ``idempotency-key-reused``."""
    if not await repo.try_lock(uow.session, rules.lock_id(request.user_id, request.key)):
        raise errors.Conflict("idempotency-key-in-use", "a request with this Idempotency-Key is still running")
    existing = await repo.claim(uow.session, user_id=request.user_id, key=request.key,
                                fingerprint=request.fingerprint, method=request.method, path=request.path,
                                now=uow.now())
    if existing is None:
        return None
    rules.check_existing(existing.state, existing.fingerprint, request.fingerprint)
    assert existing.status_code is not None and existing.response_body is not None
    return StoredResponse(existing.status_code, existing.response_body, dict(existing.response_headers))


async def execute(uow: UnitOfWork, request: IdempotentRequest,
                  perform: Callable[[UnitOfWork], Awaitable[StoredResponse]],
                  refusal: Callable[[errors.DomainError], StoredResponse]) -> Executed:
    """Replays the stored response, or performs the action and stores its response (a business
    refusal too). Transient refusals (a lost optimistic-lock race, a clock ahead of ours) are
    raised without storing anything, so the same key may be retried. The caller commits."""
    stored = await replayable(uow, request)
    if stored is not None:
        return Executed(stored, replayed=True)
    emitted = len(uow.emitted)
    try:
        async with uow.session.begin_nested():
            response = await perform(uow)
    except errors.DomainError as exc:
        del uow.emitted[emitted:]  # rolled back with the savepoint: nothing to hand on
        if exc.code in rules.TRANSIENT_CODES:
            raise
        response = refusal(exc)
    await repo.complete(uow.session, user_id=request.user_id, key=request.key, status=response.status,
                        body=response.body, headers=response.headers, now=uow.now())
    return Executed(response, replayed=False)


async def prune(uow: UnitOfWork, retention: timedelta, now: datetime | None = None) -> int:
    """Deletes records older than ``retention`` (>= 72 h; see docs/mobile-api.md)."""
    if retention < timedelta(hours=72):
        raise ValueError("idempotency keys are kept at least 72 hours")
    return await repo.prune(uow.session, (now or uow.now()) - retention)
