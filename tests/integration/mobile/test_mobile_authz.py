"""The authorization matrix over HTTP on SQLite and PostgreSQL: every role x every operation x
own / same region / other region object -> the expected status (OWASP API1 BOLA, API5 BFLA).
Engineers see only their own orders (another's is a 404), managers read their region (and may not
act: 403), console roles and the wallboard have no business here (403), no token is a 401."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from backend.domain.actors import Principal
from tests.integration.mobile.harness import API, MobileHarness, key, report

PNG_1x1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")

# (method, path, body): {o} is the target order, {d} the target device.
READS = [
    ("GET", "/work-orders/{o}", None), ("GET", "/work-orders/{o}/check-ins", None),
    ("GET", "/work-orders/{o}/signature", None), ("GET", "/work-orders/{o}/signature/verify", None),
    ("GET", "/work-orders/{o}/service-report.pdf", None), ("GET", "/work-orders/{o}/photos", None),
    ("GET", "/work-orders/{o}/photos/{p}", None), ("GET", "/work-orders/{o}/notifications", None),
]
WRITES = [
    ("POST", "/work-orders/{o}/arrive", {}),  # already on site: a no-op success for its engineer
    ("POST", "/work-orders/{o}/photos", {"content_type": "image/png",
                                         "data_base64": base64.b64encode(PNG_1x1).decode()}),
]
UNSCOPED = [("GET", "/work-orders", None), ("GET", "/notifications", None), ("GET", "/devices", None)]


def _prepare(mobile: MobileHarness) -> dict[str, Any]:
    ref = mobile.r
    orders, photos, devices = {}, {}, {}
    for name, engineer in (("own", ref.eng_a), ("same_region", ref.eng_b), ("other_region", ref.eng_c)):
        site = mobile.west_site() if name == "other_region" else None
        order = mobile.new_order(engineer=engineer, site=site)
        mobile.walk_to_site(order.id, who=engineer)
        signed = mobile.post(f"/work-orders/{order.id}/signature", {
            "signer_name": "Chen", "signed_at": mobile.clock.now().isoformat(), "report": report(mobile.clock.now()),
            "image_png_base64": base64.b64encode(PNG_1x1).decode()}, who=engineer)
        assert signed.status_code == 201, signed.text
        photo = mobile.post(f"/work-orders/{order.id}/photos", WRITES[1][2], who=engineer)
        assert photo.status_code == 201, photo.text
        orders[name], photos[name] = order.id, photo.json()["id"]
        device = mobile.post("/devices", {"token": f"token-{name}-0123456789", "platform": "android"}, who=engineer)
        assert device.status_code == 201, device.text
        devices[name] = device.json()["id"]
    return {"orders": orders, "photos": photos, "devices": devices}


def _who(mobile: MobileHarness, role: str) -> Principal | None:
    ref = mobile.r
    return {"engineer": ref.eng_a, "manager": ref.manager, "other_manager": ref.other_manager, "agent": ref.agent,
            "supervisor": ref.supervisor, "wallboard": ref.wallboard, "anonymous": None}[role]


def _expected(role: str, kind: str, target: str | None) -> int:
    if role == "anonymous":
        return 401
    if role in ("agent", "supervisor", "wallboard"):
        return 403
    if kind == "unscoped":
        return 200
    if kind == "write" and role != "engineer":
        return 403  # managers read their region; acting is the engineer's
    visible = {"engineer": {"own"}, "manager": {"own", "same_region"}, "other_manager": {"other_region"}}[role]
    if target not in visible:
        return 404
    return 200


def _call(mobile: MobileHarness, who: Principal | None, method: str, path: str, body: Any) -> int:
    headers = {"Idempotency-Key": key()}
    if who is not None:
        headers.update(mobile.bearer(who))
    response = mobile.client.request(method, API + path, json=body, headers=headers)
    return response.status_code


ROLES = ["engineer", "manager", "other_manager", "agent", "supervisor", "wallboard", "anonymous"]


def test_authorization_matrix(mobile: MobileHarness) -> None:
    fixtures = _prepare(mobile)
    failures = []
    for role in ROLES:
        who = _who(mobile, role)
        for target, order_id in fixtures["orders"].items():
            for kind, ops in (("read", READS), ("write", WRITES)):
                for method, template, body in ops:
                    path = template.format(o=order_id, p=fixtures["photos"][target])
                    got, want = _call(mobile, who, method, path, body), _expected(role, kind, target)
                    if kind == "write" and want == 200 and method == "POST" and "photos" in path:
                        want = 201
                    if got != want:
                        failures.append((role, method, template, target, got, want))
        for method, path, body in UNSCOPED:
            got, want = _call(mobile, who, method, path, body), _expected(role, "unscoped", None)
            if got != want:
                failures.append((role, method, path, None, got, want))
    assert failures == []


@pytest.mark.parametrize("method", ["PUT", "DELETE"])
def test_devices_are_their_owners_only(mobile: MobileHarness, method: str) -> None:
    ref = mobile.r
    mine = mobile.post("/devices", {"token": "token-a-0123456789", "platform": "ios"}, who=ref.eng_a).json()["id"]
    theirs = mobile.post("/devices", {"token": "token-b-0123456789", "platform": "ios"}, who=ref.eng_b).json()["id"]
    body = {"app_version": "2.0"} if method == "PUT" else None
    assert _call(mobile, ref.eng_a, method, f"/devices/{theirs}", body) == 404
    assert _call(mobile, ref.eng_a, method, f"/devices/{mine}", body) == 200
    assert _call(mobile, ref.agent, method, f"/devices/{mine}", body) == 403
    assert _call(mobile, None, method, f"/devices/{mine}", body) == 401
    assert _call(mobile, ref.manager, "POST", "/devices", {"token": "token-m-0123456789", "platform": "web"}) == 201


def test_batch_is_for_engineers_and_scopes_each_item(mobile: MobileHarness) -> None:
    ref = mobile.r
    mine, theirs = mobile.new_order(engineer=ref.eng_a), mobile.new_order(engineer=ref.eng_b)
    items = [{"action": "acknowledge", "work_order_id": o.id, "seq": n, "idempotency_key": key()}
             for n, o in enumerate((mine, theirs))]
    for who, status in ((ref.manager, 403), (ref.agent, 403), (None, 401)):
        assert _call(mobile, who, "POST", "/actions/batch", {"items": items}) == status
    answers = mobile.post("/actions/batch", {"items": items}, idem=None).json()["items"]
    assert [a["status"] for a in answers] == [200, 404]
