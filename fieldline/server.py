"""The HTTP/WebSocket server as Fieldline runs it: uvicorn (uvloop, httptools) with uvicorn's own
sans-I/O WebSocket protocol plus one ASGI scope extension, ``fieldline.frames``.

Why the extension: the hub sends every delta to every subscribed socket. Through ASGI each of
those is a ``websocket.send`` message passed down the middleware's send wrappers to uvicorn, which
frames the text with ``websockets`` and writes it: ~20 µs of CPU per delivery, most of it not the
write itself (docs/performance.md). A broadcast frame is the same bytes for every socket (server
frames are not masked), so the hub serializes it once and the extension's ``write(frame)`` puts
those bytes on the socket's transport: what ``websockets.broadcast()`` does. It writes only while the
socket is open and its transport is not paused (flow control); otherwise it returns False and the
caller takes the ordinary ASGI path, which waits for the buffer to drain. Offered only when no
WebSocket extension (permessage-deflate) was negotiated, so a plain frame is always valid.
"""

from __future__ import annotations

import socket
from typing import Any

import uvicorn
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.protocol import State

from realtime.connection import FRAMES_EXTENSION


class FramesWebSocketProtocol(WebSocketsSansIOProtocol):
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
