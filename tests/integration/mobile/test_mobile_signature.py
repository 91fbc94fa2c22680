"""The customer's signature on SQLite and PostgreSQL: strokes and/or PNG with signer, time and
position; a SHA-256 over the canonical form that verify recomputes (any stored byte changed fails);
the report frozen after signing; oversize, wrong type and huge images refused; the PDF."""

from __future__ import annotations

import base64
import struct
import zlib
from datetime import timedelta
from typing import Any

from sqlalchemy import update

from backend.persistence.tables import AuditLog, Outbox, WorkOrderEvent
from backend.persistence.tables_mobile import WorkOrderSignature
from tests.integration.mobile.harness import MobileHarness, key, report
from tests.support.apptest import error_code


def png(width: int, height: int, extra: int = 0) -> bytes:
    """A valid PNG (grey, one IDAT), optionally padded with an ancillary chunk to grow it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(min(height, 64)))
    body = chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)) + chunk(b"IDAT", zlib.compress(raw))
    if extra:
        body += chunk(b"tEXt", b"pad\x00" + b"x" * extra)
    return b"\x89PNG\r\n\x1a\n" + body + chunk(b"IEND", b"")


STROKES = [[{"x": 10, "y": 10, "t": 0}, {"x": 40.5, "y": 12, "t": 16}, {"x": 80, "y": 30, "t": 40}],
           [{"x": 20, "y": 40, "t": 300}, {"x": -0.0, "y": 45, "t": 320}]]


def _on_site(mobile: MobileHarness) -> int:
    order = mobile.new_order(engineer=mobile.r.eng_a)
    mobile.walk_to_site(order.id)
    return order.id


def _signature(mobile: MobileHarness, **overrides: Any) -> dict[str, Any]:
    now = mobile.clock.now()
    body = {"signer_name": "陈经理 Chen", "signed_at": (now - timedelta(seconds=20)).isoformat(),
            "report": report(now - timedelta(hours=1)), "strokes": STROKES,
            "image_png_base64": base64.b64encode(png(300, 120)).decode(),
            "position": {"lat": 31.2001, "lon": 121.5002, "accuracy_m": 8}}
    body.update(overrides)
    return body


def test_sign_then_complete_with_the_signed_report(mobile: MobileHarness) -> None:
    order_id = _on_site(mobile)
    signed = mobile.post(f"/work-orders/{order_id}/signature", _signature(mobile))
    assert signed.status_code == 201, signed.text
    body = signed.json()
    assert body["signer_name"] == "陈经理 Chen" and body["checkin_status"] == "inside"
    assert (body["image_width"], body["image_height"]) == (300, 120) and len(body["sha256"]) == 64
    assert mobile.get(f"/work-orders/{order_id}/signature/verify").json() == {
        "valid": True, "stored_sha256": body["sha256"], "computed_sha256": body["sha256"],
        "report_matches_order": True}
    assert [o.type for o in mobile.rows(Outbox, Outbox.type == "ServiceReportSigned")] == ["ServiceReportSigned"]
    assert mobile.count(AuditLog, AuditLog.action == "work_order.signed") == 1
    # After signing the report is frozen: no hold, no other report; completion takes the signed one.
    held = mobile.do(order_id, "hold", {"reason": "other"})
    assert held.status_code == 409 and error_code(held) == "report-signed"
    changed = dict(body["report"], repair_method="something else")
    refused = mobile.do(order_id, "complete", {"report": changed})
    assert refused.status_code == 409 and error_code(refused) == "report-signed"
    done = mobile.do(order_id, "complete", {})
    assert done.status_code == 200, done.text
    assert done.json()["work_order"]["report"] == body["report"]
    again = mobile.post(f"/work-orders/{order_id}/signature", _signature(mobile))
    assert again.status_code == 409 and error_code(again) == "already-signed"
    assert mobile.get(f"/work-orders/{order_id}/signature/verify").json()["valid"] is True


def test_the_same_report_may_be_resent_with_the_completion(mobile: MobileHarness) -> None:
    order_id = _on_site(mobile)
    body = _signature(mobile, image_png_base64=None)
    assert mobile.post(f"/work-orders/{order_id}/signature", body).status_code == 201
    done = mobile.do(order_id, "complete", {"report": body["report"]})
    assert done.status_code == 200 and done.json()["work_order"]["state"] == "completed"


def test_any_stored_byte_changed_fails_verification(mobile: MobileHarness) -> None:
    order_id = _on_site(mobile)
    assert mobile.post(f"/work-orders/{order_id}/signature", _signature(mobile)).status_code == 201
    [row] = mobile.rows(WorkOrderSignature)
    tamperings: list[dict[str, Any]] = [
        {"image": row.image[:-20] + bytes([row.image[-20] ^ 1]) + row.image[-19:]},
        {"strokes_json": row.strokes_json.replace("40.5", "40.6")},
        {"report_json": row.report_json.replace("replaced the seal", "replaced the pump")},
        {"signer_name": "Someone Else"},
        {"signed_at": row.signed_at + timedelta(seconds=1)},
        {"latitude": row.latitude + 0.0001},
    ]
    for change in tamperings:
        _set(mobile, row.id, change)
        verdict = mobile.get(f"/work-orders/{order_id}/signature/verify").json()
        assert verdict["valid"] is False and verdict["computed_sha256"] != verdict["stored_sha256"], change
        _set(mobile, row.id, {k: getattr(row, k) for k in change})
        assert mobile.get(f"/work-orders/{order_id}/signature/verify").json()["valid"] is True


def _set(mobile: MobileHarness, row_id: int, values: dict[str, Any]) -> None:
    async def write(session: Any) -> None:
        await session.exec(update(WorkOrderSignature).where(WorkOrderSignature.id == row_id).values(**values))
        await session.commit()

    mobile.run(write)


def test_bad_signatures_are_refused_and_change_nothing(mobile: MobileHarness) -> None:
    order_id = _on_site(mobile)
    before = mobile.count(WorkOrderSignature), mobile.count(WorkOrderEvent), mobile.count(Outbox)
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 64
    cases = [
        ({"image_png_base64": base64.b64encode(png(4097, 10)).decode()}, 422, "signature-image-dimensions"),
        ({"image_png_base64": base64.b64encode(png(10, 5000)).decode()}, 422, "signature-image-dimensions"),
        ({"image_png_base64": base64.b64encode(png(100, 100, extra=256 * 1024)).decode()}, 413,
         "signature-image-too-large"),
        ({"image_png_base64": base64.b64encode(jpeg).decode()}, 422, "signature-image-not-png"),
        ({"image_png_base64": "not base64!"}, 422, "validation-failed"),
        ({"image_png_base64": None, "strokes": None}, 422, "validation-failed"),
        ({"strokes": [[{"x": 1, "y": 1, "t": 50}, {"x": 2, "y": 2, "t": 10}]]}, 422, "signature-strokes-invalid"),
        ({"signed_at": (mobile.clock.now() + timedelta(hours=1)).isoformat()}, 422, "occurred-at-in-future"),
        ({"report": dict(report(mobile.clock.now()), running_hours=5)}, 422, "running-hours-decreased"),
        ({"signer_name": ""}, 422, "validation-failed"),
    ]
    for change, status, code in cases:
        response = mobile.post(f"/work-orders/{order_id}/signature", _signature(mobile, **change), idem=key())
        assert (response.status_code, error_code(response)) == (status, code), (change.keys(), response.text)
    assert (mobile.count(WorkOrderSignature), mobile.count(WorkOrderEvent), mobile.count(Outbox)) == before


def test_signature_only_on_site(mobile: MobileHarness) -> None:
    order = mobile.new_order(engineer=mobile.r.eng_a)
    early = mobile.post(f"/work-orders/{order.id}/signature", _signature(mobile))
    assert early.status_code == 409 and error_code(early) == "signature-not-allowed"
    other = mobile.new_order(engineer=mobile.r.eng_b)
    assert mobile.post(f"/work-orders/{other.id}/signature", _signature(mobile)).status_code == 404


def test_service_report_pdf(mobile: MobileHarness) -> None:
    order_id = _on_site(mobile)
    mobile.post(f"/work-orders/{order_id}/signature", _signature(mobile, image_png_base64=None))
    mobile.do(order_id, "complete", {})
    response = mobile.get(f"/work-orders/{order_id}/service-report.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-") and b"%%EOF" in response.content[-64:]
    assert "attachment" in response.headers["content-disposition"]
    manager = mobile.get(f"/work-orders/{order_id}/service-report.pdf", who=mobile.r.manager)
    assert manager.status_code == 200 and manager.content.startswith(b"%PDF-")
