"""The service-report PDF from the console (GET /api/console/v1/work-orders/{id}/report.pdf) on
SQLite and PostgreSQL: the same document the engineer downloads, for the console roles and the
region's service manager; 401/403 for others, 404 for an order unknown or not visible."""

from __future__ import annotations

import httpx

from backend.domain.actors import Principal
from tests.integration.mobile.harness import MobileHarness
from tests.integration.mobile.test_mobile_signature import _on_site, _signature
from tests.support.apptest import error_code

CONSOLE = "/api/console/v1"


def _pdf(mobile: MobileHarness, order_id: int, who: Principal | None) -> httpx.Response:
    headers = mobile.bearer(who) if who is not None else {}
    return mobile.client.get(f"{CONSOLE}/work-orders/{order_id}/report.pdf", headers=headers)


def _is_pdf(response: httpx.Response) -> bool:
    return (response.status_code == 200 and response.headers["content-type"] == "application/pdf"
            and response.content.startswith(b"%PDF-") and b"%%EOF" in response.content[-64:])


def test_console_downloads_the_signed_report(mobile: MobileHarness) -> None:
    ref = mobile.r
    order_id = _on_site(mobile)
    assert mobile.post(f"/work-orders/{order_id}/signature", _signature(mobile)).status_code == 201
    assert mobile.do(order_id, "complete", {}).status_code == 200
    number = mobile.get(f"/work-orders/{order_id}").json()["work_order"]["number"]
    for who in (ref.agent, ref.supervisor, ref.manager):
        response = _pdf(mobile, order_id, who)
        assert _is_pdf(response), (who.username, response.status_code, response.text[:200])
        assert response.headers["content-disposition"] == f'attachment; filename="service-report-{number}.pdf"'
        assert response.headers["cache-control"] == "no-store"
    phone = mobile.get(f"/work-orders/{order_id}/service-report.pdf")
    assert _is_pdf(phone)  # the engineer's copy comes from the same service


def test_unsigned_order_gives_the_draft_as_on_the_phone(mobile: MobileHarness) -> None:
    order_id = _on_site(mobile)  # not signed yet: the report says "not signed", like the mobile route's
    assert _is_pdf(_pdf(mobile, order_id, mobile.r.agent))
    assert _is_pdf(mobile.get(f"/work-orders/{order_id}/service-report.pdf"))


def test_refusals(mobile: MobileHarness) -> None:
    ref = mobile.r
    order_id = _on_site(mobile)
    unknown = _pdf(mobile, 999999, ref.agent)
    assert unknown.status_code == 404 and error_code(unknown) == "work-order-not-found"
    hidden = _pdf(mobile, order_id, ref.other_manager)  # another region's manager: not revealed
    assert hidden.status_code == 404 and error_code(hidden) == "work-order-not-found"
    for who in (ref.eng_a, ref.wallboard):  # engineers use the mobile route; a kiosk reads no reports
        refused = _pdf(mobile, order_id, who)
        assert refused.status_code == 403, (who.username, refused.text)
        assert refused.headers["content-type"].startswith("application/json")
    assert _pdf(mobile, order_id, None).status_code == 401
