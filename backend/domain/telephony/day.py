"""The statistics day: it starts at a configurable local time in the business's time zone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo


def day_start(now: datetime, tz: ZoneInfo, start: time = time(0, 0)) -> datetime:
    """The latest day start at or before ``now`` (UTC). Across a DST gap the wall-clock time that
    does not exist is read as ``zoneinfo`` does (fold 0)."""
    local = now.astimezone(tz)
    candidate = datetime.combine(local.date(), start, tzinfo=tz)
    if candidate > local:
        candidate = datetime.combine(local.date() - timedelta(days=1), start, tzinfo=tz)
    return candidate.astimezone(UTC)


def next_day_start(current: datetime, tz: ZoneInfo, start: time = time(0, 0)) -> datetime:
    local = current.astimezone(tz)
    return datetime.combine(local.date() + timedelta(days=1), start, tzinfo=tz).astimezone(UTC)
