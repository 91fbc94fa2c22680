"""The asyncio AMI client: connect, read the banner, ``Login`` (asking only for the event classes we
read), take a ``QueueStatus`` snapshot, then follow the events; ``Ping`` keeps the connection
honest, the snapshot repeats to heal drift, a lost connection is retried with jittered exponential
backoff (and snapshots again). It is also the PBX control port (``QueuePause``, ``QueueAdd``,
``QueueRemove``). Commands go to ``on_commands`` in arrival order, batched while it is busy."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from backend.clock import Clock
from backend.domain.telephony import commands as c
from backend.services import telephony
from realtime.telephony.ami_events import AmiMapper, WrapUpTimer
from realtime.telephony.ami_protocol import AmiParser, Packet, encode
from realtime.telephony.control import PbxActionFailed

log = logging.getLogger(__name__)
OnCommands = Callable[[list[c.Command]], Awaitable[None]]


class AmiError(Exception):
    pass


@dataclass(frozen=True)
class AmiConfig:
    host: str
    port: int = 5038
    username: str = ""
    secret: str = ""
    events: str = "agent,call,system"
    ping_s: float = 20.0
    timeout_s: float = 10.0
    resnapshot_s: float = 300.0
    backoff_min_s: float = 0.5
    backoff_max_s: float = 30.0


class AmiClient:
    name = "ami"

    def __init__(self, config: AmiConfig, on_commands: OnCommands, clock: Clock,
                 rng: random.Random | None = None) -> None:
        self.config = config
        self.on_commands = on_commands
        self.clock = clock
        self.rng = rng or random.Random()
        self.connected = asyncio.Event()
        self.connections = 0  # successful logins so far
        self.snapshots = 0
        self._writer: asyncio.StreamWriter | None = None
        self._pending: dict[str, asyncio.Future[Packet]] = {}
        self._ids = itertools.count(1)
        self._queue: asyncio.Queue[list[c.Command]] = asyncio.Queue()
        self._mapper = AmiMapper(uuid.uuid4().hex[:8])
        self._timers: dict[str, asyncio.TimerHandle] = {}

    # --- running ---------------------------------------------------------------------------------

    async def run(self) -> None:
        """Until cancelled: stay connected, reconnecting with jittered exponential backoff."""
        feeder = asyncio.create_task(self._feed(), name="ami-ingest")
        delay = self.config.backoff_min_s
        try:
            while True:
                try:
                    await self._session()
                    delay = self.config.backoff_min_s  # a session that ran resets the backoff
                except asyncio.CancelledError:
                    raise
                except (OSError, AmiError, TimeoutError, asyncio.IncompleteReadError) as exc:
                    log.warning("AMI connection to %s:%s failed: %r", self.config.host, self.config.port, exc)
                finally:
                    self._disconnected()
                await asyncio.sleep(delay * self.rng.uniform(0.5, 1.5))
                delay = min(delay * 2, self.config.backoff_max_s)
        finally:
            feeder.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await feeder

    async def _session(self) -> None:
        cfg = self.config
        # asyncio.timeout, not wait_for: on 3.11 wait_for may swallow a cancel that arrives as the
        # inner future completes, and the client (and the app's shutdown) would then never stop
        async with asyncio.timeout(cfg.timeout_s):
            reader, writer = await asyncio.open_connection(cfg.host, cfg.port)
        self._writer = writer
        self._mapper = AmiMapper(uuid.uuid4().hex[:8])
        parser = AmiParser()
        read_task = asyncio.create_task(self._read(reader, parser), name="ami-reader")
        try:
            reply = await self.action("Login", Username=cfg.username, Secret=cfg.secret, Events=cfg.events)
            if (reply.response or "").lower() != "success":
                raise AmiError(f"login refused: {reply.get('Message', '')}")
            self.connections += 1
            self.connected.set()
            log.info("AMI connected to %s:%s (%s)", cfg.host, cfg.port, parser.banner)
            await self.snapshot()
            await self._keepalive(read_task)
        finally:
            read_task.cancel()
            await asyncio.wait({read_task})  # not ``await read_task``: that would swallow our own cancel
            if not read_task.cancelled():
                read_task.exception()  # retrieved: it is what ended the session, reported above
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _keepalive(self, read_task: asyncio.Task[None]) -> None:
        loop = asyncio.get_running_loop()
        last_snapshot = loop.time()
        while True:
            done, _ = await asyncio.wait({read_task}, timeout=self.config.ping_s)
            if done:
                read_task.result()  # re-raises what ended the reader
                raise AmiError("the PBX closed the connection")
            await self.action("Ping")
            if loop.time() - last_snapshot >= self.config.resnapshot_s:
                last_snapshot = loop.time()
                await self.snapshot()

    async def _read(self, reader: asyncio.StreamReader, parser: AmiParser) -> None:
        while True:
            data = await reader.read(65536)
            if not data:
                raise AmiError("connection closed by the PBX")
            for packet in parser.feed(data):
                self._dispatch(packet)

    def _dispatch(self, packet: Packet) -> None:
        if packet.response is not None and packet.event is None:
            future = self._pending.pop(packet.action_id or "", None)
            if future is not None and not future.done():
                future.set_result(packet)
            return
        mapped = self._mapper.handle(packet, self.clock.now())
        for timer in mapped.timers:
            self._arm(timer)
        if mapped.commands:
            self._queue.put_nowait(mapped.commands)
            snapshot = next((cmd for cmd in mapped.commands if isinstance(cmd, c.PbxSnapshot)), None)
            if snapshot is not None:
                self.snapshots += 1

    def _arm(self, timer: WrapUpTimer) -> None:
        loop = asyncio.get_running_loop()
        old = self._timers.pop(timer.interface, None)
        if old is not None:
            old.cancel()

        def fire() -> None:
            self._timers.pop(timer.interface, None)
            self._queue.put_nowait([c.EndWrapUp(event_id=f"{timer.call_id}:wrapup:{timer.interface}",
                                                at=self.clock.now(), interface=timer.interface)])

        self._timers[timer.interface] = loop.call_later(timer.delay_s, fire)

    async def _feed(self) -> None:
        while True:
            batch = await self._queue.get()
            while not self._queue.empty():
                batch += self._queue.get_nowait()
            try:
                await self.on_commands(batch)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("ingesting %d AMI commands failed", len(batch))

    def _disconnected(self) -> None:
        self.connected.clear()
        self._writer = None
        for future in self._pending.values():
            if not future.done():
                future.set_exception(AmiError("disconnected"))
        self._pending.clear()

    # --- actions ---------------------------------------------------------------------------------

    async def action(self, name: str, **fields: str) -> Packet:
        """Send an action and wait for its response (correlated by ActionID)."""
        writer = self._writer
        if writer is None:
            raise AmiError("not connected")
        action_id = f"fl-{next(self._ids)}"
        future: asyncio.Future[Packet] = asyncio.get_running_loop().create_future()
        self._pending[action_id] = future
        if name == "QueueStatus":
            self._mapper.expect_snapshot(action_id, tuple(filter(None, [fields.get("Queue")])))
        writer.write(encode(name, action_id, **fields))
        await writer.drain()
        try:
            async with asyncio.timeout(self.config.timeout_s):
                return await future
        finally:
            self._pending.pop(action_id, None)

    async def snapshot(self) -> None:
        reply = await self.action("QueueStatus")
        if (reply.response or "").lower() != "success":
            raise AmiError(f"QueueStatus refused: {reply.get('Message', '')}")

    async def _control(self, name: str, **fields: str) -> None:
        try:
            reply = await self.action(name, **fields)
        except (AmiError, TimeoutError, OSError) as exc:
            raise PbxActionFailed(message=f"{name}: the PBX did not answer ({exc})") from None
        if (reply.response or "").lower() != "success":
            raise PbxActionFailed(message=f"{name}: {reply.get('Message', 'refused')}")

    async def pause(self, interface: str, reason: str) -> None:
        await self._control("QueuePause", Interface=interface, Paused="true", Reason=reason)

    async def unpause(self, interface: str) -> None:
        await self._control("QueuePause", Interface=interface, Paused="false")

    async def login(self, interface: str, queues: tuple[str, ...]) -> None:
        for queue in queues:
            await self._control("QueueAdd", Queue=queue, Interface=interface)

    async def logout(self, interface: str, queues: tuple[str, ...]) -> None:
        for queue in queues:
            await self._control("QueueRemove", Queue=queue, Interface=interface)


@contextlib.asynccontextmanager
async def ami_service(app: Any, runtime: Any) -> AsyncIterator[AmiClient | None]:
    """Runs the client when ``FIELDLINE_AMI_HOST`` is set; it becomes the PBX control port."""
    settings = runtime.settings
    if not settings.ami_host:
        yield None
        return
    config = telephony.stats_config(settings)

    async def ingest(commands: list[c.Command]) -> None:
        async with runtime.uows() as uow:
            result = await telephony.ingest(uow, commands, source="ami", config=config)
            await uow.commit()
        if result.rejected:
            log.info("AMI events not applied: %s", [(r.event_id, r.code) for r in result.rejected[:5]])

    client = AmiClient(AmiConfig(host=settings.ami_host, port=settings.ami_port, username=settings.ami_username,
                                 secret=settings.ami_secret.get_secret_value(),
                                 resnapshot_s=settings.ami_resnapshot_s), ingest, runtime.clock)
    app.state.pbx_control = client
    task = asyncio.create_task(client.run(), name="ami-client")
    try:
        yield client
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
