"""Appointment reminders on SQLite and PostgreSQL, on an injected clock: scheduled with the
customer-contacted action (or an appointment edit) in the same transaction, not claimable before
an hour ahead of the visit, delivered then through the real FCM sender and the FCM stand-in, once;
dropped, never sent, when the appointment no longer stands (cancelled, engineer arrived, reassigned,
appointment moved: only the latest one's reminder goes out)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from backend.domain.mobile.push import payload_size
from backend.domain.work_orders import commands as c
from backend.persistence.tables_mobile import PushNotification
from tests.integration.mobile.fcm_standin import Standin
from tests.integration.mobile.harness import MobileHarness
from tests.integration.mobile.test_mobile_push import delivery

TOKEN = "token-a-phone-0001"
REMINDER = "appointment_reminder"


def _reminders(mobile: MobileHarness, order_id: int) -> list[PushNotification]:
    return sorted(mobile.rows(PushNotification, PushNotification.work_order_id == order_id,
                              PushNotification.kind == REMINDER), key=lambda r: r.id or 0)


def _reminder_sends(fcm: Standin) -> list[dict[str, Any]]:
    return [s for s in fcm.sends_to(TOKEN) if s["json"]["message"]["data"]["type"] == REMINDER]


def _contacted(mobile: MobileHarness, appointment: datetime) -> int:
    """An order of engineer A (one phone), acknowledged and the customer called: visit at ``appointment``."""
    response = mobile.post("/devices", {"token": TOKEN, "platform": "android", "app_version": "1.4.2"})
    assert response.status_code == 201, response.text
    order = mobile.new_order(engineer=mobile.r.eng_a)
    assert mobile.do(order.id, "acknowledge", {}).status_code == 200
    response = mobile.do(order.id, "contact", {"appointment_at": appointment.isoformat()})
    assert response.status_code == 200, response.text
    return order.id


def test_reminder_waits_for_its_time_then_goes_out_once(mobile: MobileHarness, fcm: Standin,
                                                        tmp_path: Path) -> None:
    shanghai = timezone(timedelta(hours=8))  # the phone sends local time; the row keeps UTC
    appointment = (mobile.clock.now() + timedelta(hours=3)).replace(microsecond=0).astimezone(shanghai)
    order_id = _contacted(mobile, appointment)
    [row] = _reminders(mobile, order_id)
    assert (row.state, row.user_id, row.token) == ("pending", mobile.r.eng_a.user_id, TOKEN)
    assert row.next_attempt_at == appointment - timedelta(hours=1)
    assert row.collapse_key == f"work_order:{order_id}" and not row.high_priority and row.ttl_s == 3600
    assert row.data["appointment_at"] == appointment.astimezone(UTC).isoformat()
    assert payload_size(row.title, row.body, row.data) <= 4096
    assert row.title.endswith(appointment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"))

    with delivery(mobile, fcm, tmp_path) as worker:
        mobile.client.portal.call(worker.drain)  # the dispatch push goes now, the reminder does not
        assert _reminder_sends(fcm) == []
        mobile.clock.advance(hours=2, seconds=-1)
        mobile.client.portal.call(worker.drain)
        assert _reminder_sends(fcm) == [] and _reminders(mobile, order_id)[0].state == "pending"
        mobile.clock.advance(seconds=1)
        report = mobile.client.portal.call(worker.drain)
        assert report.sent >= 1
        mobile.clock.advance(minutes=30)
        mobile.client.portal.call(worker.drain)
    [sent] = _reminder_sends(fcm)  # once, however often the sender drains
    message = sent["json"]["message"]
    assert message["data"]["work_order_id"] == str(order_id)
    assert message["android"]["priority"] == "normal" and message["android"]["ttl"] == "3600s"
    assert message["android"]["collapse_key"] == f"work_order:{order_id}"
    [row] = _reminders(mobile, order_id)
    assert (row.state, row.attempts, row.sent_at) == ("sent", 1, appointment - timedelta(hours=1))


def test_no_reminder_for_an_appointment_within_the_hour(mobile: MobileHarness) -> None:
    order_id = _contacted(mobile, mobile.clock.now() + timedelta(minutes=45))
    assert _reminders(mobile, order_id) == []


def _cancel(mobile: MobileHarness, order_id: int) -> None:
    mobile.console(order_id, c.Cancel(reason="customer fixed it"))


def _arrive(mobile: MobileHarness, order_id: int) -> None:
    assert mobile.do(order_id, "depart", {}).status_code == 200
    position = {"position": {"lat": 31.2, "lon": 121.5, "accuracy_m": 10}}
    assert mobile.do(order_id, "arrive", position).status_code == 200


def _reassign(mobile: MobileHarness, order_id: int) -> None:
    mobile.console(order_id, c.Dispatch(engineer_id=mobile.r.eng_b.user_id))


@pytest.mark.parametrize(("change", "reason"), [
    (_cancel, "the appointment no longer stands"),  # found when due
    (_arrive, "the appointment no longer stands"),
    (_reassign, "superseded"),  # dropped with the dispatch itself
], ids=["cancelled", "arrived", "reassigned"])
def test_reminder_is_dropped_when_the_appointment_no_longer_stands(
        mobile: MobileHarness, fcm: Standin, tmp_path: Path, change: Callable[[MobileHarness, int], None],
        reason: str) -> None:
    appointment = mobile.clock.now() + timedelta(hours=3)
    order_id = _contacted(mobile, appointment)
    change(mobile, order_id)
    with delivery(mobile, fcm, tmp_path) as worker:
        mobile.clock.advance(hours=2)
        mobile.client.portal.call(worker.drain)
        mobile.clock.advance(minutes=1)
        mobile.client.portal.call(worker.drain)
    assert _reminder_sends(fcm) == []
    [mine] = [r for r in _reminders(mobile, order_id) if r.user_id == mobile.r.eng_a.user_id]
    assert (mine.state, mine.last_error) == ("obsolete", reason)


def test_reassigned_order_reminds_the_new_engineer_of_the_standing_appointment(mobile: MobileHarness) -> None:
    appointment = mobile.clock.now() + timedelta(hours=3)
    order_id = _contacted(mobile, appointment)
    _reassign(mobile, order_id)
    assert mobile.do(order_id, "acknowledge", {}, who=mobile.r.eng_b).status_code == 200  # no churn on ack
    rows = [(r.user_id, r.state) for r in _reminders(mobile, order_id)]
    assert rows == [(mobile.r.eng_a.user_id, "obsolete"), (mobile.r.eng_b.user_id, "no_device")]


def test_appointment_set_at_the_console_is_reminded_after_dispatch(mobile: MobileHarness, fcm: Standin,
                                                                    tmp_path: Path) -> None:
    response = mobile.post("/devices", {"token": TOKEN, "platform": "android", "app_version": "1.4.2"})
    assert response.status_code == 201, response.text
    order = mobile.new_order()
    appointment = mobile.clock.now() + timedelta(days=2)  # the customer chose a later date
    mobile.console(order.id, c.Edit(changes={"appointment_at": appointment}))
    assert _reminders(mobile, order.id) == []  # nobody to remind yet
    mobile.console(order.id, c.Dispatch(engineer_id=mobile.r.eng_a.user_id))
    assert mobile.do(order.id, "acknowledge", {}).status_code == 200
    [row] = _reminders(mobile, order.id)
    assert (row.state, row.next_attempt_at) == ("pending", appointment - timedelta(hours=1))
    mobile.clock.set(appointment - timedelta(hours=1))  # two days on: still sent (not "expired" after a day)
    with delivery(mobile, fcm, tmp_path) as worker:
        mobile.client.portal.call(worker.drain)
    assert len(_reminder_sends(fcm)) == 1
    assert _reminders(mobile, order.id)[0].state == "sent"


def test_moved_appointment_sends_only_the_latest_reminder(mobile: MobileHarness, fcm: Standin,
                                                          tmp_path: Path) -> None:
    first = mobile.clock.now() + timedelta(hours=3)
    order_id = _contacted(mobile, first)
    second = first + timedelta(hours=2)
    mobile.console(order_id, c.Edit(changes={"appointment_at": second}))  # the customer asked for later
    old, new = _reminders(mobile, order_id)
    assert (old.state, old.last_error) == ("obsolete", "superseded")  # dropped in the same transaction
    assert (new.state, new.next_attempt_at) == ("pending", second - timedelta(hours=1))
    with delivery(mobile, fcm, tmp_path) as worker:
        mobile.clock.advance(hours=2)  # the old reminder's time: nothing goes out
        mobile.client.portal.call(worker.drain)
        assert _reminder_sends(fcm) == []
        mobile.clock.advance(hours=2)  # the new one's
        mobile.client.portal.call(worker.drain)
        mobile.client.portal.call(worker.drain)
    [sent] = _reminder_sends(fcm)
    assert datetime.fromisoformat(sent["json"]["message"]["data"]["appointment_at"]) == second
    assert [r.state for r in _reminders(mobile, order_id)] == ["obsolete", "sent"]


def test_cleared_appointment_drops_the_reminder(mobile: MobileHarness) -> None:
    order_id = _contacted(mobile, mobile.clock.now() + timedelta(hours=3))
    mobile.console(order_id, c.Edit(changes={"appointment_at": None}))
    assert [r.state for r in _reminders(mobile, order_id)] == ["obsolete"]
