"""The HTTP side of idempotency: read the ``Idempotency-Key`` header, fingerprint the request
(method, path, If-Match and the validated body in canonical JSON), run the action through
``backend.services.idempotency`` in one unit of work, and answer the stored response (replays carry
``Idempotent-Replayed: true``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python
from starlette.requests import Request
from starlette.responses import Response

from backend import errors
from backend.domain.actors import Principal
from backend.domain.mobile.idempotency import StoredResponse, fingerprint, parse_key
from backend.services import idempotency
from backend.services.uow import UnitOfWork
from backend.web.errors import status_for
from mobile_api.render import dump

Perform = Callable[[UnitOfWork], Awaitable[StoredResponse]]
REPLAYED = "Idempotent-Replayed"
RACE_RETRIES = 3


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
                                        path=path or request.url.path, fingerprint=fp)
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
