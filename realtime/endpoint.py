"""The WebSocket endpoint (``/ws``): handshake checks (Origin, version), authentication (``?token=``
or a first ``auth`` frame), then the socket's own task reads client frames and hands them to the
hub, while writes happen as the hub delivers (see ``realtime.connection``). When either side ends the
connection the other is stopped. Thin: the rules live in the hub, the protocol and ``backend``."""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import parse_qs

from starlette.datastructures import Headers
from starlette.types import Receive, Scope, Send

from backend import errors
from realtime import channels, protocol
from realtime.auth import Authenticator, Grant, close_code_for
from realtime.connection import Connection, frame_writer
from realtime.hub import Hub
from realtime.protocol import Close

log = logging.getLogger(__name__)


async def _close(send: Send, code: Close, reason: str = "") -> None:
    await send({"type": "websocket.close", "code": int(code), "reason": reason or protocol.close_reason(code)})


def _query(scope: Scope) -> tuple[str, str | None]:
    """The protocol version asked for and the token, if any, from the URL's query string."""
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return query.get("v", [str(protocol.VERSION)])[-1], query.get("token", [None])[-1]


def _text(message: dict[str, Any]) -> str | None:
    if message.get("text") is not None:
        return message["text"]
    raw = message.get("bytes")
    return raw.decode("utf-8", errors="replace") if raw is not None else None


class HubEndpoint:
    """An ASGI app for ``WebSocketRoute("/ws", HubEndpoint())``; finds the hub on ``app.state``."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope["app"].state
        hub: Hub = state.hub
        authenticator: Authenticator = state.hub_authenticator
        if (await receive())["type"] != "websocket.connect":
            return
        origin = Headers(scope=scope).get("origin")
        if origin is not None and origin not in state.settings.origins:
            # Before accepting: the server answers 403, so no page on a foreign site can use the socket.
            await _close(send, Close.ORIGIN_REJECTED)
            return
        await send({"type": "websocket.accept"})
        version, token = _query(scope)
        if version != str(protocol.VERSION):
            await _close(send, Close.UNSUPPORTED_VERSION)
            return
        grant = await self._authenticate(token, receive, send, authenticator,
                                         getattr(state, "hub_auth_timeout_s", protocol.AUTH_TIMEOUT_S))
        if grant is None:
            return
        if not channels.patterns(grant.principal):
            await _close(send, Close.FORBIDDEN, "role-has-no-channels")
            return
        conn = Connection(send, grant.principal, grant.token, grant.expires_at, write_frame=frame_writer(scope))
        conn.checked_at = asyncio.get_running_loop().time()
        hub.attach(conn)
        p = grant.principal
        conn.control(protocol.hello(epoch=hub.epoch, heartbeat_s=int(state.hub_heartbeat_s),
                                    user={"id": p.user_id, "username": p.username, "role": str(p.role)},
                                    channels=channels.patterns(p)))
        try:
            await self._read_until_ended(conn, receive, hub, authenticator)
        finally:
            hub.detach(conn)
            await conn.close_socket()
            metrics = getattr(state, "hub_metrics", None)
            if metrics is not None:
                metrics.closed.labels(str(int(conn.close_code or 0))).inc()

    async def _authenticate(self, token: str | None, receive: Receive, send: Send, authenticator: Authenticator,
                            wait_s: float) -> Grant | None:
        if token is None:
            try:
                async with asyncio.timeout(wait_s):
                    message = await receive()
            except TimeoutError:
                await _close(send, Close.NO_TOKEN)
                return None
            if message["type"] == "websocket.disconnect":
                return None
            try:
                frame = protocol.decode_client(_text(message) or "")
            except protocol.ProtocolError as exc:
                await _close(send, Close.PROTOCOL_ERROR, str(exc)[:120])
                return None
            if not isinstance(frame, protocol.Auth):
                await _close(send, Close.NO_TOKEN)
                return None
            token = frame.token
        try:
            return await authenticator.check(token)
        except errors.Unauthenticated as exc:
            await _close(send, close_code_for(exc), exc.code)
            return None

    async def _read_until_ended(self, conn: Connection, receive: Receive, hub: Hub,
                                authenticator: Authenticator) -> None:
        """Read client frames in this (the socket's own) task until the connection ends. An end
        decided elsewhere (the hub, the upkeep, a failed write) wakes a reader parked in
        ``receive()`` by cancelling it: one task per socket, not a reader task beside it."""
        task = asyncio.current_task()
        assert task is not None
        parked = False

        def wake() -> None:
            if parked:
                task.cancel()

        conn.on_end = wake
        loop = asyncio.get_running_loop()
        try:
            while not conn.ended:
                parked = True
                try:
                    message = await receive()
                finally:
                    parked = False
                if message["type"] == "websocket.disconnect":
                    conn.kill(None)
                    return
                text = _text(message) or ""
                if len(text) > protocol.MAX_MESSAGE_BYTES:
                    conn.kill(Close.MESSAGE_TOO_BIG)
                    return
                if not conn.allow_message(loop.time()):
                    conn.kill(Close.RATE_LIMITED)
                    return
                try:
                    frame = protocol.decode_client(text)
                except protocol.ProtocolError as exc:
                    conn.kill(Close.PROTOCOL_ERROR, str(exc)[:120])
                    return
                await self._handle(conn, frame, hub, authenticator)
        except asyncio.CancelledError:
            if not conn.ended or task.uncancel() > 0:
                raise  # not our wake-up: the server is stopping this socket
        except Exception:
            log.exception("websocket reader failed")
            conn.kill(Close.INTERNAL_ERROR)
        finally:
            conn.on_end = None

    async def _handle(self, conn: Connection, frame: protocol.ClientFrame, hub: Hub,
                      authenticator: Authenticator) -> None:
        match frame:
            case protocol.Subscribe():
                hub.subscribe(conn, frame)
            case protocol.Unsubscribe():
                hub.unsubscribe(conn, frame)
            case protocol.Ping():
                conn.control(protocol.pong(hub.clock.now(), frame.id))
            case protocol.Auth():
                try:
                    grant = await authenticator.check(frame.token)
                except errors.Unauthenticated as exc:
                    conn.kill(close_code_for(exc), exc.code)
                    return
                if grant.principal.user_id != conn.principal.user_id or grant.principal.role != conn.principal.role:
                    conn.kill(Close.AUTH_FAILED, "token-for-another-user")
                    return
                conn.token, conn.expires_at = frame.token, grant.expires_at
                conn.checked_at = asyncio.get_running_loop().time()
                conn.control(protocol.auth_ok(grant.expires_at, frame.id))
