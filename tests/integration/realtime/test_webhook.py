"""The signed webhook: accepted events reach the ledger and the wallboard; bad or missing
signatures, stale or future timestamps, duplicates and malformed bodies are refused as documented."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from backend.persistence.tables_telephony import CallRecord
from realtime.telephony.webhook import signature
from tests.integration.realtime.conftest import Live
from tests.integration.realtime.support import connect, token_of

URL = "/api/telephony/v1/events"


def post(live: Live, body: bytes | dict[str, Any], *, timestamp: int | None = None, sig: str | None = None,
         headers: dict[str, str] | None = None) -> httpx.Response:
    h = live.harness
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    ts = str(timestamp if timestamp is not None else int(h.clock.now().timestamp()))
    secret = h.settings.webhook_secret.get_secret_value()
    all_headers = {"Content-Type": "application/json", "X-Fieldline-Timestamp": ts,
                   "X-Fieldline-Signature": sig or signature(secret, ts, raw), **(headers or {})}
    return h.client.post(URL, content=raw, headers=all_headers)


def events(live: Live, *items: dict[str, Any]) -> dict[str, Any]:
    at = live.harness.clock.now().isoformat()
    return {"events": [{"at": at, **item} for item in items]}


def test_events_reach_the_ledger_and_the_wallboard(live: Live) -> None:
    h = live.harness
    with connect(h, token_of(h, "super")) as client:
        client.hello()
        client.subscribe("queues")
        response = post(live, events(
            live,
            {"id": "e1", "type": "agent.login", "agent": "SIP/7001", "queues": ["hotline"], "name": "Wu"},
            {"id": "e2", "type": "call.joined", "call_id": "c-1", "queue": "hotline", "caller": "139"},
            {"id": "e3", "type": "call.ringing", "call_id": "c-1", "agent": "SIP/7001"},
            {"id": "e4", "type": "call.answered", "call_id": "c-1", "agent": "SIP/7001"},
        ))
        assert response.status_code == 200, response.text
        assert response.json() == {"accepted": 4, "duplicates": 0, "rejected": []}
        client.wait_state("queues", lambda s: s["queues"]["hotline"]["windows"]["today"]["answered"] == 1)
    [row] = h.rows(CallRecord)
    assert (row.call_id, row.state, row.wait_s) == ("c-1", "talking", 0.0)


def test_duplicates_are_ignored_and_refusals_reported(live: Live) -> None:
    body = events(live, {"id": "e1", "type": "call.joined", "call_id": "c-1", "queue": "hotline"})
    assert post(live, body).json()["accepted"] == 1
    again = post(live, events(live, {"id": "e1", "type": "call.joined", "call_id": "c-1", "queue": "hotline"},
                              {"id": "e2", "type": "call.ended", "call_id": "c-1"}))
    assert again.status_code == 200
    assert again.json() == {"accepted": 0, "duplicates": 1, "rejected": [
        {"id": "e2", "code": "call-transition-refused", "message": "call c-1 is waiting: cannot end"}]}


@pytest.mark.parametrize(("change", "code"), [
    ({"sig": "sha256=" + "0" * 64}, "signature-invalid"),
    ({"sig": "md5=abc"}, "signature-invalid"),
    ({"headers": {"X-Fieldline-Signature": ""}}, "signature-missing"),
    ({"timestamp_offset": -301}, "timestamp-outside-window"),
    ({"timestamp_offset": 301}, "timestamp-outside-window"),
])
def test_signature_and_replay_window(live_sqlite: Live, change: dict[str, Any], code: str) -> None:
    live = live_sqlite
    raw = json.dumps(events(live, {"id": "e1", "type": "call.joined", "call_id": "c-1", "queue": "hotline"})).encode()
    now = int(live.harness.clock.now().timestamp())
    response = post(live, raw, timestamp=now + change.get("timestamp_offset", 0), sig=change.get("sig"),
                    headers=change.get("headers"))
    assert (response.status_code, response.json()["error"]["code"]) == (401, code)
    assert live.harness.rows(CallRecord) == []


def test_edge_of_the_window_is_accepted(live_sqlite: Live) -> None:
    now = int(live_sqlite.harness.clock.now().timestamp())
    body = events(live_sqlite, {"id": "e1", "type": "call.joined", "call_id": "c-1", "queue": "hotline"})
    assert post(live_sqlite, body, timestamp=now - 300).status_code == 200


def test_a_signature_of_another_body_fails(live_sqlite: Live) -> None:
    h = live_sqlite.harness
    ts = str(int(h.clock.now().timestamp()))
    signed = signature(h.settings.webhook_secret.get_secret_value(), ts, b'{"events":[]}')
    body = json.dumps(events(live_sqlite, {"id": "e1", "type": "call.joined", "call_id": "c", "queue": "q"})).encode()
    response = post(live_sqlite, body, timestamp=int(ts), sig=signed)
    assert response.json()["error"]["code"] == "signature-invalid"


@pytest.mark.parametrize(("body", "status", "code"), [
    (b"{not json", 400, "malformed-json"),
    (b"[1, 2]", 400, "malformed-json"),
    (b'{"events": [{"id": "e1", "type": "call.joined", "at": "2026-03-02T01:00:00Z", "call_id": "c"}]}', 422,
     "validation-failed"),  # no queue
    (b'{"events": [{"id": "e1", "type": "call.teleported", "at": "2026-03-02T01:00:00Z"}]}', 422,
     "validation-failed"),
    (b'{"events": [{"id": "e1", "type": "call.left", "at": "2026-03-02T01:00:00", "call_id": "c"}]}', 422,
     "validation-failed"),  # no offset
    (b'{"events": [{"id": "e1", "type": "call.left", "at": "2026-03-02T01:00:00Z", "call_id": "c", "x": 1}]}', 422,
     "validation-failed"),  # unknown field
    (b'{"events": []}', 422, "validation-failed"),
    (b'{"events": [], "n": NaN}', 400, "malformed-json"),
])
def test_malformed_bodies(live_sqlite: Live, body: bytes, status: int, code: str) -> None:
    response = post(live_sqlite, body)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)


def test_wrong_content_type(live_sqlite: Live) -> None:
    response = post(live_sqlite, b"{}", headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
