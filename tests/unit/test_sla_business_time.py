"""Business-time arithmetic, table-driven: opening hours only, across evenings, weekends, holidays,
UTC midnight, another time zone and its daylight-saving change; and the inverse (time between)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend.domain.calendar import BusinessCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
CN = BusinessCalendar()
CN_MAY_DAY = BusinessCalendar(holidays=frozenset({date(2024, 5, 1), date(2024, 5, 2), date(2024, 5, 3)}))
DE = BusinessCalendar(tz=BERLIN)
DE_EASTER = BusinessCalendar(tz=BERLIN, holidays=frozenset({date(2024, 3, 29), date(2024, 4, 1)}))
M, H = timedelta(minutes=1), timedelta(hours=1)


def at(tz: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=tz).astimezone(UTC)


ADD = [
    # (calendar, start, duration, expected)                 2024-05-06 is a Monday
    ("inside the day", CN, at(SHANGHAI, 2024, 5, 6, 9, 0), 30 * M, at(SHANGHAI, 2024, 5, 6, 9, 30)),
    ("ends exactly at close", CN, at(SHANGHAI, 2024, 5, 6, 16, 30), 30 * M, at(SHANGHAI, 2024, 5, 6, 17, 0)),
    ("across the evening", CN, at(SHANGHAI, 2024, 5, 6, 16, 50), 30 * M, at(SHANGHAI, 2024, 5, 7, 8, 50)),
    ("before opening starts at opening", CN, at(SHANGHAI, 2024, 5, 6, 6, 0), 30 * M,
     at(SHANGHAI, 2024, 5, 6, 9, 0)),
    ("after close starts next morning", CN, at(SHANGHAI, 2024, 5, 6, 20, 0), 4 * H,
     at(SHANGHAI, 2024, 5, 7, 12, 30)),
    ("across the weekend", CN, at(SHANGHAI, 2024, 5, 10, 15, 0), 3 * H, at(SHANGHAI, 2024, 5, 13, 9, 30)),
    ("started on a Sunday", CN, at(SHANGHAI, 2024, 5, 12, 11, 0), 2 * H, at(SHANGHAI, 2024, 5, 13, 10, 30)),
    ("a whole business day", CN, at(SHANGHAI, 2024, 5, 6, 8, 30), timedelta(hours=8, minutes=30),
     at(SHANGHAI, 2024, 5, 6, 17, 0)),
    ("more than a day", CN, at(SHANGHAI, 2024, 5, 6, 12, 0), 10 * H, at(SHANGHAI, 2024, 5, 7, 13, 30)),
    ("across the May Day holidays and a weekend", CN_MAY_DAY, at(SHANGHAI, 2024, 4, 30, 16, 0), 2 * H,
     at(SHANGHAI, 2024, 5, 6, 9, 30)),
    ("UTC midnight is local morning", CN, datetime(2024, 5, 6, 0, 0, tzinfo=UTC), 1 * H,
     at(SHANGHAI, 2024, 5, 6, 9, 30)),
    ("zero duration outside hours", CN, at(SHANGHAI, 2024, 5, 6, 20, 0), timedelta(0),
     at(SHANGHAI, 2024, 5, 6, 20, 0)),
    ("Berlin, over Easter and the DST change", DE_EASTER, at(BERLIN, 2024, 3, 28, 16, 0), 2 * H,
     at(BERLIN, 2024, 4, 2, 9, 30)),
    ("Berlin, first day of summer time", DE, at(BERLIN, 2024, 3, 29, 16, 30), 1 * H,
     at(BERLIN, 2024, 4, 1, 9, 0)),
]


@pytest.mark.parametrize(("case", "calendar", "start", "duration", "expected"), ADD, ids=[c[0] for c in ADD])
def test_add_business_time(case: str, calendar: BusinessCalendar, start: datetime, duration: timedelta,
                           expected: datetime) -> None:
    result = calendar.add_business_time(start, duration)
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize(("case", "calendar", "start", "duration", "expected"), ADD, ids=[c[0] for c in ADD])
def test_business_time_between_inverts_add(case: str, calendar: BusinessCalendar, start: datetime,
                                           duration: timedelta, expected: datetime) -> None:
    assert calendar.business_time_between(start, expected) == duration
    assert calendar.business_time_between(expected, start) == -duration


def test_summer_time_day_still_counts_eight_and_a_half_hours() -> None:
    # 31 March 2024 has 23 hours in Berlin; opening hours are wall-clock, so a day is still 8.5 h.
    monday = at(BERLIN, 2024, 4, 1, 8, 30)
    assert DE.business_time_between(at(BERLIN, 2024, 3, 29, 17, 0), monday + 8.5 * H) == 8.5 * H


def test_existing_calendar_functions_keep_their_behaviour() -> None:
    assert CN.scheduled_start(at(SHANGHAI, 2024, 5, 6, 16, 30)) == at(SHANGHAI, 2024, 5, 7, 8, 30)
    assert not CN.is_late_report(at(SHANGHAI, 2024, 5, 6, 10, 0))
