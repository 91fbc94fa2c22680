"""One WebSocket connection as the hub sees it: its principal and token, its subscriptions, and
its outbound path. A frame is written at once while the socket keeps up (straight to the transport when
the server offers it: the bytes of a broadcast frame are serialized once for every socket); when a write has to wait
(the peer reads slowly), a writer task finishes it and drains the mailbox, and later frames queue
there, bounded and conflated. The hub never awaits a socket, so one frozen client delays no one."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Generator
from datetime import datetime
from typing import Any

from backend.domain.actors import Principal
from realtime import protocol
from realtime.mailbox import Frame, Mailbox
from realtime.protocol import Close

log = logging.getLogger(__name__)
Send = Callable[[dict[str, Any]], Awaitable[None]]
WriteFrame = Callable[[bytes], bool]
FRAMES_EXTENSION = "fieldline.frames"  # offered by the server (fieldline.server): write a serialized frame
RATE_PER_S = 20.0
BURST = 40.0
CLOSE_TIMEOUT_S = 2.0


class _Resume:
    """Awaits the rest of a coroutine that was already stepped once and is waiting on ``first``.
    Python 3.11 has no eager tasks: the hub steps each send itself (it nearly always completes
    without waiting, which saves a task and a loop round per delivery) and hands only the rare
    waiting send to a task through this."""

    __slots__ = ("coro", "first")

    def __init__(self, coro: Coroutine[Any, Any, Any], first: Any) -> None:
        self.coro = coro
        self.first = first

    def __await__(self) -> Generator[Any, Any, None]:
        value = self.first
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                self.coro.close()
                raise
            except BaseException as exc:  # cancellation and friends go to the send itself
                try:
                    value = self.coro.throw(exc)
                except StopIteration:
                    return
            else:
                try:
                    value = self.coro.send(sent)
                except StopIteration:
                    return


def frame_writer(scope: dict[str, Any]) -> WriteFrame | None:
    """The server's direct frame writer for this socket, if it offers one (see ``fieldline.server``)."""
    extension = (scope.get("extensions") or {}).get(FRAMES_EXTENSION)
    return extension.get("write") if extension else None


class Connection:
    def __init__(self, send: Send, principal: Principal, token: str, expires_at: datetime, *,
                 write_frame: WriteFrame | None = None, max_frames: int = 64, max_bytes: int = 256 * 1024) -> None:
        self._send = send
        self._write_frame = write_frame
        self.principal = principal
        self.token = token
        self.expires_at = expires_at
        self.checked_at = 0.0  # loop time of the last database re-check of the token
        self.subscriptions: set[str] = set()
        self.mailbox = Mailbox(max_frames, max_bytes)
        self.writer: asyncio.Task[None] | None = None
        self.sending_since: float | None = None  # loop time a waiting write started
        self.ended = False
        self.on_end: Callable[[], None] | None = None  # set by the endpoint: wakes its reader
        self.close_code: Close | None = None
        self.close_reason = ""
        self._tokens = BURST
        self._tokens_at = 0.0
        self.sent_frames = 0

    # --- outbound --------------------------------------------------------------------------------

    def deliver(self, frame: Frame, *, conflate: bool = False) -> None:
        if self.ended:
            return
        if self.writer is None and not self.mailbox:
            if self._write_frame is not None and self._write_frame(frame.wire):
                self.sent_frames += 1
                return
            self._send_now(frame.text)  # no direct writer, or the socket's buffer is full: the ASGI path
            return
        self.mailbox.put(frame, conflate=conflate)
        if self.mailbox.overflowing:
            self.kill(Close.LAGGING, "mailbox overflow")

    def control(self, text: str) -> None:
        self.deliver(Frame(text))

    def _send_now(self, text: str) -> None:
        coro = self._send({"type": "websocket.send", "text": text})
        try:
            waiting_on = coro.send(None)
        except StopIteration:
            self.sent_frames += 1
            return
        except Exception as exc:
            coro.close()
            self._lost(exc)
            return
        self.sending_since = asyncio.get_running_loop().time()
        self.writer = asyncio.create_task(self._finish_and_drain(coro, waiting_on), name="ws-writer")

    async def _finish_and_drain(self, coro: Coroutine[Any, Any, Any], waiting_on: Any) -> None:
        loop = asyncio.get_running_loop()
        try:
            await _Resume(coro, waiting_on)
            self.sent_frames += 1
            while self.mailbox:
                texts = self.mailbox.take()
                self.sending_since = loop.time()
                await self._send({"type": "websocket.send", "text": protocol.batch(texts)})
                self.sent_frames += len(texts)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._lost(exc)
        finally:
            self.sending_since = None
            self.writer = None

    def stalled_for(self, now: float) -> float:
        return 0.0 if self.sending_since is None else now - self.sending_since

    # --- inbound ---------------------------------------------------------------------------------

    def allow_message(self, now: float) -> bool:
        """Token bucket: ``RATE_PER_S`` messages a second on average, bursts of ``BURST``."""
        self._tokens = min(BURST, self._tokens + (now - self._tokens_at) * RATE_PER_S)
        self._tokens_at = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True

    # --- ending ----------------------------------------------------------------------------------

    def kill(self, code: Close | None, reason: str = "") -> None:
        """End the connection (``code`` None: the peer is gone). The endpoint closes the socket."""
        if self.ended:
            return
        self.close_code = code
        self.close_reason = reason or (protocol.close_reason(code) if code is not None else "")
        self.ended = True
        if self.on_end is not None:
            self.on_end()

    def _lost(self, exc: BaseException) -> None:
        log.debug("websocket write failed: %r", exc)
        self.kill(None)

    async def close_socket(self) -> None:
        """Stop writing and send the close frame if the socket still takes it in time (a peer that
        stopped reading may never take it: then the transport just goes)."""
        if self.writer is not None:
            self.writer.cancel()
        if self.close_code is None:
            return
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await self._send({"type": "websocket.close", "code": int(self.close_code),
                                  "reason": self.close_reason[:120]})
        except TimeoutError:
            log.info("websocket close frame not taken in time", extra={"code": int(self.close_code)})
        except Exception as exc:  # the peer is gone already
            log.debug("websocket close failed: %r", exc)
