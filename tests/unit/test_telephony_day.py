"""The stats day starts at a configurable local time in the configured time zone."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from backend.domain.telephony.day import day_start, next_day_start

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(("now", "tz", "start", "expected"), [
    (datetime(2026, 3, 2, 1, 0, tzinfo=UTC), SHANGHAI, time(0, 0), datetime(2026, 3, 1, 16, 0, tzinfo=UTC)),
    (datetime(2026, 3, 1, 16, 0, tzinfo=UTC), SHANGHAI, time(0, 0), datetime(2026, 3, 1, 16, 0, tzinfo=UTC)),
    (datetime(2026, 3, 1, 15, 59, 59, tzinfo=UTC), SHANGHAI, time(0, 0), datetime(2026, 2, 28, 16, 0, tzinfo=UTC)),
    # a day that starts at 06:00 local: 05:59 still belongs to yesterday
    (datetime(2026, 3, 1, 21, 59, tzinfo=UTC), SHANGHAI, time(6, 0), datetime(2026, 2, 28, 22, 0, tzinfo=UTC)),
    (datetime(2026, 3, 1, 22, 0, tzinfo=UTC), SHANGHAI, time(6, 0), datetime(2026, 3, 1, 22, 0, tzinfo=UTC)),
    # DST: Berlin springs forward on 2026-03-29; the day still starts at local midnight (UTC+1 then)
    (datetime(2026, 3, 29, 12, 0, tzinfo=UTC), BERLIN, time(0, 0), datetime(2026, 3, 28, 23, 0, tzinfo=UTC)),
    (datetime(2026, 3, 30, 12, 0, tzinfo=UTC), BERLIN, time(0, 0), datetime(2026, 3, 29, 22, 0, tzinfo=UTC)),
])
def test_day_start(now: datetime, tz: ZoneInfo, start: time, expected: datetime) -> None:
    assert day_start(now, tz, start) == expected


def test_next_day_start_is_23_hours_away_on_the_spring_forward_day() -> None:
    start = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert (next_day_start(start, BERLIN) - start).total_seconds() == 23 * 3600
