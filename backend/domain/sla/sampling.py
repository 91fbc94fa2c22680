"""Which completed orders get a follow-up call: every order of a 100 % kind, a reproducible sample of
the others. Deterministic (a hash of the order id), so a re-run or an audit picks the same orders."""

from __future__ import annotations

import hashlib


def bucket(work_order_id: int) -> int:
    """0-99, uniform over order ids; stable across processes and Python versions."""
    digest = hashlib.sha256(f"follow-up:{work_order_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


def sampled(work_order_id: int, percent: int) -> bool:
    return bucket(work_order_id) < percent
