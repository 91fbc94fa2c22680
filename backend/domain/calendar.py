"""The business calendar: opening hours, the late-report cut-off, working days and holidays,
in the configured time zone. Pure: every function takes the instant it reasons about."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
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

    # --- business time: only opening hours on business days count (SLA rules in business time) ---

    def closing(self, day: date) -> datetime:
        return datetime.combine(day, self.closes, tzinfo=self.tz)

    def _open_spans(self, start: datetime, max_days: int = 3700) -> Iterator[tuple[datetime, datetime]]:
        """The opening-hour spans (UTC) from ``start`` on, the first one clipped at ``start``."""
        day = self.local(start).date()
        for _ in range(max_days):
            if self.is_business_day(day):
                begin = max(self.opening(day), start).astimezone(UTC)
                end = self.closing(day).astimezone(UTC)
                if begin < end:
                    yield begin, end
            day += timedelta(days=1)
        raise ValueError("no end within ten years of business days: check the calendar")

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """The instant (UTC) when ``duration`` of opening hours has passed since ``start``.
        Evenings, weekends and holidays do not count; a zero duration outside hours is ``start``."""
        if duration <= timedelta(0):
            return start.astimezone(UTC)
        remaining = duration
        for begin, end in self._open_spans(start):
            if remaining <= end - begin:
                return begin + remaining
            remaining -= end - begin
        raise AssertionError("unreachable")  # _open_spans raises first

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Opening hours between two instants (negative when ``end`` is before ``start``)."""
        if end < start:
            return -self.business_time_between(end, start)
        total = timedelta(0)
        for begin, close in self._open_spans(start):
            if begin >= end:
                break
            total += min(close, end) - begin
        return total
