"""A revoked session on the mutating mobile routes, on SQLite and PostgreSQL. Their access token is
checked without the database and the session's liveness in the statement that takes the
Idempotency-Key's lock (``mobile_api.idempotent.mutating``): a logged-out or deactivated engineer's
request is a 401 ``token-revoked`` whatever else is wrong with it (bad key, bad body, a role not
allowed), a stored response is not replayed to it, and nothing changes."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from sqlalchemy import update

from backend.domain.actors import Principal
from backend.persistence.tables import User, WorkOrder
from backend.persistence.tables_mobile import IdempotencyRecord
from tests.integration.mobile.harness import API, MobileHarness, key, report

PNG_1x1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==")


def _writes(mobile: MobileHarness, order: int, device: int) -> list[tuple[str, str, Any]]:
    now = mobile.clock.now().isoformat()
    return [
        ("POST", f"/work-orders/{order}/hold", {"reason": "waiting_for_parts"}),
        ("POST", "/actions/batch", {"items": [{"idempotency_key": key(), "seq": 1, "work_order_id": order,
                                       "action": "hold", "reason": "waiting_for_parts"}]}),
        ("POST", f"/work-orders/{order}/signature", {"signer_name": "Chen", "signed_at": now,
                                                     "report": report(mobile.clock.now()),
                                                     "image_png_base64": base64.b64encode(PNG_1x1).decode()}),
        ("POST", f"/work-orders/{order}/photos", {"content_type": "image/png",
                                                  "data_base64": base64.b64encode(PNG_1x1).decode()}),
        ("POST", "/devices", {"token": "token-after-logout-0123456789", "platform": "android"}),
        ("PUT", f"/devices/{device}", {"token": "token-refreshed-0123456789"}),
        ("DELETE", f"/devices/{device}", None),
    ]


def _on_site(mobile: MobileHarness) -> tuple[int, int]:
    order = mobile.new_order(engineer=mobile.r.eng_a)
    mobile.walk_to_site(order.id)
    device = mobile.post("/devices", {"token": "token-before-logout-0123456789", "platform": "android"})
    assert device.status_code == 201, device.text
    return order.id, device.json()["id"]


def _state(mobile: MobileHarness, order: int) -> tuple[Any, ...]:
    row = mobile.rows(WorkOrder, WorkOrder.id == order)[0]
    return row.state, row.version, mobile.count(IdempotencyRecord)


def _call(mobile: MobileHarness, headers: dict[str, str], method: str, path: str, body: Any,
          idem: str | None = "new") -> Any:
    hdrs = dict(headers)
    if idem is not None:
        hdrs["Idempotency-Key"] = key() if idem == "new" else idem
    return mobile.client.request(method, API + path, json=body, headers=hdrs)


def _error_code(response: Any) -> str:
    return response.json()["error"]["code"]


def _log_out(mobile: MobileHarness, who: Principal) -> dict[str, str]:
    bearer = mobile.bearer(who)
    assert mobile.client.post("/api/auth/logout", headers=bearer).status_code == 204
    return bearer


def test_every_mutating_route_refuses_a_revoked_session(mobile: MobileHarness) -> None:
    order, device = _on_site(mobile)
    bearer = _log_out(mobile, mobile.r.eng_a)
    before = _state(mobile, order)
    for method, path, body in _writes(mobile, order, device):
        refused = _call(mobile, bearer, method, path, body)
        assert refused.status_code == 401 and _error_code(refused) == "token-revoked", (path, refused.text)
    assert _state(mobile, order) == before


@pytest.mark.parametrize("wrong", ["no key", "malformed json", "invalid field"])
def test_a_revoked_session_comes_before_what_else_is_wrong(mobile: MobileHarness, wrong: str) -> None:
    order, _ = _on_site(mobile)
    bearer = _log_out(mobile, mobile.r.eng_a)
    before = _state(mobile, order)
    path = f"{API}/work-orders/{order}/hold"
    if wrong == "malformed json":
        refused = mobile.client.post(path, content=b'{"reason": ', headers={
            **bearer, "Idempotency-Key": key(), "Content-Type": "application/json"})
    else:
        refused = _call(mobile, bearer, "POST", path.removeprefix(API), {"reason": 42} if wrong == "invalid field"
                        else {"reason": "waiting_for_parts"}, idem=None if wrong == "no key" else "new")
    assert refused.status_code == 401 and _error_code(refused) == "token-revoked", refused.text
    assert _state(mobile, order) == before


def test_a_revoked_manager_gets_401_not_403(mobile: MobileHarness) -> None:
    order, _ = _on_site(mobile)
    bearer = mobile.bearer(mobile.r.manager)
    allowed = _call(mobile, bearer, "POST", f"/work-orders/{order}/hold", {"reason": "waiting_for_parts"})
    assert allowed.status_code == 403 and _error_code(allowed) == "role-not-allowed"
    _log_out(mobile, mobile.r.manager)
    refused = _call(mobile, bearer, "POST", f"/work-orders/{order}/hold", {"reason": "waiting_for_parts"})
    assert refused.status_code == 401 and _error_code(refused) == "token-revoked"


def test_a_stored_response_is_not_replayed_to_a_revoked_session(mobile: MobileHarness) -> None:
    order, _ = _on_site(mobile)
    k = key()
    bearer = mobile.bearer(mobile.r.eng_a)
    first = _call(mobile, bearer, "POST", f"/work-orders/{order}/hold", {"reason": "waiting_for_parts"}, idem=k)
    assert first.status_code == 200, first.text
    again = _call(mobile, bearer, "POST", f"/work-orders/{order}/hold", {"reason": "waiting_for_parts"}, idem=k)
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    _log_out(mobile, mobile.r.eng_a)
    refused = _call(mobile, bearer, "POST", f"/work-orders/{order}/hold", {"reason": "waiting_for_parts"}, idem=k)
    assert refused.status_code == 401 and _error_code(refused) == "token-revoked"
    assert "idempotent-replayed" not in refused.headers


def test_a_deactivated_engineer_is_refused(mobile: MobileHarness) -> None:
    order, _ = _on_site(mobile)
    bearer = mobile.bearer(mobile.r.eng_a)
    before = _state(mobile, order)

    async def deactivate(session: Any) -> None:
        await session.exec(update(User).where(User.id == mobile.r.eng_a.user_id).values(active=False))
        await session.commit()

    mobile.run(deactivate)
    refused = _call(mobile, bearer, "POST", f"/work-orders/{order}/hold", {"reason": "waiting_for_parts"})
    assert refused.status_code == 401 and _error_code(refused) == "token-revoked"
    assert _state(mobile, order) == before
