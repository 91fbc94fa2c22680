"""DomainError → HTTP status and JSON body ``{"error": {"code", "message", "details"}}``, in one table."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from backend import errors

log = logging.getLogger(__name__)

STATUS: dict[type[errors.DomainError], int] = {
    errors.BadRequest: 400,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.PreconditionFailed: 412,
    errors.PayloadTooLarge: 413,
    errors.UnsupportedMediaType: 415,
    errors.ValidationFailed: 422,
    errors.PreconditionRequired: 428,
    errors.RateLimited: 429,
}


def status_for(exc: errors.DomainError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS:
            return STATUS[cls]
    return 400


def error_response(status: int, code: str, message: str, details: dict | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return JSONResponse(body, status_code=status, headers=headers)


async def domain_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.DomainError)
    metrics = getattr(request.app.state, "metrics", None)
    if metrics is not None:
        metrics.domain_errors.labels(exc.code).inc()
    headers = None
    if isinstance(exc, errors.RateLimited):
        headers = {"Retry-After": str(exc.retry_after_s)}
    if isinstance(exc, errors.Unauthenticated):
        headers = {"WWW-Authenticate": "Bearer"}
    return error_response(status_for(exc), exc.code, exc.message, exc.details, headers)


_HTTP_CODES = {404: "not-found", 405: "method-not-allowed", 400: "bad-request"}


async def http_exception_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    code = _HTTP_CODES.get(exc.status_code, f"http-{exc.status_code}")
    return error_response(exc.status_code, code, str(exc.detail), headers=exc.headers)


async def unexpected_error_handler(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", extra={"path": request.url.path})
    return error_response(500, "internal-error", "an unexpected error occurred; it has been logged")


EXCEPTION_HANDLERS = {
    errors.DomainError: domain_error_handler,
    HTTPException: http_exception_handler,
    Exception: unexpected_error_handler,
}
