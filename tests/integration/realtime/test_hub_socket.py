"""The WebSocket endpoint under the TestClient: every way authentication fails, the Origin
allow-list, protocol limits, channel permissions per role, subscribe, resume inside and outside
the history window, epoch changes, heartbeats, a closed browser being noticed."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

from backend.domain.telephony import commands as c
from backend.observability import RedactQueryFilter
from backend.settings import Settings
from realtime.hub import Hub
from realtime.protocol import ChannelView, Close, Position
from tests.integration.realtime.conftest import Live, start_live
from tests.integration.realtime.support import Closed, cmd, connect, ingest, token_of, wait_on_app


@pytest.fixture
def quick(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Live]:
    """SQLite, with a 1 s heartbeat and token re-check (transport behaviour, not storage)."""
    request.param = "sqlite"
    yield from start_live(request, settings, ws_heartbeat_s=1, ws_auth_recheck_s=1)


def hub_of(live: Live) -> Hub:
    return live.harness.client.app.state.hub


def on_loop(live: Live, fn: Callable[[], Any]) -> Any:
    async def call() -> Any:
        return fn()

    return live.harness.client.portal.call(call)


# --- authentication ------------------------------------------------------------------------------


def test_token_in_the_first_frame(quick: Live) -> None:
    h = quick.harness
    with connect(h) as client:
        client.send({"op": "auth", "token": token_of(h, "super")})
        assert client.hello()["user"]["username"] == "super"


def test_a_token_in_the_url_never_reaches_the_logs(quick: Live, caplog: pytest.LogCaptureFixture) -> None:
    h = quick.harness
    token = token_of(h, "super")
    with caplog.at_level(logging.DEBUG), connect(h, token) as client:
        assert client.hello()["user"]["username"] == "super"
        client.send({"op": "subscribe", "channel": "queues"})
        client.until(lambda f: f["op"] == "snapshot")
    wait_on_app(h, lambda: any(r.name == "fieldline.access" and getattr(r, "path", None) == "/ws"
                               for r in caplog.records), message="the socket's access line")
    assert not [r for r in caplog.records if token in r.getMessage() or token in str(r.__dict__)]


def test_uvicorns_handshake_line_keeps_the_path_only() -> None:
    """uvicorn logs '<client> - "WebSocket /ws?token=…" [accepted]' on its own logger: redacted."""
    record = logging.LogRecord("uvicorn.error", logging.INFO, __file__, 1, '%s - "WebSocket %s" [accepted]',
                               ("127.0.0.1:5000", "/ws?token=eyJ.secret.token"), None)
    assert RedactQueryFilter().filter(record)
    assert record.getMessage() == '127.0.0.1:5000 - "WebSocket /ws" [accepted]'


def test_no_token_in_time(quick: Live) -> None:
    h = quick.harness
    h.client.app.state.hub_auth_timeout_s = 0.2
    with connect(h) as client:
        assert client.closed().code == Close.NO_TOKEN


def test_first_frame_not_auth(quick: Live) -> None:
    with connect(quick.harness) as client:
        client.send({"op": "subscribe", "channel": "queues"})
        assert client.closed().code == Close.NO_TOKEN


@pytest.mark.parametrize(("token", "code", "reason"), [
    ("not-a-jwt", Close.AUTH_FAILED, "invalid-token"),
    ("eyJhbGciOiJIUzI1NiJ9.e30.c2ln", Close.AUTH_FAILED, "invalid-token"),
])
def test_invalid_token(quick: Live, token: str, code: int, reason: str) -> None:
    with connect(quick.harness, token) as client:
        closed = client.closed()
        assert (closed.code, closed.reason) == (code, reason)


def test_expired_token_at_connect(quick: Live) -> None:
    h = quick.harness
    token = token_of(h, "super")
    h.clock.advance(seconds=h.settings.access_token_ttl_s + 1)
    with connect(h, token) as client:
        closed = client.closed()
        assert (closed.code, closed.reason) == (Close.AUTH_EXPIRED, "token-expired")


def test_revoked_token_at_connect(quick: Live) -> None:
    h = quick.harness
    token = token_of(h, "super")
    assert h.client.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"}).status_code == 204
    with connect(h, token) as client:
        closed = client.closed()
        assert (closed.code, closed.reason) == (Close.AUTH_FAILED, "token-revoked")


def test_token_expiring_during_the_session_closes_the_socket(quick: Live) -> None:
    h = quick.harness
    with connect(h, token_of(h, "super")) as client:
        client.hello()
        h.clock.advance(seconds=h.settings.access_token_ttl_s + 1)
        assert client.closed().code == Close.AUTH_EXPIRED


def test_logout_during_the_session_closes_the_socket(quick: Live) -> None:
    h = quick.harness
    token = token_of(h, "super")
    with connect(h, token) as client:
        client.hello()
        h.client.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"})
        closed = client.closed(timeout=10)
        assert (closed.code, closed.reason) == (Close.AUTH_FAILED, "token-revoked")


def test_token_refresh_on_the_live_socket(quick: Live) -> None:
    h = quick.harness
    with connect(h, token_of(h, "super")) as client:
        client.hello()
        h.clock.advance(seconds=600)
        client.send({"op": "auth", "token": h.tokens_for("super")["access_token"], "id": 7})
        ok = client.until(lambda f: f["op"] == "auth_ok")
        assert ok["id"] == 7
        h.clock.advance(seconds=600)  # past the first token's expiry, within the second's
        client.send({"op": "ping"})
        assert client.until(lambda f: f["op"] == "pong")


def test_refresh_with_another_users_token_is_refused(quick: Live) -> None:
    h = quick.harness
    with connect(h, token_of(h, "super")) as client:
        client.hello()
        client.send({"op": "auth", "token": token_of(h, "wall")})
        assert client.closed().code == Close.AUTH_FAILED


@pytest.mark.parametrize("username", ["eng-a", "mgr-east"])
def test_roles_without_channels_are_refused(quick: Live, username: str) -> None:
    h = quick.harness
    with connect(h, token_of(h, username)) as client:
        assert client.closed().code == Close.FORBIDDEN


# --- handshake and protocol limits ---------------------------------------------------------------


def test_foreign_origin_is_refused_at_the_handshake(quick: Live) -> None:
    h = quick.harness
    with pytest.raises(WebSocketDisconnect) as refused, \
            connect(h, token_of(h, "super"), headers={"origin": "https://evil.example"}):
        pass
    assert refused.value.code == Close.ORIGIN_REJECTED


def test_allowed_origin(quick: Live) -> None:
    h = quick.harness
    with connect(h, token_of(h, "super"), headers={"origin": h.settings.origins[0]}) as client:
        assert client.hello()["op"] == "hello"


def test_unsupported_version(quick: Live) -> None:
    h = quick.harness
    with connect(h, token_of(h, "super"), query="v=2") as client:
        assert client.closed().code == Close.UNSUPPORTED_VERSION


@pytest.mark.parametrize("message", ['{"op":"subscribe"}', "not json", '["a"]', '{"op":"dance"}',
                                     '{"op":"subscribe","channel":"queue:%%%"}',
                                     '{"op":"subscribe","channel":"queues","extra":1}'])
def test_malformed_frames_close_with_protocol_error(quick: Live, message: str) -> None:
    h = quick.harness
    with connect(h, token_of(h, "super")) as client:
        client.hello()
        client.ws.send_text(message)
        assert client.closed().code == Close.PROTOCOL_ERROR


def test_message_too_big(quick: Live) -> None:
    h = quick.harness
    with connect(h, token_of(h, "super")) as client:
        client.hello()
        client.ws.send_text('{"op":"ping","id":"' + "x" * 70_000 + '"}')
        assert client.closed().code == Close.MESSAGE_TOO_BIG


def test_rate_limit(quick: Live) -> None:
    h = quick.harness
    with connect(h, token_of(h, "super")) as client:
        client.hello()
        for i in range(60):
            client.ws.send_text(f'{{"op":"ping","id":{i}}}')
        assert client.closed().code == Close.RATE_LIMITED


def test_heartbeat_and_ping(quick: Live) -> None:
    h = quick.harness
    with connect(h, token_of(h, "super")) as client:
        hello = client.hello()
        assert 1 <= hello["heartbeat_s"] <= 30
        client.send({"op": "ping", "id": "p1"})
        assert client.until(lambda f: f["op"] == "pong")["id"] == "p1"
        assert client.until(lambda f: f["op"] == "heartbeat", timeout=5)["ts"]


def test_a_closed_browser_is_noticed(quick: Live) -> None:
    h = quick.harness
    with connect(h, token_of(h, "super")) as client:
        client.hello()
        client.subscribe("queues")
        assert on_loop(quick, lambda: len(hub_of(quick).connections)) == 1
        client.ws.close()
        hub = hub_of(quick)
        wait_on_app(h, lambda: not hub.connections and not hub.channels["queues"].subscribers,
                    message="connection forgotten")


# --- channels and roles --------------------------------------------------------------------------


def _login_agent(live: Live) -> None:
    ingest(live.harness, cmd(c.AgentLogin, live.harness.clock.now(), interface="PJSIP/1001", queues=("hotline",),
                             username=live.ref.agent.username))
    board = hub_of(live).board
    wait_on_app(live.harness, lambda: board.member_queues(live.ref.agent.user_id or 0), message="agent on the hub")


@pytest.mark.parametrize(("username", "channel", "allowed"), [
    ("super", "agent:424242", True),
    ("wall", "queues", True), ("wall", "queue:hotline", True), ("wall", "agents", True), ("wall", "alerts", True),
    ("wall", "work_orders", False), ("wall", "agent:1", False),
    ("agent", "work_orders", True), ("agent", "queue:hotline", True), ("agent", "queue:consultation", False),
    ("agent", "queues", False), ("agent", "agents", False), ("agent", "alerts", False), ("agent", "agent:999", False),
])
def test_channel_permissions(quick: Live, username: str, channel: str, allowed: bool) -> None:
    h = quick.harness
    _login_agent(quick)
    with connect(h, token_of(h, username)) as client:
        client.hello()
        reply = client.subscribe(channel, id="s")
        assert reply["op"] == ("snapshot" if allowed else "error"), reply
        if not allowed:
            assert (reply["code"], reply["id"]) == ("channel-forbidden", "s")
            client.send({"op": "ping"})  # still open
            assert client.until(lambda f: f["op"] == "pong")


def test_an_agent_sees_its_own_channel(quick: Live) -> None:
    h = quick.harness
    _login_agent(quick)
    with connect(h, token_of(h, "agent")) as client:
        client.hello()
        snap = client.subscribe(f"agent:{quick.ref.agent.user_id}")
        [card] = snap["data"]["agents"].values()
        assert (card["interface"], card["state"]) == ("PJSIP/1001", "available")


def test_unknown_queue_and_double_subscribe(quick: Live) -> None:
    h = quick.harness
    with connect(h, token_of(h, "super")) as client:
        client.hello()
        assert client.subscribe("queue:nowhere")["code"] == "channel-unknown"
        client.subscribe("queues")
        client.send({"op": "subscribe", "channel": "queues"})
        assert client.until(lambda f: f["op"] == "error")["code"] == "already-subscribed"
        client.send({"op": "unsubscribe", "channel": "agents"})
        assert client.until(lambda f: f["op"] == "error")["code"] == "not-subscribed"


def test_subscribe_then_deltas_then_unsubscribe(quick: Live) -> None:
    h = quick.harness
    with connect(h, token_of(h, "super")) as client:
        client.hello()
        snap = client.subscribe("queues")
        assert (snap["seq"], snap["data"]["queues"]["hotline"]["waiting"]) == (0, 0)
        ingest(h, cmd(c.JoinQueue, h.clock.now(), call_id="k1", queue="hotline", caller="139"))
        client.wait_state("queues", lambda s: s["queues"]["hotline"]["waiting"] == 1)
        delta = client.find(lambda f: f["op"] == "delta" and f["channel"] == "queues")
        assert delta["seq"] > snap["seq"]
        client.send({"op": "unsubscribe", "channel": "queues", "id": 3})
        assert client.until(lambda f: f["op"] == "unsubscribed")["id"] == 3
        assert "queues" not in client.mirror.channels


# --- resume and epochs ---------------------------------------------------------------------------


def _deltas(live: Live, n: int, start: int = 0) -> None:
    """n deltas on ``queue:hotline`` (a new waiting caller each: a new key, so none is merged)."""
    h = live.harness
    channel = hub_of(live).channel("queue:hotline")
    for i in range(start, start + n):
        ingest(h, cmd(c.JoinQueue, h.clock.now() - timedelta(seconds=n - i), call_id=f"r{i}", queue="hotline"))
        wait_on_app(h, lambda i=i: f"r{i}" in channel.state["waiting"], message=f"caller r{i} on the hub")


def test_resume_inside_the_window_replays_what_was_missed(quick: Live) -> None:
    h = quick.harness
    with connect(h, token_of(h, "super")) as client:
        client.hello()
        client.subscribe("queue:hotline")
        _deltas(quick, 2)
        client.wait_state("queue:hotline", lambda s: len(s["waiting"]) == 2)
        position, state = client.mirror.position("queue:hotline"), client.state("queue:hotline")
    _deltas(quick, 3, start=2)  # while disconnected
    assert hub_of(quick).channels["queue:hotline"].seq >= position.seq + 3
    with connect(h, token_of(h, "super")) as client:
        client.hello()
        client.mirror.channels["queue:hotline"] = ChannelView(position.epoch, position.seq, state)
        reply = client.subscribe("queue:hotline", resume=position)
        assert reply["op"] == "resumed" and reply["replayed"] >= 3
        client.wait_state("queue:hotline", lambda s: len(s["waiting"]) == 5)
        assert client.mirror.position("queue:hotline") == Position(position.epoch, reply["seq"])


def test_resume_outside_the_window_resyncs(quick: Live) -> None:
    h = quick.harness
    with connect(h, token_of(h, "super")) as client:
        client.hello()
        client.subscribe("queue:hotline")
        position = client.mirror.position("queue:hotline")
    channel = hub_of(quick).channels["queue:hotline"]
    on_loop(quick, lambda: setattr(channel, "history", deque(maxlen=3)))
    _deltas(quick, 5)
    with connect(h, token_of(h, "super")) as client:
        client.hello()
        client.send({"op": "subscribe", "channel": "queue:hotline",
                     "resume": {"epoch": position.epoch, "seq": position.seq}})
        resync = client.until(lambda f: f["op"] in ("resync", "resumed"))
        assert (resync["op"], resync["reason"]) == ("resync", "too-old")
        snap = client.until(lambda f: f["op"] == "snapshot")
        assert len(snap["data"]["waiting"]) == 5


def test_resume_from_another_epoch_resyncs(quick: Live) -> None:
    h = quick.harness
    with connect(h, token_of(h, "super")) as client:
        client.hello()
        client.send({"op": "subscribe", "channel": "queues", "resume": {"epoch": "another-process", "seq": 4}})
        resync = client.until(lambda f: f["op"] in ("resync", "resumed"))
        assert (resync["op"], resync["reason"]) == ("resync", "epoch-changed")
        assert client.until(lambda f: f["op"] == "snapshot")["epoch"] == client.mirror.channels["queues"].epoch


def test_resume_from_the_future_resyncs(quick: Live) -> None:
    h = quick.harness
    with connect(h, token_of(h, "super")) as client:
        epoch = client.hello()["epoch"]
        client.send({"op": "subscribe", "channel": "queues", "resume": {"epoch": epoch, "seq": 10_000}})
        assert client.until(lambda f: f["op"] == "resync")["reason"] == "unknown-position"


def test_a_reload_changes_the_epoch_and_resyncs_subscribers(quick: Live) -> None:
    h = quick.harness
    with connect(h, token_of(h, "super")) as client:
        old_epoch = client.hello()["epoch"]
        client.subscribe("agents")
        hub = hub_of(quick)
        on_loop(quick, lambda: hub.install(hub.board, hub.channels["work_orders"].state,
                                           hub.channels["alerts"].state, new_epoch_=True))
        assert client.until(lambda f: f["op"] == "resync")["reason"] == "reload"
        snap = client.until(lambda f: f["op"] == "snapshot")
        assert snap["epoch"] != old_epoch and snap["seq"] == 0


def test_closed_is_reported_on_server_close(quick: Live) -> None:
    """Sanity for the helper: a close frame surfaces as ``Closed``."""
    h = quick.harness
    with connect(h, "bad") as client, pytest.raises(Closed):
        client.until(lambda f: False, timeout=5)

