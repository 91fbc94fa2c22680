"""Appointment reminders as pure rules: when one is due, when it still stands, what it says."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from backend.domain.mobile.push import (
    MAX_PAYLOAD_BYTES,
    PushKind,
    content,
    payload_size,
    reminder_at,
    reminder_stands,
)

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)
VISIT = NOW + timedelta(hours=3)


@pytest.mark.parametrize(("appointment", "due"), [
    (NOW + timedelta(hours=3), NOW + timedelta(hours=2)),
    (NOW + timedelta(minutes=61), NOW + timedelta(minutes=1)),
    (NOW + timedelta(minutes=60), None),  # due right now: just agreed, no reminder
    (NOW + timedelta(minutes=30), None),
    (NOW - timedelta(hours=1), None),
])
def test_reminder_at(appointment: datetime, due: datetime | None) -> None:
    assert reminder_at(appointment, NOW) == due


@pytest.mark.parametrize(("state", "engineer", "appointment", "now", "stands"), [
    ("contacted", 7, VISIT, NOW, True),
    ("acknowledged", 7, VISIT, NOW, True),
    ("dispatched", 7, VISIT, NOW, True),
    ("contacted", 7, VISIT.astimezone(timezone(timedelta(hours=8))), NOW, True),  # same instant
    ("en_route", 7, VISIT, NOW, False),
    ("on_site", 7, VISIT, NOW, False),
    ("cancelled", 7, VISIT, NOW, False),
    ("completed", 7, VISIT, NOW, False),
    ("contacted", 8, VISIT, NOW, False),  # reassigned
    ("dispatched", None, VISIT, NOW, False),
    ("contacted", 7, VISIT + timedelta(hours=1), NOW, False),  # moved
    ("contacted", 7, None, NOW, False),  # cleared
    ("contacted", 7, VISIT, VISIT, False),  # too late
])
def test_reminder_stands(state: str, engineer: int | None, appointment: datetime | None, now: datetime,
                         stands: bool) -> None:
    assert reminder_stands(state=state, engineer_id=engineer, appointment_at=appointment, user_id=7,
                           reminder_for=VISIT, now=now) is stands


def test_reminder_content_fits_and_is_normal_priority() -> None:
    body = content(PushKind.APPOINTMENT_REMINDER, work_order_id=1, number="WO202603020001", state="contacted",
                   description="液压泵漏油 " * 1000, extra={"appointment_at": "2026-03-02T11:00:00+08:00"})
    assert body.title == "Appointment: WO202603020001 at 2026-03-02 03:00 UTC"
    assert payload_size(body.title, body.body, body.data) <= MAX_PAYLOAD_BYTES and body.body.endswith("…")
    assert not body.high_priority and body.collapse_key == "work_order:1"
    assert body.data["appointment_at"] == "2026-03-02T11:00:00+08:00"
