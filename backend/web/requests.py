"""Parse a request body into a typed command: content type (415), size (413), JSON (400),
schema with unknown fields refused (422 naming the fields)."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.requests import Request

from backend import errors

M = TypeVar("M", bound=BaseModel)


class StrictModel(BaseModel):
    """Base for request schemas: unknown fields are refused, strings are stripped."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def validation_details(exc: ValidationError) -> dict[str, Any]:
    fields = [
        {
            "field": ".".join(str(part) for part in err["loc"]) or "(body)",
            "message": err["msg"],
            "type": err["type"],
        }
        for err in exc.errors(include_url=False, include_input=False)
    ]
    return {"fields": fields}


def parse_model(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        details = validation_details(exc)
        names = ", ".join(f["field"] for f in details["fields"])
        raise errors.ValidationFailed(message=f"invalid fields: {names}", **details) from None


async def read_body(request: Request, max_bytes: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > max_bytes:
                raise errors.PayloadTooLarge(message=f"body larger than {max_bytes} bytes", limit=max_bytes)
        except ValueError:
            raise errors.BadRequest("bad-content-length", "Content-Length is not a number") from None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > max_bytes:
            raise errors.PayloadTooLarge(message=f"body larger than {max_bytes} bytes", limit=max_bytes)
    return bytes(body)


async def read_json(request: Request, model: type[M], max_bytes: int | None = None) -> M:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise errors.UnsupportedMediaType(message="expected Content-Type: application/json")
    limit = max_bytes or request.app.state.settings.max_body_bytes
    raw = await read_body(request, limit)
    try:
        data = json.loads(raw, parse_constant=_refuse_constant) if raw else None
    except (ValueError, UnicodeDecodeError) as exc:
        raise errors.BadRequest("malformed-json", f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise errors.BadRequest("malformed-json", "the body must be a JSON object")
    return parse_model(model, data)


def query_model(request: Request, model: type[M]) -> M:
    """Query parameters into a typed model (unknown parameters refused)."""
    data: dict[str, Any] = {}
    for key in request.query_params:
        values = request.query_params.getlist(key)
        data[key] = values if len(values) > 1 else values[0]
    return parse_model(model, data)


def path_int(request: Request, name: str) -> int:
    value = request.path_params[name]
    if isinstance(value, int):
        return value
    try:
        return int(value)
    except ValueError:
        raise errors.NotFound(message=f"no such {name}") from None
