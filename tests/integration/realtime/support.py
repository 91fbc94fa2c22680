"""Helpers for the live-feed tests: a WebSocket client that mirrors channel states like a browser
(``realtime.protocol.ClientMirror``) and waits with deadlines, and telephony commands in a line."""

from __future__ import annotations

import itertools
import json
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import anyio
from starlette.testclient import WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from backend.domain.telephony import commands as c
from backend.services import telephony
from realtime.protocol import ClientMirror, Position
from tests.support.apptest import AppHarness
from tests.support.waiting import wait_until

_ids = itertools.count(1)


class Closed(Exception):
    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"closed {code} {reason}")
        self.code = code
        self.reason = reason


class Client:
    """One socket under the TestClient; every frame read is fed to ``mirror``."""

    def __init__(self, ws: WebSocketTestSession) -> None:
        self.ws = ws
        self.mirror = ClientMirror()
        self._unread: deque[dict[str, Any]] = deque()  # received (and mirrored), not yet looked at

    def _receive(self, timeout: float) -> dict[str, Any]:
        async def get() -> dict[str, Any]:
            with anyio.fail_after(timeout):
                return await self.ws._send_rx.receive()

        return self.ws.portal.call(get)

    def frames(self, timeout: float = 5.0) -> list[dict[str, Any]]:
        """The frames of the next message (raises ``Closed`` when the server closed)."""
        message = self._receive(timeout)
        if message["type"] == "websocket.close":
            raise Closed(message.get("code", 1000), message.get("reason", ""))
        return self.mirror.feed(message["text"])

    def until(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 5.0,
              what: str = "frame") -> dict[str, Any]:
        end = time.monotonic() + timeout
        while True:
            while self._unread:
                frame = self._unread.popleft()
                if predicate(frame):
                    return frame
            remaining = end - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {what} within {timeout}s")
            self._unread.extend(self.frames(remaining))

    def find(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 5.0,
             what: str = "frame") -> dict[str, Any]:
        """A frame already received, or the next one, that satisfies ``predicate``."""
        for frame in self.mirror.frames:
            if predicate(frame):
                return frame
        return self.until(predicate, timeout, what)

    def closed(self, timeout: float = 5.0) -> Closed:
        try:
            self.until(lambda f: False, timeout, "close")
        except Closed as closed:
            return closed
        raise AssertionError("not closed")

    def send(self, frame: dict[str, Any]) -> None:
        self.ws.send_text(json.dumps(frame))

    def hello(self) -> dict[str, Any]:
        return self.until(lambda f: f["op"] == "hello", what="hello")

    def subscribe(self, channel: str, resume: Position | None = None, **extra: Any) -> dict[str, Any]:
        frame: dict[str, Any] = {"op": "subscribe", "channel": channel, **extra}
        if resume is not None:
            frame["resume"] = {"epoch": resume.epoch, "seq": resume.seq}
        self.send(frame)
        return self.until(lambda f: f.get("channel") == channel and f["op"] in ("snapshot", "resumed", "error"),
                          what=f"reply to subscribe {channel}")

    def state(self, channel: str) -> dict[str, Any]:
        return self.mirror.state(channel)

    def wait_state(self, channel: str, predicate: Callable[[dict[str, Any]], bool], timeout: float = 5.0) -> None:
        """Read until the mirrored state satisfies ``predicate`` (a lookup that fails is "not yet")."""
        def ok() -> bool:
            try:
                return channel in self.mirror.channels and bool(predicate(self.state(channel)))
            except (KeyError, IndexError, TypeError):
                return False

        if ok():
            return
        self.until(lambda f: f.get("channel") == channel and ok(), timeout, f"state of {channel}")


@contextmanager
def connect(harness: AppHarness, token: str | None = None, *, query: str = "",
            headers: dict[str, str] | None = None) -> Iterator[Client]:
    url = "/ws" + (f"?token={token}" if token else "") + (("&" if token else "?") + query if query else "")
    with harness.client.websocket_connect(url, headers=headers or {}) as ws:
        yield Client(ws)


def wait_on_app(harness: AppHarness, predicate: Callable[[], Any], timeout: float = 5.0,
                message: str = "condition") -> Any:
    """Poll ``predicate`` on the app's own loop (it may read the hub) against a deadline."""
    async def run() -> Any:
        return await wait_until(predicate, timeout=timeout, message=message)

    assert harness.client.portal is not None
    return harness.client.portal.call(run)


def token_of(harness: AppHarness, username: str) -> str:
    return harness.tokens_for(username)["access_token"]


def ingest(harness: AppHarness, *commands: c.Command, source: str = "test") -> telephony.IngestResult:
    config = telephony.stats_config(harness.settings)
    return harness.run_uow(lambda uow: telephony.ingest(uow, list(commands), source=source, config=config))


def cmd(kind: type[c.Command], at: datetime, **fields: Any) -> c.Command:
    return kind(event_id=f"t{next(_ids)}", at=at, **fields)  # type: ignore[arg-type]


def later(harness: AppHarness, seconds: float) -> datetime:
    return harness.clock.now() + timedelta(seconds=seconds)


__all__ = ["Client", "Closed", "WebSocketDisconnect", "cmd", "connect", "ingest", "later", "token_of", "wait_on_app"]
