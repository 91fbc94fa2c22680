"""The HTTP side of idempotency: read the ``Idempotency-Key`` header, fingerprint the request
(method, path, If-Match and the validated body in canonical JSON), run the action through
``backend.services.idempotency`` in one unit of work, and answer the stored response (replays carry
``Idempotent-Replayed: true``).

Every mutating mobile route is ``mutating``: its access token is checked without the database and
its session's liveness in the statement that takes the key's lock, so a phone's action costs one
round trip less and no pooled connection of its own for the session check."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python
from starlette.requests import Request
from starlette.responses import Response

from backend import errors
from backend.domain.actors import Principal, Role
from backend.domain.mobile.idempotency import StoredResponse, fingerprint, parse_key
from backend.services import idempotency
from backend.services.uow import UnitOfWork
from backend.web.auth import require_live, require_role, token_principal
from backend.web.errors import status_for
from mobile_api.render import dump

Perform = Callable[[UnitOfWork], Awaitable[StoredResponse]]
Handler = Callable[[Request, Principal], Awaitable[Response]]
REPLAYED = "Idempotent-Replayed"
RACE_RETRIES = 3


def mutating(*roles: Role) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    """A mutating route for ``roles``: ``handler(request, principal)`` gets the access token's
    principal checked without the database, and runs its action through ``run``, whose transaction
    checks the session is live before anything else. A refusal before that (a role not allowed, a
    bad key or body, a transient conflict) checks it first on a connection of its own, so a
    revoked session is a 401 whatever else is wrong, as on every other route."""
    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        @functools.wraps(handler)
        async def endpoint(request: Request) -> Response:
            principal = token_principal(request)
            try:
                require_role(principal, *roles)
                return await handler(request, principal)
            except errors.DomainError as exc:
                if not isinstance(exc, errors.Unauthenticated):
                    await require_live(request, principal)
                raise

        return endpoint

    return wrap


def request_key(request: Request) -> str:
    return parse_key(request.headers.get("idempotency-key"))


def body_fingerprint(method: str, path: str, body: BaseModel | None, if_match: str | None = None,
                     exclude: set[str] | None = None) -> str:
    data: Any = body.model_dump(mode="json", exclude_defaults=True, exclude=exclude) if body is not None else None
    return fingerprint(method, path, {"body": data, "if_match": if_match})


def refusal(exc: errors.DomainError) -> StoredResponse:
    """A business refusal as the response stored for replays (same shape as the error handler's)."""
    body = {"error": {"code": exc.code, "message": exc.message, "details": to_jsonable_python(exc.details)}}
    return StoredResponse(status_for(exc), dump(body), {})


def ok(model: Any, status: int = 200, headers: dict[str, str] | None = None) -> StoredResponse:
    return StoredResponse(status, dump(model), headers or {})


def respond(stored: StoredResponse, replayed: bool) -> Response:
    headers = dict(stored.headers)
    if replayed:
        headers[REPLAYED] = "true"
    return Response(stored.body, status_code=stored.status, headers=headers, media_type="application/json")


async def run(request: Request, principal: Principal, key: str, fp: str, perform: Perform,
              path: str | None = None) -> tuple[StoredResponse, bool]:
    """One idempotent request: its own unit of work, committed by the service."""
    assert principal.user_id is not None
    req = idempotency.IdempotentRequest(user_id=principal.user_id, key=key, method=request.method,
                                        path=path or request.url.path, fingerprint=fp,
                                        session_id=principal.session_id)
    for attempt in range(RACE_RETRIES):
        try:
            executed = await idempotency.execute(request.app.state.uows, req, perform, refusal)
            return executed.response, executed.replayed
        except errors.Conflict as exc:
            # Lost an optimistic-lock race with another writer: nothing was stored, run it again
            # on the fresh state (where it may now resolve as already applied, or as refused).
            if exc.code != "concurrent-update" or attempt == RACE_RETRIES - 1:
                raise
    raise AssertionError("unreachable")
