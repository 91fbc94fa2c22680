"""Push notifications on SQLite and PostgreSQL: rows written with the change that causes them,
visible through the API; delivery through the real firebase-admin SDK (a real service-account file,
a real token exchange) against a local FCM v1 stand-in: the exact JSON, every error path, retry
timing on an injected clock, never two sends per (notification, token); push off without
credentials; the embedded delivery loop."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from backend.domain.mobile.push import payload_size
from backend.domain.work_orders import commands as c
from backend.persistence.tables_mobile import Device, PushNotification
from backend.services import push as push_service
from tests.integration.mobile.fcm_standin import ACCESS_TOKEN, PROJECT, Standin, fcm_error
from tests.integration.mobile.harness import MobileHarness
from tests.support.apptest import migrated_settings, open_app
from tests.support.waiting import wait_until
from workers.fcm import FcmPushSender
from workers.push import PushDelivery


def _device(mobile: MobileHarness, who: Any, token: str) -> int:
    response = mobile.post("/devices", {"token": token, "platform": "android", "app_version": "1.4.2"}, who=who)
    assert response.status_code == 201, response.text
    return response.json()["id"]


@contextmanager
def delivery(mobile: MobileHarness, fcm: Standin, tmp_path: Path) -> Iterator[PushDelivery]:
    """The real FCM sender (service-account file, named app) pointed at the stand-in."""
    credentials_file = fcm.service_account(tmp_path)
    portal = mobile.client.portal
    assert portal is not None

    async def make() -> PushDelivery:
        sender = FcmPushSender(credentials_file, endpoint=fcm.endpoint, clock=mobile.clock)
        return PushDelivery(mobile.client.app.state.uows, sender, max_attempts=4, jitter=0.0)

    worker = portal.call(make)
    try:
        yield worker
    finally:
        portal.call(worker.sender.aclose)


def _rows(mobile: MobileHarness, *where: Any) -> list[PushNotification]:
    return sorted(mobile.rows(PushNotification, *where), key=lambda r: r.id)


def test_pushes_are_written_with_the_change(mobile: MobileHarness) -> None:
    ref = mobile.r
    _device(mobile, ref.eng_a, "token-a-phone-0001")
    _device(mobile, ref.eng_a, "token-a-tablet-0002")
    _device(mobile, ref.eng_b, "token-b-phone-0003")
    order = mobile.new_order(engineer=ref.eng_a)
    dispatch = _rows(mobile, PushNotification.work_order_id == order.id)
    assert sorted((r.kind, r.user_id, r.token, r.state) for r in dispatch) == sorted([
        ("dispatch", ref.eng_a.user_id, "token-a-phone-0001", "pending"),
        ("dispatch", ref.eng_a.user_id, "token-a-tablet-0002", "pending"),
        ("dispatch", ref.manager.user_id, None, "no_device")])  # the area's manager is told too
    assert len({r.notification_key for r in dispatch if r.user_id == ref.eng_a.user_id}) == 1
    first = dispatch[0]
    assert first.ttl_s == 180 and first.ack_deadline == mobile.clock.now() + timedelta(minutes=3)
    assert first.collapse_key == f"work_order:{order.id}" and first.high_priority
    assert first.data["type"] == "dispatch" and first.data["work_order_id"] == str(order.id)

    mobile.console(order.id, c.Dispatch(engineer_id=ref.eng_b.user_id))  # re-dispatch
    mobile.console(order.id, c.Urge(note="customer called again"))
    mobile.console(order.id, c.Cancel(reason="customer fixed it"))
    later = [(r.kind, r.user_id) for r in _rows(mobile, PushNotification.work_order_id == order.id)[3:]
             if r.token is not None]
    assert later == [("dispatch", ref.eng_b.user_id), ("reassigned", ref.eng_a.user_id),
                     ("reassigned", ref.eng_a.user_id), ("urge", ref.eng_b.user_id), ("cancelled", ref.eng_b.user_id)]

    mine = mobile.get("/notifications", who=ref.eng_a).json()
    assert mine["total"] == 4 and {n["kind"] for n in mine["items"]} == {"dispatch", "reassigned"}
    about = mobile.get(f"/work-orders/{order.id}/notifications", who=ref.eng_b).json()
    assert {n["kind"] for n in about["items"]} == {"dispatch", "urge", "cancelled"}  # only B's own
    everyone = mobile.get(f"/work-orders/{order.id}/notifications", who=ref.manager).json()
    assert everyone["total"] == len(_rows(mobile, PushNotification.work_order_id == order.id))


def test_refused_change_queues_no_push(mobile: MobileHarness) -> None:
    _device(mobile, mobile.r.eng_a, "token-a-phone-0001")
    order = mobile.new_order()
    before = mobile.count(PushNotification)
    bad = mobile.client.post(f"/api/console/v1/work-orders/{order.id}/dispatch", json={"engineer_id": 99999},
                             headers=mobile.bearer(mobile.r.agent))
    assert bad.status_code == 422
    assert mobile.count(PushNotification) == before


def test_provider_offer_pushes_every_engineer_of_the_provider(mobile: MobileHarness) -> None:
    ref = mobile.r
    _device(mobile, ref.eng_a, "token-a-phone-0001")
    _device(mobile, ref.eng_b, "token-b-phone-0003")
    _device(mobile, ref.eng_c, "token-c-phone-0004")  # another provider: not offered
    order = mobile.new_order(provider=ref.provider)
    tokens = {r.token for r in _rows(mobile, PushNotification.work_order_id == order.id) if r.token}
    assert tokens == {"token-a-phone-0001", "token-b-phone-0003"}


def test_fcm_receives_the_exact_v1_message(mobile: MobileHarness, fcm: Standin, tmp_path: Path) -> None:
    _device(mobile, mobile.r.eng_a, "token-a-phone-0001")
    order = mobile.new_order(engineer=mobile.r.eng_a)
    mobile.clock.advance(seconds=30)  # sent 30 s after the dispatch: 150 s left to acknowledge
    with delivery(mobile, fcm, tmp_path) as worker:
        report = mobile.client.portal.call(worker.drain)
    assert (report.claimed, report.sent) == (1, 1)
    [sent] = fcm.requests
    assert sent["path"] == f"/v1/projects/{PROJECT}/messages:send"
    assert sent["headers"]["authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert sent["headers"]["x-goog-api-format-version"] == "2"
    [row] = _rows(mobile, PushNotification.token == "token-a-phone-0001")
    expires = int(mobile.clock.now().timestamp()) + 150
    assert sent["json"] == {"message": {
        "token": "token-a-phone-0001",
        "notification": {"title": row.title, "body": row.body},
        "data": {"type": "dispatch", "work_order_id": str(order.id), "number": order.number, "state": "dispatched",
                 "notification_key": row.notification_key},
        "android": {"priority": "high", "ttl": "150s", "collapse_key": f"work_order:{order.id}",
                    "notification": {"tag": f"work_order:{order.id}"}},
        "apns": {"headers": {"apns-priority": "10", "apns-expiration": str(expires),
                             "apns-collapse-id": f"work_order:{order.id}", "apns-push-type": "alert"},
                 "payload": {"aps": {"sound": "default", "thread-id": f"work_order:{order.id}"}}},
    }}
    assert row.title == f"New work order {order.number}"
    assert (row.state, row.message_id, row.attempts) == ("sent", f"projects/{PROJECT}/messages/1", 1)
    assert row.sent_at == mobile.clock.now()


@pytest.mark.parametrize("code", ["UNREGISTERED", "SENDER_ID_MISMATCH", "INVALID_ARGUMENT"])
def test_gone_tokens_are_deactivated(mobile: MobileHarness, fcm: Standin, tmp_path: Path, code: str) -> None:
    device_id = _device(mobile, mobile.r.eng_a, "token-a-phone-0001")
    fcm.script["token-a-phone-0001"] = [fcm_error(code)]
    order = mobile.new_order(engineer=mobile.r.eng_a)
    with delivery(mobile, fcm, tmp_path) as worker:
        report = mobile.client.portal.call(worker.drain)
        assert report.invalid_tokens == 1
        [row] = _rows(mobile, PushNotification.token == "token-a-phone-0001")
        assert (row.state, row.last_error) == ("token_invalid", code)
        [device] = mobile.rows(Device, Device.id == device_id)
        assert not device.active and device.deactivated_reason == code
        mobile.console(order.id, c.Urge())  # the next push skips the dead token
        assert all(r.token is None for r in _rows(mobile, PushNotification.kind == "urge"))
        mobile.client.portal.call(worker.drain)
    assert len(fcm.requests) == 1


@pytest.mark.parametrize(("code", "retry_after", "delay"), [
    ("QUOTA_EXCEEDED", "120", 120),  # Retry-After wins over the 2 s backoff
    ("UNAVAILABLE", None, 2),
    ("INTERNAL", None, 2),
    ("UNAVAILABLE", "30", 30),
])
def test_transient_errors_retry_with_backoff(mobile: MobileHarness, fcm: Standin, tmp_path: Path, code: str,
                                             retry_after: str | None, delay: int) -> None:
    _device(mobile, mobile.r.eng_a, "token-a-phone-0001")
    fcm.script["token-a-phone-0001"] = [fcm_error(code, retry_after)]
    mobile.new_order(engineer=mobile.r.eng_a)
    with delivery(mobile, fcm, tmp_path) as worker:
        first = mobile.client.portal.call(worker.drain)
        assert (first.sent, first.retried) == (0, 1)
        [row] = _rows(mobile, PushNotification.token == "token-a-phone-0001")
        assert (row.state, row.attempts, row.last_error) == ("pending", 1, code)
        assert row.next_attempt_at == mobile.clock.now() + timedelta(seconds=delay)
        mobile.clock.advance(seconds=delay - 1)
        assert mobile.client.portal.call(worker.drain).claimed == 0  # not before its time
        mobile.clock.advance(seconds=1)
        assert mobile.client.portal.call(worker.drain).sent == 1
    [row] = _rows(mobile, PushNotification.token == "token-a-phone-0001")
    assert (row.state, row.attempts) == ("sent", 2)
    assert len(fcm.requests) == 2  # one failed send, one success: the SDK itself did not retry


def test_backoff_doubles_then_gives_up(mobile: MobileHarness, fcm: Standin, tmp_path: Path) -> None:
    _device(mobile, mobile.r.eng_a, "token-a-phone-0001")
    fcm.script["token-a-phone-0001"] = [fcm_error("UNAVAILABLE") for _ in range(4)]
    mobile.new_order(engineer=mobile.r.eng_a)
    delays = []
    with delivery(mobile, fcm, tmp_path) as worker:  # max_attempts=4
        for _ in range(4):
            mobile.client.portal.call(worker.drain)
            [row] = _rows(mobile, PushNotification.token == "token-a-phone-0001")
            if row.state == "pending":
                delays.append((row.next_attempt_at - mobile.clock.now()).total_seconds())
                mobile.clock.advance(seconds=delays[-1])
    assert delays == [2, 4, 8]
    assert (row.state, row.attempts) == ("failed", 4) and len(fcm.requests) == 4


def test_never_two_sends_per_notification_and_token(mobile: MobileHarness, fcm: Standin, tmp_path: Path) -> None:
    _device(mobile, mobile.r.eng_a, "token-a-phone-0001")
    order = mobile.new_order(engineer=mobile.r.eng_a)
    # Accepted at once, so the 11 minutes below breach no deadline (an escalation would push again).
    assert mobile.do(order.id, "acknowledge", {}).status_code == 200
    uows = mobile.client.app.state.uows

    async def claim_then_crash() -> int:  # a sender that claims, then dies before recording anything
        async with uows() as uow:
            messages = await push_service.claim(uow)
            await uow.commit()
        return len(messages)

    assert mobile.client.portal.call(claim_then_crash) == 1
    with delivery(mobile, fcm, tmp_path) as worker:
        assert mobile.client.portal.call(worker.drain).claimed == 0  # claimed rows are not claimable
        mobile.clock.advance(minutes=11)

        async def sweep() -> int:
            async with uows() as uow:
                count = await push_service.abandon_stale(uow)
                await uow.commit()
                return count

        assert mobile.client.portal.call(sweep) == 1
        assert mobile.client.portal.call(worker.drain).claimed == 0
    [row] = _rows(mobile, PushNotification.token == "token-a-phone-0001")
    assert row.state == "unknown" and fcm.requests == []


def test_long_text_is_trimmed_to_the_payload_limit(mobile: MobileHarness) -> None:
    _device(mobile, mobile.r.eng_a, "token-a-phone-0001")
    order = mobile.new_order()
    mobile.console(order.id, c.Edit(changes={"description": "液压泵漏油 " * 600}))
    mobile.console(order.id, c.Dispatch(engineer_id=mobile.r.eng_a.user_id))
    [row] = _rows(mobile, PushNotification.token == "token-a-phone-0001")
    assert payload_size(row.title, row.body, row.data) <= 4096 and row.body.endswith("…")


@pytest.fixture(params=["sqlite"])
def push_app(request: pytest.FixtureRequest, settings: Any, fcm: Standin, tmp_path: Path) -> Iterator[MobileHarness]:
    configured = settings.model_copy(update={
        "fcm_credentials_file": fcm.service_account(tmp_path), "fcm_endpoint": fcm.endpoint,
        "push_poll_interval_s": 0.05})
    with migrated_settings(request, configured) as migrated, open_app(migrated, harness=MobileHarness) as harness:
        yield harness


def test_embedded_loop_delivers(push_app: MobileHarness, fcm: Standin) -> None:
    _device(push_app, push_app.r.eng_a, "token-a-phone-0001")
    push_app.new_order(engineer=push_app.r.eng_a)

    async def sent() -> bool:
        async with push_app.client.app.state.sessions() as session:
            rows = (await session.exec(select(PushNotification).where(
                PushNotification.token == "token-a-phone-0001"))).all()
        return bool(rows) and rows[0].state == "sent"

    assert push_app.client.portal is not None
    push_app.client.portal.call(lambda: wait_until(sent, timeout=10, message="the push was sent"))
    assert len(fcm.sends_to("token-a-phone-0001")) == 1


def test_push_off_without_credentials(mobile: MobileHarness, caplog: pytest.LogCaptureFixture) -> None:
    said = [r for r in caplog.get_records("setup") if r.name == "workers.push" and "push disabled" in r.message]
    assert len(said) == 1 and said[0].levelno == logging.WARNING  # once, at start-up
    _device(mobile, mobile.r.eng_a, "token-a-phone-0001")
    mobile.new_order(engineer=mobile.r.eng_a)
    [row] = _rows(mobile, PushNotification.token == "token-a-phone-0001")
    assert row.state == "pending"  # recorded and visible, not sent
    assert mobile.get("/notifications").json()["items"][0]["state"] == "pending"
