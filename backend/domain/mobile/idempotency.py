"""Idempotency keys (IETF draft-ietf-httpapi-idempotency-key-header): the key's format, the
request fingerprint (method, path, canonical JSON body), and what a stored record means for a
new request with the same key: replay it, refuse a different body (422), or wait (409)."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

from backend import errors

KEY_PATTERN = re.compile(r"^[A-Za-z0-9._:~+/=-]{8,255}$")
# Refusals a retry must be free to redo (a lost race, a phone clock ahead of ours): not stored.
TRANSIENT_CODES = frozenset({"concurrent-update", "idempotency-key-in-use", "occurred-at-in-future"})


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: str
    headers: dict[str, str]


def parse_key(raw: str | None) -> str:
    """The key from the header: a structured-field string (quoted) or a bare token, 8 to 255 chars."""
    if raw is None or not raw.strip():
        raise errors.BadRequest("idempotency-key-required", "send an Idempotency-Key header with every change")
    key = raw.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not KEY_PATTERN.match(key):
        raise errors.BadRequest("idempotency-key-invalid",
                                "Idempotency-Key must be 8 to 255 characters (a UUID is ideal)")
    return key


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, UTF-8 kept: equal data gives equal text."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def fingerprint(method: str, path: str, body: Any) -> str:
    payload = f"{method.upper()}\n{path}\n{canonical_json(body)}".encode()
    return hashlib.sha256(payload).hexdigest()


def check_existing(stored_fingerprint: str, request_fingerprint: str) -> None:
    """Raises when the stored record (always a finished request's: records are written with their
    response) was for a different request; returns when its response may be replayed."""
    if stored_fingerprint != request_fingerprint:
        raise errors.ValidationFailed("idempotency-key-reused",
                                      "this Idempotency-Key was used for a different request")


def lock_id(user_id: int, key: str) -> int:
    """A signed 64-bit number naming (user, key) for a PostgreSQL advisory lock."""
    digest = hashlib.sha256(f"{user_id}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
