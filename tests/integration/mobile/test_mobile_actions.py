"""The phone's lifecycle over HTTP on SQLite and PostgreSQL: each action, device and server times,
positions and check-in statuses, the detail with deadlines and allowed actions, re-poll with ETags."""

from __future__ import annotations

from datetime import timedelta

from backend.persistence.tables import WorkOrderEvent
from backend.persistence.tables_mobile import IdempotencyRecord, MobileAction
from tests.integration.mobile.harness import API, MobileHarness, key, report
from tests.support.apptest import error_code


def test_full_lifecycle_from_the_phone(mobile: MobileHarness) -> None:
    order = mobile.new_order(engineer=mobile.r.eng_a)
    detail = mobile.get(f"/work-orders/{order.id}").json()
    assert detail["work_order"]["allowed_actions"] == ["acknowledge", "decline"]
    assert detail["site"]["latitude"] == 31.2 and detail["customer"]["name"] == "Acme Construction"
    dispatched = mobile.clock.now()
    deadlines = detail["work_order"]["deadlines"]
    assert deadlines["acknowledge_by"] == (dispatched + timedelta(minutes=3)).isoformat().replace("+00:00", "Z")
    mobile.walk_to_site(order.id)
    arrived = mobile.clock.now()
    response = mobile.do(order.id, "complete", {"report": report(arrived), "position": {"lat": 31.2, "lon": 121.5}})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["outcome"] == "applied" and body["work_order"]["state"] == "completed"
    assert body["check_in"]["status"] == "inside"
    assert response.headers["etag"] == f'"{body["work_order"]["version"]}"'
    assert [e.type for e in mobile.rows(WorkOrderEvent, WorkOrderEvent.work_order_id == order.id)][-1] == \
        "WorkOrderCompleted"


def test_occurred_at_is_kept_and_received_at_recorded(mobile: MobileHarness) -> None:
    order = mobile.new_order(engineer=mobile.r.eng_a)
    earlier = mobile.clock.now() - timedelta(minutes=1)
    response = mobile.do(order.id, "acknowledge", {"occurred_at": earlier.isoformat()})
    assert response.status_code == 200, response.text
    assert response.json()["work_order"]["acknowledged_at"].startswith(earlier.strftime("%Y-%m-%dT%H:%M"))
    [action] = mobile.rows(MobileAction, MobileAction.work_order_id == order.id)
    assert action.occurred_at == earlier and action.received_at == mobile.clock.now()


def test_future_occurred_at_is_refused(mobile: MobileHarness) -> None:
    order = mobile.new_order(engineer=mobile.r.eng_a)
    future = mobile.clock.now() + timedelta(minutes=6)
    response = mobile.do(order.id, "acknowledge", {"occurred_at": future.isoformat()})
    assert response.status_code == 422 and error_code(response) == "occurred-at-in-future"
    within_skew = mobile.clock.now() + timedelta(minutes=4)
    assert mobile.do(order.id, "acknowledge", {"occurred_at": within_skew.isoformat()}).status_code == 200


def test_check_in_is_recorded_and_never_blocks(mobile: MobileHarness) -> None:
    order = mobile.new_order(engineer=mobile.r.eng_a)
    for action, body in [("acknowledge", {}), ("contact", {"appointment_at": mobile.clock.now().isoformat()}),
                         ("depart", {})]:
        assert mobile.do(order.id, action, body).status_code == 200
    far = mobile.do(order.id, "arrive", {"position": {"lat": 31.3, "lon": 121.5, "accuracy_m": 20}})
    assert far.status_code == 200
    check = far.json()["check_in"]
    assert check["status"] == "outside" and 11_000 < check["distance_m"] < 11_300 and check["warning"]
    records = mobile.get(f"/work-orders/{order.id}/check-ins").json()["items"]
    assert [(r["action"], r["checkin_status"]) for r in records] == [
        ("acknowledge", None), ("contact", None), ("depart", None), ("arrive", "outside")]
    assert records[-1]["latitude"] == 31.3 and records[-1]["accuracy_m"] == 20


def test_offline_arrival_is_recorded_as_offline(mobile: MobileHarness) -> None:
    order = mobile.new_order(engineer=mobile.r.eng_a)
    mobile.walk_to_site(order.id)
    other = mobile.new_order(engineer=mobile.r.eng_a)
    for action, body in [("acknowledge", {}), ("contact", {"appointment_at": mobile.clock.now().isoformat()}),
                         ("depart", {})]:
        mobile.do(other.id, action, body)
    an_hour_ago = (mobile.clock.now() - timedelta(hours=1)).isoformat()
    queued = mobile.do(other.id, "arrive", {"occurred_at": an_hour_ago, "position": {"lat": 31.2, "lon": 121.5}})
    assert queued.json()["check_in"]["status"] == "offline"
    no_fix = mobile.new_order(engineer=mobile.r.eng_a)
    for action, body in [("acknowledge", {}), ("contact", {"appointment_at": mobile.clock.now().isoformat()}),
                         ("depart", {})]:
        mobile.do(no_fix.id, action, body)
    assert mobile.do(no_fix.id, "arrive", {}).json()["check_in"]["status"] == "no_fix"
    flagged = mobile.new_order(engineer=mobile.r.eng_a, site=mobile.r.remote_site)  # a site with no coordinates
    for action, body in [("acknowledge", {}), ("contact", {"appointment_at": mobile.clock.now().isoformat()}),
                         ("depart", {})]:
        mobile.do(flagged.id, action, body)
    arrived = mobile.do(flagged.id, "arrive", {"position": {"lat": 30, "lon": 120}, "queued_offline": False})
    assert arrived.json()["check_in"]["status"] == "site_unknown"


def test_list_and_detail_support_cheap_re_polls(mobile: MobileHarness) -> None:
    first = mobile.new_order(engineer=mobile.r.eng_a)
    mobile.new_order(engineer=mobile.r.eng_b)  # someone else's: never listed
    listing = mobile.get("/work-orders")
    assert listing.status_code == 200
    assert [i["id"] for i in listing.json()["items"]] == [first.id] and listing.json()["total"] == 1
    tag = listing.headers["etag"]
    unchanged = mobile.get("/work-orders", headers={"If-None-Match": tag})
    assert unchanged.status_code == 304 and unchanged.content == b""
    mobile.do(first.id, "acknowledge", {})
    changed = mobile.get("/work-orders", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag
    detail = mobile.get(f"/work-orders/{first.id}")
    assert detail.headers["etag"] == f'"{detail.json()["work_order"]["version"]}"'
    assert mobile.get(f"/work-orders/{first.id}", headers={"If-None-Match": detail.headers["etag"]}).status_code == 304
    assert mobile.get("/work-orders", params={"scope": "history"}).json()["items"] == []


def test_history_scope_lists_finished_orders(mobile: MobileHarness) -> None:
    order = mobile.new_order(engineer=mobile.r.eng_a)
    mobile.walk_to_site(order.id)
    mobile.do(order.id, "complete", {"report": report(mobile.clock.now())})
    assert mobile.get("/work-orders").json()["total"] == 0
    history = mobile.get("/work-orders", params={"scope": "history", "state": "completed,closed"}).json()
    assert [i["id"] for i in history["items"]] == [order.id]
    assert history["items"][0]["report"]["repair_method"] == "replaced the seal"


def test_provider_offer_is_visible_to_its_engineers(mobile: MobileHarness) -> None:
    offer = mobile.new_order(provider=mobile.r.provider)
    for who in (mobile.r.eng_a, mobile.r.eng_b):
        assert [i["id"] for i in mobile.get("/work-orders", who=who).json()["items"]] == [offer.id]
    assert mobile.get("/work-orders", who=mobile.r.eng_c).json()["items"] == []
    assert mobile.do(offer.id, "acknowledge", {}, who=mobile.r.eng_b).status_code == 200
    assert mobile.get("/work-orders", who=mobile.r.eng_a).json()["items"] == []


BAD_INPUT = [
    ({"Content-Type": "application/json"}, b"{not json", 400, "malformed-json"),
    ({"Content-Type": "application/json"}, b"[1, 2]", 400, "malformed-json"),
    ({"Content-Type": "application/json"}, b'{"reason": NaN}', 400, "malformed-json"),
    ({"Content-Type": "text/plain"}, b"{}", 415, "unsupported-media-type"),
    ({}, b"{}", 415, "unsupported-media-type"),
    ({"Content-Type": "application/json"}, b'{"reason": ""}', 422, "validation-failed"),
    ({"Content-Type": "application/json"}, b'{"reason": "x", "sneaky": 1}', 422, "validation-failed"),
    ({"Content-Type": "application/json"}, b'{"reason": "x", "occurred_at": "yesterday"}', 422, "validation-failed"),
    # no offset: refused, never guessed
    ({"Content-Type": "application/json"}, b'{"reason": "x", "occurred_at": "2026-03-02T01:00:00"}', 422,
     "validation-failed"),
]


def test_bad_input_is_refused_and_changes_nothing(mobile: MobileHarness) -> None:
    order = mobile.new_order(engineer=mobile.r.eng_a)
    before = mobile.count(WorkOrderEvent), mobile.count(IdempotencyRecord), mobile.count(MobileAction)
    for headers, content, status, code in BAD_INPUT:
        response = mobile.client.post(f"{API}/work-orders/{order.id}/decline", content=content, headers={
            **mobile.bearer(mobile.r.eng_a), "Idempotency-Key": key(), **headers})
        assert (response.status_code, error_code(response)) == (status, code), content
        if status == 422:
            fields = [f["field"] for f in response.json()["error"]["details"]["fields"]]
            assert fields and all(f in ("reason", "sneaky", "occurred_at") for f in fields)
    assert (mobile.count(WorkOrderEvent), mobile.count(IdempotencyRecord), mobile.count(MobileAction)) == before


def test_oversized_body_is_413_before_it_is_read(mobile: MobileHarness) -> None:
    order = mobile.new_order(engineer=mobile.r.eng_a)
    limit = mobile.settings.max_body_bytes
    response = mobile.client.post(f"{API}/work-orders/{order.id}/decline", content=b"x" * (limit + 1), headers={
        **mobile.bearer(mobile.r.eng_a), "Idempotency-Key": key(), "Content-Type": "application/json"})
    assert response.status_code == 413 and error_code(response) == "payload-too-large"


def test_invalid_transition_is_409_with_its_code(mobile: MobileHarness) -> None:
    order = mobile.new_order(engineer=mobile.r.eng_a)
    before = mobile.count(WorkOrderEvent)
    response = mobile.do(order.id, "depart", {})
    assert response.status_code == 409 and error_code(response) == "invalid-transition"
    assert response.json()["error"]["details"] == {"state": "dispatched", "command": "depart"}
    early = mobile.do(order.id, "complete", {"report": report(mobile.clock.now())})
    assert early.status_code == 409 and error_code(early) == "arrival-required"
    assert mobile.count(WorkOrderEvent) == before


def test_complete_without_report_or_signature_is_422(mobile: MobileHarness) -> None:
    order = mobile.new_order(engineer=mobile.r.eng_a)
    mobile.walk_to_site(order.id)
    response = mobile.do(order.id, "complete", {})
    assert response.status_code == 422 and error_code(response) == "report-required"
    assert mobile.get(f"/work-orders/{order.id}").json()["work_order"]["state"] == "on_site"
