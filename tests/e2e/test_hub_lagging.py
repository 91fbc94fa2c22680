"""A client that stops reading is closed as lagging while a healthy client of the same process keeps
receiving, on a real uvicorn process (small socket buffers, so the frozen client's fill in a moment)
fed by the simulator."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import struct
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from tests.integration.realtime.processes import Server, base_env, prepare, serve
from tests.support.servers import free_port
from tests.support.waiting import wait_until

pytestmark = pytest.mark.e2e


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    env = base_env(f"sqlite+aiosqlite:///{tmp_path / 'hub.db'}", FIELDLINE_SIMULATOR="true",
                   FIELDLINE_SIMULATOR_SEED="11", FIELDLINE_SIMULATOR_CALLS_PER_MINUTE="120",
                   FIELDLINE_WS_LAG_TIMEOUT_S="1")
    prepare(env)
    with serve(env, free_port(), tmp_path, sndbuf=4096) as running:
        yield running


def token(server: Server) -> str:
    return httpx.post(f"{server.url}/api/auth/login",
                      json={"username": "supervisor", "password": "supervisor-demo"}).json()["access_token"]


def client_frame(text: str) -> bytes:
    """A masked text frame, as clients must send."""
    payload, mask = text.encode(), os.urandom(4)
    n = len(payload)
    head = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack("!H", n))
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class FrozenClient:
    """Handshakes, subscribes, keeps asking for snapshots, and never reads another byte."""

    def __init__(self, server: Server, access_token: str) -> None:
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
        self.sock.connect(("127.0.0.1", server.port))
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        response = b""
        while b"\r\n\r\n" not in response:
            response += self.sock.recv(1)
        assert response.startswith(b"HTTP/1.1 101"), response
        self.send({"op": "auth", "token": access_token})
        self.send({"op": "subscribe", "channel": "queues"})

    def send(self, frame: dict[str, object]) -> None:
        self.sock.sendall(client_frame(json.dumps(frame)))

    def ask_for_the_agent_grid(self) -> None:
        self.send({"op": "subscribe", "channel": "agents"})
        self.send({"op": "unsubscribe", "channel": "agents"})


def test_a_frozen_client_is_closed_as_lagging_while_a_healthy_one_keeps_receiving(server: Server) -> None:
    access = token(server)

    async def scenario() -> None:
        received: list[float] = []
        async with websockets.connect(f"{server.ws_url}?token={access}", max_size=None) as healthy:
            for channel in ("queues", "agents"):
                await healthy.send(json.dumps({"op": "subscribe", "channel": channel}))

            async def read() -> None:
                async for _ in healthy:
                    received.append(time.monotonic())

            reader = asyncio.create_task(read())
            frozen = FrozenClient(server, access)

            async def lagging_closed() -> bool:
                frozen.ask_for_the_agent_grid()  # ~9 KB snapshot each: its buffers fill at once
                return await asyncio.to_thread(server.metric, 'fieldline_ws_closed_total{code="4008"}') >= 1

            # Polled every 0.15 s: that also paces the frozen client under the 20 messages/s limit.
            await wait_until(lagging_closed, timeout=30, interval=0.15, message="the frozen client closed as lagging")
            closed_at = time.monotonic()
            await wait_until(lambda: len([t for t in received if t > closed_at]) >= 3, timeout=15,
                             message="the healthy client still receiving")
            assert healthy.close_code is None
            assert await asyncio.to_thread(server.metric, "fieldline_ws_connections") == 1
            reader.cancel()
            frozen.sock.close()

    asyncio.run(scenario())
