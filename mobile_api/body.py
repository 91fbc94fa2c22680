"""Request bodies of the mobile API: the shared checks (415, 413, 400 for malformed JSON or a
non-object) then STRICT validation in JSON mode, so a body is accepted exactly when the OpenAPI
document says so (no "1.5" for a number, no 1 for a boolean, no epoch number for a timestamp)."""

from __future__ import annotations

import json
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from backend import errors
from backend.web.requests import read_body, validation_details

M = TypeVar("M", bound=BaseModel)


def _refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not valid JSON")


async def read_model(request: Request, model: type[M]) -> M:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise errors.UnsupportedMediaType(message="expected Content-Type: application/json")
    raw = await read_body(request, request.app.state.settings.max_body_bytes)
    try:
        data = json.loads(raw, parse_constant=_refuse_constant) if raw else None
    except (ValueError, UnicodeDecodeError) as exc:
        raise errors.BadRequest("malformed-json", f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise errors.BadRequest("malformed-json", "the body must be a JSON object")
    try:
        return model.model_validate_json(raw, strict=True)
    except ValidationError as exc:
        details = validation_details(exc)
        names = ", ".join(f["field"] for f in details["fields"])
        raise errors.ValidationFailed(message=f"invalid fields: {names}", **details) from None
