"""The HTTP/WebSocket server as Fieldline runs it: uvicorn (uvloop, httptools) with uvicorn's own
sans-I/O WebSocket protocol, made leaner per socket, plus one ASGI scope extension, ``fieldline.frames``.

Why the extension: the hub sends every delta to every subscribed socket. Through ASGI each of
those is a ``websocket.send`` message passed down the middleware's send wrappers to uvicorn, which
frames the text with ``websockets`` and writes it: ~20 µs of CPU per delivery, most of it not the
write itself (docs/performance.md). A broadcast frame is the same bytes for every socket (server
frames are not masked), so the hub serializes it once and the extension's ``write(frame)`` puts
those bytes on the socket's transport: what ``websockets.broadcast()`` does. It writes only while the
socket is open and its transport is not paused (flow control); otherwise it returns False and the
caller takes the ordinary ASGI path, which waits for the buffer to drain. Offered only when no
WebSocket extension (permessage-deflate) was negotiated, so a plain frame is always valid.

Why leaner: a wallboard socket is idle most of its life, and a process holds thousands. uvicorn's
protocol keeps an ``asyncio.Queue`` (four deques) and an ``asyncio.Event`` (one more) per socket,
~760 bytes per empty deque, and the handshake's request and response headers for the socket's whole
life. Here the queue and the event are small slotted equivalents and the headers are let go once the
handshake is answered (the ASGI scope keeps its own copy): ~8 KB less per socket (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import gc
import socket
from typing import Any

import uvicorn
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

from realtime.connection import FRAMES_EXTENSION


class Inbox:
    """What uvicorn needs of its receive queue (``put_nowait``, ``get``, ``empty``), unbounded, for
    one reader. uvicorn pauses reading while a message waits, so it holds a message or two."""

    __slots__ = ("_getter", "_items")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._getter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        if self._getter is not None and not self._getter.done():
            self._getter.set_result(None)

    async def get(self) -> Any:
        while not self._items:
            self._getter = asyncio.get_running_loop().create_future()
            try:
                await self._getter
            finally:
                self._getter = None
        return self._items.pop(0)

    def empty(self) -> bool:
        return not self._items


class Writable:
    """What uvicorn needs of its flow-control event (``set``, ``clear``, ``is_set``, ``wait``)."""

    __slots__ = ("_on", "_waiters")

    def __init__(self) -> None:
        self._on = True
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._on

    def set(self) -> None:
        self._on = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._on = False

    async def wait(self) -> bool:
        if self._on:
            return True
        waiter = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(waiter)
        try:
            await waiter
        finally:
            if self._waiters is not None and waiter in self._waiters:
                self._waiters.remove(waiter)
        return True


class FramesWebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = Inbox()  # type: ignore[assignment]
        self.writable = Writable()  # type: ignore[assignment]

    async def send(self, message: Any) -> None:
        await super().send(message)
        if message["type"] == "websocket.accept":
            self.request = self.response = None  # type: ignore[assignment]  # answered: headers not needed

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        if self.response.status_code == 101 and not self.conn.extensions:
            self.scope["extensions"][FRAMES_EXTENSION] = {"write": self.write_frame}

    def write_frame(self, frame: bytes) -> bool:
        """Write a serialized, unmasked data frame now; False if it cannot go out at once."""
        if (self.close_sent or self.disconnected or not self.writable.is_set()
                or self.conn.state is not State.OPEN or self.transport.is_closing()):
            return False
        self.transport.write(frame)
        return True


# Garbage collection for a long-lived server (docs/performance.md): once the app has started, the
# objects it made to last (modules, SQLAlchemy and pydantic metadata, pools, the hub: ~225,000) are
# frozen out of every collection, so a full collection no longer walks them (a pause of ~130 ms on
# the bench machine), and the youngest generation is collected every 5,000 allocations instead of
# 700 (a request's objects mostly die by reference counting before that): GC went from ~100 to
# ~25 µs of CPU per mobile action.
GC_THRESHOLDS = (5000, 10, 10)


def settle_gc() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


class Server(uvicorn.Server):
    """uvicorn's server, with the collector settled once the app has started (``settle_gc``)."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if not self.should_exit:
            settle_gc()


def config(app: Any, *, host: str = "127.0.0.1", port: int = 8000, graceful_s: int = 10) -> uvicorn.Config:
    return uvicorn.Config(
        app, host=host, port=port, log_config=None, access_log=False, timeout_graceful_shutdown=graceful_s,
        ws=FramesWebSocketProtocol, ws_max_size=65536, proxy_headers=False,
        # Browsers offer permessage-deflate and uvicorn accepts it by default: ~3x the CPU per delivery and
        # ~2x the memory per socket for LAN wallboards (docs/performance.md). The hub's frames stay plain.
        ws_per_message_deflate=False,
    )


def listening_socket(host: str, port: int, *, sndbuf: int | None = None) -> socket.socket:
    """A bound, listening socket (accepted sockets inherit ``SO_SNDBUF`` on Linux)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if sndbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    sock.bind((host, port))
    sock.listen(512)
    return sock
