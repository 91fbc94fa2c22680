"""The business calendar: opening hours, the late-report cut-off, working days and holidays,
in the configured time zone. Pure: every function takes the instant it reasons about."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class BusinessCalendar:
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    opens: time = time(8, 30)
    closes: time = time(17, 0)
    late_cutoff: time = time(16, 0)
    workdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})  # Monday = 0
    holidays: frozenset[date] = frozenset()

    def local(self, instant: datetime) -> datetime:
        return instant.astimezone(self.tz)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.workdays and day not in self.holidays

    def opening(self, day: date) -> datetime:
        return datetime.combine(day, self.opens, tzinfo=self.tz)

    def next_opening_after(self, instant: datetime) -> datetime:
        """The first opening strictly after ``instant`` (searching up to a year ahead)."""
        day = self.local(instant).date()
        for _ in range(370):
            if self.is_business_day(day) and self.opening(day) > instant:
                return self.opening(day)
            day += timedelta(days=1)
        raise ValueError("no business day within a year: check the calendar")

    def is_late_report(self, instant: datetime) -> bool:
        """Reported after the cut-off, outside opening hours, or on a closed day."""
        local = self.local(instant)
        if not self.is_business_day(local.date()):
            return True
        return not (self.opens <= local.time() < self.late_cutoff)

    def scheduled_start(self, reported_at: datetime) -> datetime:
        """When work on a report can start: now if reported in time, else the next opening."""
        return self.next_opening_after(reported_at) if self.is_late_report(reported_at) else reported_at
