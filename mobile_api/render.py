"""JSON text for responses: dataclasses, pydantic models, datetimes (ISO 8601) in one place, so a
stored idempotent response and a fresh one are the same bytes."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from pydantic_core import to_jsonable_python


def dump(content: Any) -> str:
    if isinstance(content, BaseModel):
        return content.model_dump_json()  # one pass in pydantic's serializer: compact, UTF-8 as is
    return json.dumps(to_jsonable_python(content), ensure_ascii=False, separators=(",", ":"))
