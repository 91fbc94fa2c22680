"""Photos an engineer attaches to an order: JPEG or PNG by their magic bytes, size-capped, a
bounded number per order."""

from __future__ import annotations

from backend import errors

MAX_PHOTO_BYTES = 512 * 1024
MAX_PHOTOS_PER_ORDER = 20
_MAGIC = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}


def check_photo(content_type: str, data: bytes, already: int) -> None:
    if len(data) > MAX_PHOTO_BYTES:
        raise errors.PayloadTooLarge("photo-too-large", f"a photo may be at most {MAX_PHOTO_BYTES} bytes",
                                     limit=MAX_PHOTO_BYTES, size=len(data))
    magic = _MAGIC.get(content_type)
    if magic is None or not data.startswith(magic):
        raise errors.ValidationFailed("photo-type-mismatch", f"the data is not {content_type}",
                                      allowed=sorted(_MAGIC))
    if already >= MAX_PHOTOS_PER_ORDER:
        raise errors.Conflict("photo-limit-reached", f"at most {MAX_PHOTOS_PER_ORDER} photos per order")
