"""A fake Asterisk manager for the AMI client tests: banner, Login (right or wrong secret), Events,
Ping, QueueStatus (the transcript from tests/fixtures/ami), QueuePause/QueueAdd/QueueRemove (with
the member events a real Asterisk raises); the test pushes more transcripts, split as it likes, or
drops the connection."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from realtime.telephony.ami_protocol import AmiParser, Packet
from tests.unit.test_ami_protocol import load

BANNER = b"Asterisk Call Manager/13.0.0\r\n"


def response(action_id: str, status: str = "Success", **fields: str) -> bytes:
    lines = [f"Response: {status}", f"ActionID: {action_id}", *(f"{k}: {v}" for k, v in fields.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def member_event(event: str, interface: str, queue: str = "hotline", **fields: str) -> bytes:
    lines = [f"Event: {event}", "Privilege: agent,all", f"Queue: {queue}", f"Interface: {interface}",
             f"MemberName: {interface}", *(f"{k}: {v}" for k, v in fields.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@dataclass
class FakeAmi:
    username: str = "wallboard"
    secret: str = "s3cret"
    queue_status: str = "queue_status.txt"
    wrapuptime: str | None = None  # replaces PJSIP/8002's Wrapuptime in the snapshot
    actions: list[Packet] = field(default_factory=list)
    logins: int = 0
    port: int = 0
    _server: asyncio.Server | None = None
    _writers: list[asyncio.StreamWriter] = field(default_factory=list)

    async def start(self, port: int = 0) -> int:
        self._server = await asyncio.start_server(self._session, "127.0.0.1", port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def stop(self) -> None:
        await self.drop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def named(self, action: str) -> list[Packet]:
        return [p for p in self.actions if (p.get("Action") or "").lower() == action.lower()]

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        writer.write(BANNER)
        parser = AmiParser()
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            while data := await reader.read(4096):
                for packet in parser.feed(data):
                    self.actions.append(packet)
                    if not await self._answer(packet, writer):
                        writer.close()
                        return
                await writer.drain()

    async def _answer(self, p: Packet, w: asyncio.StreamWriter) -> bool:
        action, aid = (p.get("Action") or "").lower(), p.action_id or ""
        if action == "login":
            if (p.get("Username"), p.get("Secret")) != (self.username, self.secret):
                w.write(load("login_failed.txt", aid))
                return False
            self.logins += 1
            w.write(load("login_ok.txt", aid))
        elif action == "queuestatus":
            data = load(self.queue_status, aid)
            if self.wrapuptime is not None:
                data = data.replace(b"Wrapuptime: 15", f"Wrapuptime: {self.wrapuptime}".encode())
            w.write(data)
        elif action == "ping":
            w.write(response(aid, Ping="Pong", Timestamp="1718031340.000000"))
        elif action == "queuepause":
            interface = p.get("Interface") or ""
            w.write(response(aid, Message="Interface paused successfully"))
            paused = (p.get("Paused") or "").lower() == "true"
            w.write(member_event("QueueMemberPause", interface, Paused="1" if paused else "0",
                                 PausedReason=p.get("Reason") or ""))
        elif action == "queueadd":
            w.write(response(aid, Message="Added interface to queue"))
            w.write(member_event("QueueMemberAdded", p.get("Interface") or "", p.get("Queue") or "", Paused="0"))
        elif action == "queueremove":
            w.write(response(aid, Message="Removed interface from queue"))
            w.write(member_event("QueueMemberRemoved", p.get("Interface") or "", p.get("Queue") or ""))
        else:
            w.write(response(aid, "Error", Message="Invalid/unknown command"))
        return True

    async def push(self, data: bytes, chunk: int | None = None) -> None:
        """Send bytes on the newest connection, in chunks of ``chunk`` bytes flushed one by one."""
        writer = self._writers[-1]
        step = chunk or len(data)
        for i in range(0, len(data), step):
            writer.write(data[i:i + step])
            await writer.drain()

    async def drop(self) -> None:
        for writer in self._writers:
            writer.close()
        self._writers.clear()
