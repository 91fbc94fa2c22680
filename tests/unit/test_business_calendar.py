"""The business calendar, table-driven: the late-report rule, the next opening and the scheduled start
across evenings, weekends, holidays, UTC midnight and a daylight-saving change in another zone."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from backend.domain.calendar import BusinessCalendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")

CN = BusinessCalendar()
CN_MAY_DAY = BusinessCalendar(holidays=frozenset({date(2024, 5, 1), date(2024, 5, 2), date(2024, 5, 3)}))
# Easter 2024 around the spring DST change (Sunday 31 March, 02:00 CET -> 03:00 CEST).
DE = BusinessCalendar(tz=BERLIN)
DE_EASTER = BusinessCalendar(tz=BERLIN, holidays=frozenset({date(2024, 3, 29), date(2024, 4, 1)}))


def at(tz: ZoneInfo, *args: int) -> datetime:
    """A local wall-clock time, handed to the calendar as a UTC instant (as services do)."""
    return datetime(*args, tzinfo=tz).astimezone(UTC)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


LATE_REPORTS = [
    # (calendar, instant, late)      2024-05-06 is a Monday
    (CN, at(SHANGHAI, 2024, 5, 6, 8, 29, 59), True),
    (CN, at(SHANGHAI, 2024, 5, 6, 8, 30), False),
    (CN, at(SHANGHAI, 2024, 5, 6, 12, 0), False),
    (CN, at(SHANGHAI, 2024, 5, 6, 15, 59, 59), False),
    (CN, at(SHANGHAI, 2024, 5, 6, 16, 0), True),
    (CN, at(SHANGHAI, 2024, 5, 6, 16, 59), True),  # still open, but past the cut-off
    (CN, at(SHANGHAI, 2024, 5, 6, 17, 0), True),
    (CN, at(SHANGHAI, 2024, 5, 6, 0, 0), True),
    (CN, at(SHANGHAI, 2024, 5, 10, 10, 0), False),  # Friday
    (CN, at(SHANGHAI, 2024, 5, 11, 10, 0), True),  # Saturday
    (CN, at(SHANGHAI, 2024, 5, 12, 10, 0), True),  # Sunday
    (CN, utc(2024, 5, 6, 7, 59), False),  # 15:59 in Shanghai
    (CN, utc(2024, 5, 6, 8, 0), True),  # 16:00 in Shanghai
    (CN, utc(2024, 5, 6, 0, 30), False),  # 08:30 in Shanghai
    (CN, utc(2024, 5, 5, 23, 0), True),  # Sunday in UTC, 07:00 Monday in Shanghai
    (CN, utc(2024, 5, 10, 23, 0), True),  # Friday in UTC, 07:00 Saturday in Shanghai
    (CN, utc(2024, 5, 11, 1, 0), True),  # 09:00 Saturday in Shanghai
    (CN_MAY_DAY, at(SHANGHAI, 2024, 5, 2, 10, 0), True),  # a holiday Thursday
    (CN_MAY_DAY, at(SHANGHAI, 2024, 4, 30, 10, 0), False),
    (CN, at(SHANGHAI, 2024, 5, 2, 10, 0), False),  # the same Thursday without the holiday
    # Berlin, winter time (UTC+1) and summer time (UTC+2) on either side of 31 March 2024
    (DE, utc(2024, 3, 28, 14, 59), False),  # 15:59 CET
    (DE, utc(2024, 3, 28, 15, 0), True),  # 16:00 CET
    (DE, utc(2024, 4, 2, 13, 59), False),  # 15:59 CEST
    (DE, utc(2024, 4, 2, 14, 0), True),  # 16:00 CEST
    (DE, utc(2024, 4, 2, 6, 29), True),  # 08:29 CEST
    (DE, utc(2024, 4, 2, 6, 30), False),  # 08:30 CEST
    (DE, utc(2024, 3, 28, 7, 29), True),  # 08:29 CET
    (DE, utc(2024, 3, 28, 7, 30), False),  # 08:30 CET
    (DE_EASTER, at(BERLIN, 2024, 3, 29, 10, 0), True),  # Good Friday
    (DE_EASTER, at(BERLIN, 2024, 4, 1, 10, 0), True),  # Easter Monday
    # One instant, two centers: 08:00 UTC is 16:00 in Shanghai but 10:00 in Berlin.
    (CN, utc(2024, 4, 2, 8, 0), True),
    (DE, utc(2024, 4, 2, 8, 0), False),
]


@pytest.mark.parametrize(("calendar", "instant", "late"), LATE_REPORTS)
def test_is_late_report(calendar: BusinessCalendar, instant: datetime, late: bool) -> None:
    assert calendar.is_late_report(instant) is late
    # The zone the instant is expressed in does not matter, only the instant.
    assert calendar.is_late_report(instant.astimezone(SHANGHAI)) is late
    assert calendar.is_late_report(instant.astimezone(BERLIN)) is late


NEXT_OPENINGS = [
    # (calendar, instant, next opening strictly after it)
    (CN, at(SHANGHAI, 2024, 5, 6, 7, 0), at(SHANGHAI, 2024, 5, 6, 8, 30)),
    (CN, at(SHANGHAI, 2024, 5, 6, 8, 29), at(SHANGHAI, 2024, 5, 6, 8, 30)),
    (CN, at(SHANGHAI, 2024, 5, 6, 8, 30), at(SHANGHAI, 2024, 5, 7, 8, 30)),  # strictly after
    (CN, at(SHANGHAI, 2024, 5, 6, 16, 0), at(SHANGHAI, 2024, 5, 7, 8, 30)),
    (CN, at(SHANGHAI, 2024, 5, 6, 23, 59), at(SHANGHAI, 2024, 5, 7, 8, 30)),
    (CN, at(SHANGHAI, 2024, 5, 10, 16, 30), at(SHANGHAI, 2024, 5, 13, 8, 30)),  # Friday evening -> Monday
    (CN, at(SHANGHAI, 2024, 5, 11, 0, 0), at(SHANGHAI, 2024, 5, 13, 8, 30)),
    (CN, at(SHANGHAI, 2024, 5, 12, 23, 59), at(SHANGHAI, 2024, 5, 13, 8, 30)),
    (CN, utc(2024, 5, 6, 23, 59), utc(2024, 5, 7, 0, 30)),  # across UTC midnight
    (CN, utc(2024, 5, 6, 16, 0), utc(2024, 5, 7, 0, 30)),  # local midnight, 16:00 UTC
    (CN, utc(2024, 5, 5, 23, 0), utc(2024, 5, 6, 0, 30)),  # Sunday UTC, Monday morning locally
    (CN_MAY_DAY, at(SHANGHAI, 2024, 4, 30, 16, 30), at(SHANGHAI, 2024, 5, 6, 8, 30)),  # holidays + weekend
    (CN_MAY_DAY, at(SHANGHAI, 2024, 5, 2, 10, 0), at(SHANGHAI, 2024, 5, 6, 8, 30)),
    (CN, at(SHANGHAI, 2024, 4, 30, 16, 30), at(SHANGHAI, 2024, 5, 1, 8, 30)),
    (CN, at(SHANGHAI, 2024, 12, 31, 18, 0), at(SHANGHAI, 2025, 1, 1, 8, 30)),  # across the year
    # Berlin: the opening is 08:30 local on both sides of the DST change, so its UTC hour moves.
    (DE, at(BERLIN, 2024, 3, 28, 16, 30), utc(2024, 3, 29, 7, 30)),  # CET
    (DE, at(BERLIN, 2024, 3, 29, 17, 0), utc(2024, 4, 1, 6, 30)),  # Friday CET -> Monday CEST
    (DE, utc(2024, 3, 31, 1, 30), utc(2024, 4, 1, 6, 30)),  # during the skipped hour's night
    (DE_EASTER, at(BERLIN, 2024, 3, 28, 16, 30), utc(2024, 4, 2, 6, 30)),  # Easter: Thursday -> Tuesday
    (DE, at(BERLIN, 2024, 10, 25, 18, 0), utc(2024, 10, 28, 7, 30)),  # autumn: Friday CEST -> Monday CET
    (DE, utc(2024, 10, 27, 0, 30), utc(2024, 10, 28, 7, 30)),  # the repeated hour's night
]


@pytest.mark.parametrize(("calendar", "instant", "expected"), NEXT_OPENINGS)
def test_next_opening_after(calendar: BusinessCalendar, instant: datetime, expected: datetime) -> None:
    opening = calendar.next_opening_after(instant)
    assert opening == expected
    assert opening > instant
    local = calendar.local(opening)
    assert local.time() == time(8, 30)
    assert calendar.is_business_day(local.date())
    assert not calendar.is_late_report(opening)


@pytest.mark.parametrize(("calendar", "instant", "late"), LATE_REPORTS)
def test_scheduled_start(calendar: BusinessCalendar, instant: datetime, late: bool) -> None:
    start = calendar.scheduled_start(instant)
    if late:
        assert start == calendar.next_opening_after(instant)
        assert start > instant
    else:
        assert start == instant


@pytest.mark.parametrize(("instant", "expected"), [
    (at(SHANGHAI, 2024, 5, 6, 16, 0), at(SHANGHAI, 2024, 5, 7, 8, 30)),
    (at(SHANGHAI, 2024, 5, 10, 16, 0), at(SHANGHAI, 2024, 5, 13, 8, 30)),
    (at(SHANGHAI, 2024, 5, 11, 12, 0), at(SHANGHAI, 2024, 5, 13, 8, 30)),
    (at(SHANGHAI, 2024, 5, 13, 8, 0), at(SHANGHAI, 2024, 5, 13, 8, 30)),
    (at(SHANGHAI, 2024, 5, 13, 9, 0), at(SHANGHAI, 2024, 5, 13, 9, 0)),
])
def test_scheduled_start_examples(instant: datetime, expected: datetime) -> None:
    assert CN.scheduled_start(instant) == expected


def test_configured_hours_and_workdays() -> None:
    # A six-day week opening at 09:00 with a 15:00 cut-off, in Shanghai.
    cal = BusinessCalendar(opens=time(9, 0), late_cutoff=time(15, 0), closes=time(18, 0),
                           workdays=frozenset({0, 1, 2, 3, 4, 5}))
    assert cal.is_late_report(at(SHANGHAI, 2024, 5, 11, 10, 0)) is False  # Saturday is a workday
    assert cal.is_late_report(at(SHANGHAI, 2024, 5, 6, 8, 45)) is True
    assert cal.is_late_report(at(SHANGHAI, 2024, 5, 6, 15, 0)) is True
    assert cal.next_opening_after(at(SHANGHAI, 2024, 5, 10, 15, 30)) == at(SHANGHAI, 2024, 5, 11, 9, 0)
    assert cal.next_opening_after(at(SHANGHAI, 2024, 5, 11, 15, 30)) == at(SHANGHAI, 2024, 5, 13, 9, 0)


@pytest.mark.parametrize(("day", "open_"), [
    (date(2024, 5, 6), True), (date(2024, 5, 10), True), (date(2024, 5, 11), False), (date(2024, 5, 12), False),
])
def test_is_business_day(day: date, open_: bool) -> None:
    assert CN.is_business_day(day) is open_
    assert CN_MAY_DAY.is_business_day(date(2024, 5, 1)) is False


def test_local_and_opening_are_in_the_calendar_zone() -> None:
    assert CN.local(utc(2024, 5, 6, 16, 0)) == datetime(2024, 5, 7, 0, 0, tzinfo=SHANGHAI)
    assert CN.local(utc(2024, 5, 6, 16, 0)).tzinfo is SHANGHAI
    assert DE.opening(date(2024, 4, 1)) == utc(2024, 4, 1, 6, 30)
    assert DE.opening(date(2024, 3, 29)) == utc(2024, 3, 29, 7, 30)


def test_a_calendar_without_working_days_is_refused() -> None:
    with pytest.raises(ValueError, match="no business day"):
        BusinessCalendar(workdays=frozenset()).next_opening_after(utc(2024, 5, 6))
