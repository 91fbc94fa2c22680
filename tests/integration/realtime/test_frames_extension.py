"""The server's ``fieldline.frames`` extension (``fieldline.server``) on a real uvicorn socket: offered
on a plain WebSocket, the bytes written arrive as the text they encode, flow control makes it refuse
instead of buffering without bound, it refuses after the close, and it is not offered when
permessage-deflate was negotiated. The Connection falls back to the ASGI send when it refuses."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import uvicorn
from websockets.asyncio.client import connect

from backend.domain.actors import Principal, Role
from fieldline import server
from realtime.connection import Connection, frame_writer
from realtime.mailbox import Frame
from tests.support.servers import free_port


class Probe:
    """A tiny ASGI app: accepts, hands the test its scope and ``send``, waits to be told to end."""

    def __init__(self) -> None:
        self.ready: asyncio.Queue[tuple[dict[str, Any], Callable[..., Any]]] = asyncio.Queue()
        self.end = asyncio.Event()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await self.ready.put((scope, send))
        await self.end.wait()
        await send({"type": "websocket.close", "code": 1000})


@asynccontextmanager
async def serving(*, deflate: bool = False, sndbuf: int | None = None) -> AsyncIterator[tuple[Probe, str]]:
    probe = Probe()
    port = free_port()
    config = server.config(probe, port=port, graceful_s=1)
    config.ws_per_message_deflate = deflate
    config.lifespan = "off"
    srv = uvicorn.Server(config)
    sock = server.listening_socket("127.0.0.1", port, sndbuf=sndbuf)
    task = asyncio.create_task(srv.serve(sockets=[sock]))
    try:  # the socket listens already: a client's connect waits in its backlog until the server runs
        yield probe, f"ws://127.0.0.1:{port}/ws"
    finally:
        probe.end.set()
        srv.should_exit = True
        async with asyncio.timeout(10):
            await task


async def test_frames_written_directly_arrive_as_their_text() -> None:
    async with serving() as (probe, url), connect(url, compression=None) as client:
        async with asyncio.timeout(5):
            scope, _send = await probe.ready.get()
        write = frame_writer(scope)
        assert write is not None
        texts = [f'{{"op":"delta","n":{i}}}' for i in range(50)] + ["é" * 70_000]  # a 16- and a 64-bit length
        assert all(write(Frame(text).wire) for text in texts)
        async with asyncio.timeout(5):
            assert [await client.recv() for _ in texts] == texts


async def test_a_socket_that_is_not_read_makes_it_refuse_then_closed_it_refuses() -> None:
    async with serving(sndbuf=8192) as (probe, url), connect(url, compression=None, max_queue=1) as client:
        async with asyncio.timeout(5):
            scope, send = await probe.ready.get()
        write = frame_writer(scope)
        assert write is not None
        client.transport.pause_reading()  # a frozen wallboard
        frame = Frame("x" * 1000).wire
        written = 0
        while write(frame):
            written += 1
            assert written < 100_000, "flow control never refused a write"
            await asyncio.sleep(0)  # let the transport report its full buffer
        client.transport.resume_reading()
        async with asyncio.timeout(10):
            for _ in range(written):
                assert await client.recv() == "x" * 1000  # every accepted write arrives; nothing more was queued
        await send({"type": "websocket.close", "code": 1000})
        assert write(Frame("late").wire) is False


async def test_not_offered_with_permessage_deflate() -> None:
    async with serving(deflate=True) as (probe, url), connect(url) as client:
        assert client.protocol.extensions  # the client offers deflate by default; the server took it
        async with asyncio.timeout(5):
            scope, _send = await probe.ready.get()
        assert frame_writer(scope) is None


async def test_the_connection_writes_directly_and_falls_back_to_send_when_refused() -> None:
    written: list[bytes] = []
    sent: list[str] = []
    accept = True

    def write(frame: bytes) -> bool:
        if accept:
            written.append(frame)
        return accept

    async def send(message: dict[str, Any]) -> None:
        sent.append(message["text"])

    principal = Principal(user_id=1, username="wall", role=Role.WALLBOARD)
    conn = Connection(send, principal, "token", datetime.now(UTC), write_frame=write)
    conn.deliver(Frame("one"))
    accept = False
    conn.deliver(Frame("two"))
    assert written == [Frame("one").wire] and sent == ["two"] and conn.sent_frames == 2
    assert conn.writer is None and not conn.mailbox


async def test_the_lean_queue_and_flow_control_flag_behave_like_asyncio_s() -> None:
    inbox = server.Inbox()
    getter = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    assert not getter.done() and inbox.empty()
    inbox.put_nowait(1)
    inbox.put_nowait(2)
    assert await getter == 1 and await inbox.get() == 2 and inbox.empty()

    writable = server.Writable()
    assert writable.is_set() and await writable.wait()
    writable.clear()
    waiting, cancelled = asyncio.create_task(writable.wait()), asyncio.create_task(writable.wait())
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0)
    assert not waiting.done() and cancelled.cancelled()
    writable.set()
    assert await waiting is True
