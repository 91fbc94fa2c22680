"""JSON responses from dataclasses, pydantic models and datetimes (ISO 8601, UTC)."""

from __future__ import annotations

import json
from typing import Any

from pydantic_core import to_jsonable_python
from starlette.responses import Response

from backend import errors


def json_response(content: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    body = json.dumps(to_jsonable_python(content), ensure_ascii=False, separators=(",", ":"))
    return Response(body, status_code=status_code, headers=headers, media_type="application/json")


def etag(version: int) -> str:
    return f'"{version}"'


def if_match_version(raw: str | None) -> int | None:
    """The version a client read (``If-Match: "7"``); None when absent or a wildcard."""
    if raw is None or raw.strip() == "*":
        return None
    value = raw.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise errors.PreconditionFailed("if-match-invalid", "If-Match must be a version ETag like \"7\"")
    return int(value)
