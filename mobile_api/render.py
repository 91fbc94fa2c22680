"""JSON text for responses: dataclasses, pydantic models, datetimes (ISO 8601) in one place, so a
stored idempotent response and a fresh one are the same bytes."""

from __future__ import annotations

import json
from typing import Any

from pydantic_core import to_jsonable_python


def dump(content: Any) -> str:
    if hasattr(content, "model_dump"):
        content = content.model_dump(mode="json")
    return json.dumps(to_jsonable_python(content), ensure_ascii=False, separators=(",", ":"))
