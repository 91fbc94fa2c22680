"""The customer's signature on the service report: stroke and PNG checks, and the tamper-evident
hash, SHA-256 over a canonical JSON form (sorted keys, no whitespace) of the work order, the signed
report, the strokes' or image's own SHA-256, the signer, the engineer, the times and the position."""

from __future__ import annotations

import hashlib
import math
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from backend import errors
from backend.domain.mobile.geo import Position
from backend.domain.mobile.idempotency import canonical_json

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_PNG_BYTES = 256 * 1024
MAX_PNG_SIDE = 4096
MAX_STROKES = 200
MAX_POINTS = 20_000
HASH_VERSION = 1  # bump if the canonical form ever changes; stored with each signature


@dataclass(frozen=True, slots=True)
class PngInfo:
    width: int
    height: int
    sha256: str


def inspect_png(data: bytes) -> PngInfo:
    """Checks size, magic bytes and the IHDR chunk; returns the dimensions and digest."""
    if len(data) > MAX_PNG_BYTES:
        raise errors.PayloadTooLarge("signature-image-too-large",
                                     f"the signature image is over {MAX_PNG_BYTES} bytes",
                                     limit=MAX_PNG_BYTES, size=len(data))
    if len(data) < 33 or not data.startswith(PNG_MAGIC) or data[12:16] != b"IHDR":
        raise errors.ValidationFailed("signature-image-not-png", "the signature image must be a PNG")
    (length,) = struct.unpack(">I", data[8:12])
    width, height = struct.unpack(">II", data[16:24])
    if length != 13:
        raise errors.ValidationFailed("signature-image-not-png", "the PNG header chunk is malformed")
    if not (1 <= width <= MAX_PNG_SIDE and 1 <= height <= MAX_PNG_SIDE):
        raise errors.ValidationFailed("signature-image-dimensions",
                                      f"the signature image must be 1 to {MAX_PNG_SIDE} px a side",
                                      width=width, height=height, limit=MAX_PNG_SIDE)
    return PngInfo(width=width, height=height, sha256=hashlib.sha256(data).hexdigest())


def check_strokes(strokes: list[list[dict[str, float]]]) -> None:
    """Strokes are lists of points {x, y, t}: finite numbers, t (ms since the pad opened) never
    going back within a stroke, a bounded total."""
    if len(strokes) > MAX_STROKES or sum(len(s) for s in strokes) > MAX_POINTS:
        raise errors.ValidationFailed("signature-strokes-too-many",
                                      f"at most {MAX_STROKES} strokes and {MAX_POINTS} points")
    for i, stroke in enumerate(strokes):
        last_t = -math.inf
        for point in stroke:
            if not all(math.isfinite(point[k]) for k in ("x", "y", "t")):
                raise errors.ValidationFailed("signature-strokes-invalid", f"stroke {i} has a non-finite point")
            if point["t"] < last_t:
                raise errors.ValidationFailed("signature-strokes-invalid", f"stroke {i} goes back in time")
            last_t = point["t"]


def strokes_text(strokes: list[list[dict[str, float]]] | None) -> str | None:
    """The strokes as canonical JSON (floats, -0.0 folded to 0.0): the text stored and hashed."""
    if not strokes:
        return None
    return canonical_json([[{k: float(p[k]) + 0.0 for k in ("x", "y", "t")} for p in s] for s in strokes])


def sha256_text(text: str | None) -> str | None:
    return hashlib.sha256(text.encode()).hexdigest() if text is not None else None


@dataclass(frozen=True, slots=True)
class SignedDocument:
    """Everything the hash covers. Built the same way at signing and at verification."""

    work_order_id: int
    work_order_number: str
    report: dict[str, Any]
    signer_name: str
    signer_role: str
    engineer_id: int
    signed_at: datetime
    received_at: datetime
    strokes_sha256: str | None
    image_sha256: str | None
    position: Position | None

    def canonical(self) -> str:
        return canonical_json({
            "v": HASH_VERSION,
            "work_order": {"id": self.work_order_id, "number": self.work_order_number},
            "report": self.report,
            "signer": {"name": self.signer_name, "role": self.signer_role},
            "engineer_id": self.engineer_id,
            "signed_at": _instant(self.signed_at),
            "received_at": _instant(self.received_at),
            "strokes_sha256": self.strokes_sha256,
            "image_sha256": self.image_sha256,
            "position": None if self.position is None else {
                "lat": self.position.lat, "lon": self.position.lon, "accuracy_m": self.position.accuracy_m},
        })

    def sha256(self) -> str:
        return hashlib.sha256(self.canonical().encode()).hexdigest()


def _instant(value: datetime) -> str:
    """UTC with microseconds: the same instant always prints the same text."""
    if value.tzinfo is None:
        raise ValueError("signature times must be aware")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def report_unchanged(signed: dict[str, Any], current: dict[str, Any] | None) -> bool:
    """After signing, the report cannot change: the completed order's report must be the signed one."""
    return current is None or canonical_json(signed) == canonical_json(current)


def sha256_bytes(data: bytes | None) -> str | None:
    return hashlib.sha256(data).hexdigest() if data is not None else None
