"""The console API (/api/console/v1) over HTTP on SQLite and PostgreSQL: screen pop, creation of each
kind, list and detail, every console action, If-Match/ETag; then every refusal, each with its exact
status and stable code, and proof that a refused request changed nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import select

from backend.domain.actors import Principal
from backend.domain.work_orders import commands as c
from backend.persistence.tables import AuditLog, Outbox, WorkOrderEvent
from backend.persistence.tables import WorkOrder as Row
from backend.settings import Settings
from tests.conftest import BACKENDS
from tests.support.apptest import AppHarness, error_code, migrated_settings, open_app
from tests.support.factories import Ref

API = "/api/console/v1"
DAY = "20260302"  # apptest.START, in Shanghai


@dataclass
class Console:
    h: AppHarness
    ref: Ref

    def request(self, method: str, path: str, who: Principal | str | None, *, if_match: str | None = None,
                **kw: Any) -> httpx.Response:
        headers = {**(self.h.bearer(who) if who is not None else {}), **kw.pop("headers", {})}
        if if_match is not None:
            headers["If-Match"] = if_match
        return self.h.client.request(method, API + path, headers=headers, **kw)

    def post(self, path: str, body: Any = None, who: Principal | None = None, **kw: Any) -> httpx.Response:
        return self.request("POST", path, who or self.ref.agent, json=body, **kw)

    def get(self, path: str, who: Principal | None = None, **params: Any) -> httpx.Response:
        return self.request("GET", path, who or self.ref.agent, params=params)

    def ok(self, response: httpx.Response, status: int = 200) -> dict[str, Any]:
        assert response.status_code == status, response.text
        return response.json()

    def create(self, kind: str = "repair", **fields: Any) -> dict[str, Any]:
        if kind == "repair":
            fields = {"customer_id": self.ref.customer, "site_id": self.ref.site,
                      "equipment_id": self.ref.equipment, **fields}
        return self.ok(self.post("/work-orders", {"kind": kind, "description": "hydraulic leak", **fields}), 201)

    def do(self, order_id: int, action: str, body: Any = None, **kw: Any) -> dict[str, Any]:
        return self.ok(self.post(f"/work-orders/{order_id}/{action}", body, **kw))

    def detail(self, order_id: int) -> dict[str, Any]:
        return self.ok(self.get(f"/work-orders/{order_id}"))

    def completed(self) -> dict[str, Any]:
        """A repair dispatched here and worked to completion by its engineer through the service."""
        eng, h = self.ref.eng_a, self.h
        order = self.create()
        self.do(order["id"], "dispatch", {"engineer_id": eng.user_id})
        h.act(eng, order["id"], c.Acknowledge())
        h.act(eng, order["id"], c.ContactCustomer(appointment_at=h.clock.now() + timedelta(hours=2)))
        h.act(eng, order["id"], c.Depart())
        arrived = h.clock.advance(hours=1)
        h.act(eng, order["id"], c.Arrive())
        h.clock.advance(hours=1)
        h.act(eng, order["id"], c.Complete(report={
            "arrival_time": arrived, "completion_time": h.clock.now(), "fault_description": "leak",
            "faulty_part": "pump seal", "repair_method": "replaced seal", "running_hours": 1250}))
        return self.detail(order["id"])["work_order"]

    def snapshot(self) -> tuple[list[dict[str, Any]], list[int]]:
        """Every order row and the outbox, audit and event-log sizes: what a refusal must not change."""
        async def read(session: Any) -> tuple[list[dict[str, Any]], list[int]]:
            rows = (await session.exec(select(Row).order_by(Row.id))).all()
            counts = [(await session.exec(sa_select(func.count()).select_from(t))).scalar_one()
                      for t in (Outbox, AuditLog, WorkOrderEvent)]
            return [r.model_dump() for r in rows], counts

        return self.h.run(read)


@pytest.fixture(params=BACKENDS)
def con(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Console]:
    with migrated_settings(request, settings) as migrated, open_app(migrated) as harness:
        yield Console(harness, harness.seed())


# --- happy paths -------------------------------------------------------------------------------

def test_screen_pop_by_caller_number(con: Console) -> None:
    order = con.create()
    pop = con.ok(con.get("/screen-pop", phone="138-0000-0000"))
    assert pop["phone"] == con.ref.customer_phone == "13800000000"
    [found] = pop["customers"]
    assert found["customer"]["id"] == con.ref.customer
    assert [s["id"] for s in found["sites"]] == [con.ref.site, con.ref.remote_site]
    assert {e["id"] for e in found["equipment"]} == {con.ref.equipment, con.ref.old_equipment}
    assert found["open_orders"] == [{"id": order["id"], "number": order["number"], "kind": "repair",
                                     "state": "created"}]
    assert found["last_agent"] == {"id": con.ref.agent.user_id, "name": "Agent"}
    assert con.ok(con.get("/screen-pop", phone="+86 999"))["customers"] == []


def test_create_repair_with_number_etag_location_and_flags(con: Console) -> None:
    response = con.post("/work-orders", {"kind": "repair", "description": "no power", "customer_id": con.ref.customer,
                                         "site_id": con.ref.site, "equipment_id": con.ref.old_equipment})
    first = con.ok(response, 201)
    assert response.headers["etag"] == '"1"' and response.headers["location"] == f"{API}/work-orders/{first['id']}"
    assert (first["number"], first["state"], first["region_id"], first["zone"]) == (
        f"WO{DAY}0001", "created", con.ref.region, "city")
    assert first["flags"] == ["out_of_warranty"]
    second = con.create(equipment_id=con.ref.old_equipment)
    assert second["number"] == f"WO{DAY}0002"
    assert second["flags"] == ["possible_duplicate", "out_of_warranty"]
    audits = con.h.rows(AuditLog, AuditLog.action == "work_order.created")
    assert [a.target_id for a in audits] == [str(first["id"]), str(second["id"])]
    assert con.h.count(Outbox, Outbox.type == "WorkOrderCreated") == 2


def test_late_report_is_scheduled_next_morning_unless_a_supervisor_overrides(con: Console) -> None:
    con.h.clock.advance(hours=7, minutes=30)  # 16:30 local
    late = con.create()
    assert late["flags"] == ["after_cutoff"] and late["scheduled_for"] == "2026-03-03T00:30:00Z"
    override = con.ok(con.post("/work-orders", {"kind": "repair", "description": "urgent", "site_id": con.ref.site,
                                                "customer_id": con.ref.customer, "schedule_now": True},
                               con.ref.supervisor), 201)
    assert override["flags"] == ["after_cutoff", "cutoff_overridden"]
    assert override["scheduled_for"] == "2026-03-02T08:30:00Z"


def test_complaints_get_consecutive_register_numbers(con: Console) -> None:
    first = con.create("complaint", complaint_level="strong", customer_id=con.ref.customer, special_incident=True)
    second = con.create("complaint", complaint_level="general", contact_phone="13900000000")
    assert (first["register_number"], second["register_number"]) == (f"{DAY}-001", f"{DAY}-002")
    assert (first["state"], first["complaint_level"], first["flags"]) == ("received", "strong", ["special_incident"])
    assert con.create("consultation")["register_number"] is None


def test_consultation_desk_item_forward_answer_call_back_close(con: Console) -> None:
    item = con.create("consultation", contact_name="Li", contact_phone="13900000000")
    assert (item["state"], item["customer_id"]) == ("received", None)
    assert con.do(item["id"], "forward", {"department": "parts"})["department"] == "parts"
    assert con.do(item["id"], "answer", {"answer": "the seal costs 120"})["answer"] == "the seal costs 120"
    called = con.do(item["id"], "call-back", {"satisfaction": 4})
    assert called["state"] == "called_back" and called["follow_up"]["satisfaction"] == 4
    assert con.do(item["id"], "close")["state"] == "closed"
    assert [e["type"] for e in con.detail(item["id"])["history"]] == [
        "WorkOrderCreated", "DeskItemForwarded", "DeskItemAnswered", "DeskItemCalledBack", "WorkOrderClosed"]


def test_list_filters_and_paging(con: Console) -> None:
    repairs = [con.create()["id"] for _ in range(3)]
    complaint = con.create("complaint", complaint_level="medium", customer_id=con.ref.customer)["id"]
    con.do(repairs[0], "dispatch", {"engineer_id": con.ref.eng_a.user_id})
    con.do(repairs[1], "dispatch", {"provider_id": con.ref.provider})

    def ids(**params: Any) -> tuple[list[int], int]:
        page = con.ok(con.get("/work-orders", **params))
        return [item["id"] for item in page["items"]], page["total"]

    assert ids() == ([complaint, *reversed(repairs)], 4)  # newest first
    assert ids(kind="repair") == (list(reversed(repairs)), 3)
    assert ids(state="created,received") == ([complaint, repairs[2]], 2)
    assert ids(state=["created", "dispatched"], kind="repair") == (list(reversed(repairs)), 3)
    assert ids(engineer_id=con.ref.eng_a.user_id) == ([repairs[0]], 1)
    assert ids(provider_id=con.ref.provider) == ([repairs[1]], 1)
    assert ids(region_id=con.ref.region) == (list(reversed(repairs)), 3)
    assert ids(customer_id=con.ref.customer) == ([complaint, *reversed(repairs)], 4)
    assert ids(limit=3) == ([complaint, repairs[2], repairs[1]], 4)
    page = con.ok(con.get("/work-orders", limit=3, offset=3))
    assert ([i["id"] for i in page["items"]], page["total"], page["limit"], page["offset"]) == ([repairs[0]], 4, 3, 3)


def test_get_one_with_its_history_and_etag(con: Console) -> None:
    order = con.create()
    con.h.clock.advance(minutes=4)
    con.do(order["id"], "dispatch", {"engineer_id": con.ref.eng_a.user_id})
    response = con.get(f"/work-orders/{order['id']}")
    body = con.ok(response)
    assert response.headers["etag"] == f'"{body["work_order"]["version"]}"' == '"2"'
    assert body["work_order"]["dispatched_at"] == "2026-03-02T01:04:00Z"
    assert [(e["seq"], e["type"], e["actor_id"], e["actor_role"]) for e in body["history"]] == [
        (1, "WorkOrderCreated", con.ref.agent.user_id, "agent"),
        (2, "WorkOrderDispatched", con.ref.agent.user_id, "agent")]
    assert body["history"][1]["payload"]["engineer_id"] == con.ref.eng_a.user_id


def test_suggestions_rank_region_then_skill_then_load(con: Console) -> None:
    order = con.create()  # an SY215C excavator in the east region
    ranked = con.ok(con.get(f"/work-orders/{order['id']}/suggestions"))["items"]
    assert [(s["engineer_id"], s["score"]) for s in ranked] == [
        (con.ref.eng_a.user_id, 130), (con.ref.eng_b.user_id, 100), (con.ref.eng_c.user_id, 30)]
    assert ranked[0]["reasons"] == ["same region", "skill: excavator", "0 open orders"]


def test_dispatch_redispatch_and_provider_offer(con: Console) -> None:
    oid = con.create()["id"]
    first = con.do(oid, "dispatch", {"engineer_id": con.ref.eng_a.user_id})
    assert (first["state"], first["engineer_id"], first["provider_id"]) == ("dispatched", con.ref.eng_a.user_id, None)
    again = con.do(oid, "dispatch", {"engineer_id": con.ref.eng_b.user_id})
    assert again["engineer_id"] == con.ref.eng_b.user_id and again["version"] == 3
    offer = con.do(oid, "dispatch", {"provider_id": con.ref.provider})
    assert (offer["engineer_id"], offer["provider_id"]) == (None, con.ref.provider)
    con.h.act(con.ref.eng_b, oid, c.Acknowledge())
    detail = con.detail(oid)
    assert (detail["work_order"]["state"], detail["work_order"]["engineer_id"]) == ("acknowledged",
                                                                                    con.ref.eng_b.user_id)
    payloads = [e["payload"] for e in detail["history"] if e["type"] == "WorkOrderDispatched"]
    assert [(p["redispatch"], p["previous_engineer_id"]) for p in payloads] == [
        (False, None), (True, con.ref.eng_a.user_id), (True, con.ref.eng_b.user_id)]


def test_urge_by_center_and_by_customer_and_cancel(con: Console) -> None:
    oid = con.create()["id"]
    con.do(oid, "urge", {"note": "4 h without news"})
    urged_at = con.h.clock.advance(minutes=30)
    urged = con.do(oid, "urge", {"by": "customer"})
    assert (urged["urge_count"], urged["last_urged_at"]) == (2, urged_at.isoformat().replace("+00:00", "Z"))
    cancelled = con.do(oid, "cancel", {"reason": "customer fixed it"})
    assert (cancelled["state"], cancelled["cancel_reason"]) == ("cancelled", "customer fixed it")
    history = con.detail(oid)["history"]
    assert [(e["payload"].get("by"), e["payload"].get("note")) for e in history[1:3]] == [
        ("center", "4 h without news"), ("customer", "")]


def test_audit_approve_follow_up_resolved_and_close(con: Console) -> None:
    order = con.completed()
    assert order["state"] == "completed" and order["report"]["running_hours"] == 1250
    assert con.do(order["id"], "approve", {"note": "signed report"})["audit_result"] == "approved"
    refused = con.post(f"/work-orders/{order['id']}/close")
    assert (refused.status_code, error_code(refused)) == (409, "follow-up-required")
    followed = con.do(order["id"], "follow-up", {"reachable": True, "satisfaction": 5, "resolved": True})
    assert followed["state"] == "followed_up" and followed["follow_up"]["resolved"] is True
    assert con.do(order["id"], "close")["state"] == "closed"
    assert con.h.count(Row) == 1  # resolved: no second dispatch


def test_void_a_duplicate_completion_then_close(con: Console) -> None:
    order = con.completed()
    voided = con.do(order["id"], "void", {"reason": "duplicate", "note": "same as yesterday"})
    assert (voided["state"], voided["audit_result"], voided["void_reason"]) == ("voided", "voided", "duplicate")
    assert con.do(order["id"], "close")["state"] == "closed"


def test_unresolved_follow_up_opens_a_linked_second_dispatch(con: Console) -> None:
    parent = con.completed()
    con.do(parent["id"], "approve", {})
    after = con.do(parent["id"], "follow-up", {"reachable": True, "satisfaction": 2, "resolved": False,
                                               "note": "still leaking"})
    assert after["state"] == "followed_up"
    [child] = con.ok(con.get("/work-orders", state="created"))["items"]
    assert (child["parent_id"], child["flags"], child["channel"]) == (parent["id"], ["second_dispatch"], "internal")
    assert (child["equipment_id"], child["site_id"]) == (parent["equipment_id"], parent["site_id"])
    assert child["description"] == f"Second dispatch of {parent['number']}: still leaking"
    history = con.detail(parent["id"])["history"]
    assert history[-1]["type"] == "SecondDispatchOpened" and history[-1]["payload"]["child_id"] == child["id"]
    assert con.do(child["id"], "dispatch", {"engineer_id": con.ref.eng_b.user_id})["state"] == "dispatched"


def test_edit_records_the_changes(con: Console) -> None:
    oid = con.create()["id"]
    edited = con.do(oid, "edit", {"description": "leak at the boom cylinder", "contact_phone": "13911112222",
                                  "appointment_at": "2026-03-03T10:00:00+08:00"})
    assert (edited["description"], edited["contact_phone"], edited["appointment_at"]) == (
        "leak at the boom cylinder", "13911112222", "2026-03-03T02:00:00Z")
    assert con.detail(oid)["history"][-1]["payload"]["changes"] == {
        "description": "leak at the boom cylinder", "contact_phone": "13911112222",
        "appointment_at": "2026-03-03T10:00:00+08:00"}
    assert con.do(oid, "edit", {"appointment_at": None})["appointment_at"] is None


def test_if_match_with_a_stale_version_is_412(con: Console) -> None:
    oid = con.create()["id"]
    response = con.post(f"/work-orders/{oid}/urge", {}, if_match='"1"')
    assert response.headers["etag"] == f'"{con.ok(response)["version"]}"' == '"2"'
    before = con.snapshot()
    stale = con.post(f"/work-orders/{oid}/dispatch", {"engineer_id": con.ref.eng_a.user_id}, if_match='"1"')
    assert (stale.status_code, error_code(stale)) == (412, "version-mismatch")
    assert stale.json()["error"]["details"] == {"current_version": 2}
    assert con.snapshot() == before
    assert con.post(f"/work-orders/{oid}/urge", {}, if_match="*").status_code == 200
    assert con.post(f"/work-orders/{oid}/urge", {}, if_match='W/"3"').headers["etag"] == '"4"'
    bad = con.post(f"/work-orders/{oid}/urge", {}, if_match="latest")
    assert (bad.status_code, error_code(bad)) == (412, "if-match-invalid")


# --- refusals: exact status and code, and nothing changed ---------------------------------------

JSON = "application/json"
BODIES = [  # (action, raw body, content type, status, code, field named in details)
    ("urge", '{"by": ', JSON, 400, "malformed-json", None),
    ("urge", '[{"by": "center"}]', JSON, 400, "malformed-json", None),
    ("urge", "", JSON, 400, "malformed-json", None),
    ("urge", b'{"note": "\xff"}', JSON, 400, "malformed-json", None),
    ("follow-up", '{"reachable": true, "satisfaction": NaN, "resolved": true}', JSON, 400, "malformed-json", None),
    ("follow-up", '{"reachable": true, "satisfaction": Infinity}', JSON, 400, "malformed-json", None),
    ("urge", '{"by": "center"}', "text/plain", 415, "unsupported-media-type", None),
    ("urge", "by=center", "application/x-www-form-urlencoded", 415, "unsupported-media-type", None),
    ("urge", '{"by": "center", "colour": "red"}', JSON, 422, "validation-failed", "colour"),
    ("urge", '{"by": 5}', JSON, 422, "validation-failed", "by"),
    ("urge", '{"note": ["x"]}', JSON, 422, "validation-failed", "note"),
    ("dispatch", '{"engineer_id": "1"}', JSON, 422, "validation-failed", "engineer_id"),
    ("dispatch", '{"engineer_id": true}', JSON, 422, "validation-failed", "engineer_id"),
    ("follow-up", '{"reachable": "maybe"}', JSON, 422, "validation-failed", "reachable"),
    ("follow-up", '{"reachable": true, "satisfaction": 6, "resolved": true}', JSON, 422, "validation-failed",
     "satisfaction"),
    ("edit", '{"contact_name": null}', JSON, 422, "validation-failed", "contact_name"),
    ("edit", '{"appointment_at": "2026-03-03T10:00:00"}', JSON, 422, "validation-failed", "appointment_at"),
    ("", '{"kind": "repair", "description": "x", "site_id": "one"}', JSON, 422, "validation-failed", "site_id"),
    ("", '{"kind": "teleport", "description": "x"}', JSON, 422, "validation-failed", "kind"),
    ("", '{"kind": "repair", "description": "", "customer_id": 1}', JSON, 422, "validation-failed", "description"),
]


@pytest.mark.parametrize(("action", "raw", "ctype", "status", "code", "field"), BODIES)
def test_bad_bodies_are_refused_and_change_nothing(con: Console, action: str, raw: str | bytes, ctype: str,
                                                   status: int, code: str, field: str | None) -> None:
    path = f"/work-orders/{con.create()['id']}/{action}" if action else "/work-orders"
    con.h.bearer(con.ref.agent)
    before = con.snapshot()
    response = con.request("POST", path, con.ref.agent, content=raw, headers={"Content-Type": ctype})
    assert (response.status_code, error_code(response)) == (status, code), response.text
    if field is not None:
        assert field in [f["field"] for f in response.json()["error"]["details"]["fields"]]
    assert con.snapshot() == before


@pytest.mark.parametrize("chunked", [False, True], ids=["declared", "streamed"])
def test_a_body_over_the_limit_is_413(con: Console, chunked: bool) -> None:
    oid = con.create()["id"]
    con.h.bearer(con.ref.agent)
    before = con.snapshot()
    body = ('{"note": "' + "x" * con.h.settings.max_body_bytes + '"}').encode()
    content: Any = iter([body[i:i + 65536] for i in range(0, len(body), 65536)]) if chunked else body
    response = con.request("POST", f"/work-orders/{oid}/urge", con.ref.agent, content=content,
                           headers={"Content-Type": JSON})
    assert (response.status_code, error_code(response)) == (413, "payload-too-large")
    assert con.snapshot() == before


def _refusals() -> list[tuple[str, str, str, Callable[[Ref], Any], int, str]]:
    """(who, method, path with {id}, body from the seed, status, code): each on a created repair."""
    wo, act = "/work-orders", "/work-orders/{id}"

    def nothing(r: Ref) -> None:
        return None

    def desk_item(r: Ref) -> dict[str, Any]:
        return {"kind": "consultation", "description": "x"}

    return [
        ("nobody", "GET", wo, nothing, 401, "unauthenticated"),
        ("nobody", "POST", act + "/urge", lambda r: {}, 401, "unauthenticated"),
        ("forged", "GET", act, nothing, 401, "invalid-token"),
        *[(who, method, path, body, 403, "role-not-allowed")
          for who in ("eng_a", "wallboard")
          for method, path, body in [
              ("GET", wo, nothing), ("GET", act, nothing), ("GET", "/screen-pop?phone=1", nothing),
              ("POST", wo, desk_item), ("POST", act + "/urge", lambda r: {})]],
        *[("manager", "POST", path, body, 403, "role-not-allowed") for path, body in [
            (wo, desk_item), (act + "/dispatch", lambda r: {"engineer_id": r.eng_a.user_id}),
            (act + "/cancel", lambda r: {"reason": "x"})]],
        ("manager", "GET", act + "/suggestions", nothing, 403, "role-not-allowed"),
        ("other_manager", "GET", act, nothing, 404, "work-order-not-found"),
        ("agent", "GET", "/work-orders/999999", nothing, 404, "work-order-not-found"),
        ("agent", "POST", "/work-orders/999999/urge", lambda r: {}, 404, "work-order-not-found"),
        ("agent", "POST", act + "/approve", lambda r: {}, 409, "invalid-transition"),
        ("agent", "POST", act + "/forward", lambda r: {"department": "parts"}, 409, "not-a-desk-item"),
        ("agent", "POST", act + "/dispatch", lambda r: {}, 422, "dispatch-target-required"),
        ("agent", "POST", act + "/dispatch", lambda r: {"engineer_id": r.eng_a.user_id, "provider_id": r.provider},
         422, "dispatch-target-required"),
        ("agent", "POST", act + "/dispatch", lambda r: {"engineer_id": 999999}, 422, "engineer-unknown"),
        ("agent", "POST", act + "/dispatch", lambda r: {"engineer_id": r.agent.user_id}, 422, "engineer-unknown"),
        ("agent", "POST", act + "/dispatch", lambda r: {"provider_id": 999999}, 422, "provider-unknown"),
        ("agent", "POST", wo, lambda r: {"kind": "repair", "description": "x", "customer_id": r.customer,
                                         "site_id": r.site, "schedule_now": True}, 403, "override-not-allowed"),
        ("agent", "POST", wo, lambda r: {"kind": "complaint", "description": "x"}, 422, "complaint-level-invalid"),
        ("agent", "POST", wo, lambda r: {"kind": "repair", "description": "x"}, 422, "site-required"),
    ]


@pytest.mark.parametrize(("who", "method", "path", "body", "status", "code"), _refusals())
def test_refusals_have_exact_codes_and_change_nothing(con: Console, who: str, method: str, path: str,
                                                      body: Callable[[Ref], Any], status: int, code: str) -> None:
    oid = con.create()["id"]
    headers = {"Authorization": "Bearer not-a-token"} if who == "forged" else {}
    actor = None if who in ("nobody", "forged") else getattr(con.ref, who)
    if actor is not None:
        con.h.bearer(actor)  # log in first: a login writes rows of its own
    before = con.snapshot()
    payload = body(con.ref)
    response = con.request(method, path.format(id=oid), actor, headers=headers,
                           **({"json": payload} if payload is not None else {}))
    assert (response.status_code, error_code(response)) == (status, code), response.text
    assert con.snapshot() == before


def test_service_manager_reads_only_their_region(con: Console) -> None:
    east = con.create()["id"]
    desk = con.create("consultation")["id"]  # no region: only the console sees it
    mine = con.ok(con.get("/work-orders", con.ref.manager))
    assert ([i["id"] for i in mine["items"]], mine["total"]) == ([east], 1)
    assert con.ok(con.get(f"/work-orders/{east}", con.ref.manager))["work_order"]["id"] == east
    asked = con.ok(con.request("GET", "/work-orders", con.ref.other_manager, params={"region_id": con.ref.region}))
    assert (asked["items"], asked["total"]) == ([], 0)  # the region filter is forced to their own
    for oid in (east, desk):
        hidden = con.get(f"/work-orders/{oid}", con.ref.other_manager)
        assert (hidden.status_code, error_code(hidden)) == (404, "work-order-not-found")
    assert con.get(f"/work-orders/{desk}", con.ref.manager).status_code == 404
