"""Domain errors with stable kebab-case codes. No HTTP here: each transport maps the classes
to its wire in one table (``backend.web.errors`` for HTTP, ``realtime`` for WebSocket)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """An expected business error: the request is refused and nothing changes."""

    code = "domain-error"

    def __init__(self, code: str | None = None, message: str = "", **details: Any) -> None:
        self.code = code or self.code
        self.message = message or self.code.replace("-", " ")
        self.details = details
        super().__init__(f"{self.code}: {self.message}")


class BadRequest(DomainError):
    code = "bad-request"


class ValidationFailed(DomainError):
    code = "validation-failed"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class Forbidden(DomainError):
    code = "forbidden"


class NotFound(DomainError):
    code = "not-found"


class Conflict(DomainError):
    """The state moved on (invalid transition, lost race, duplicate)."""

    code = "conflict"


class PreconditionFailed(DomainError):
    code = "precondition-failed"


class PreconditionRequired(DomainError):
    code = "precondition-required"


class RateLimited(DomainError):
    code = "rate-limited"

    def __init__(self, retry_after_s: int, message: str = "too many attempts") -> None:
        super().__init__(message=message, retry_after_s=retry_after_s)
        self.retry_after_s = retry_after_s


class PayloadTooLarge(DomainError):
    code = "payload-too-large"


class UnsupportedMediaType(DomainError):
    code = "unsupported-media-type"
