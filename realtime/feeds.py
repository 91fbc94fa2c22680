"""Where the hub's events come from: the in-process broker (embedded mode) or the Redis stream
every hub process reads from its own position (scaled mode; ``backend.brokers.redis`` writes it).
Both start from a position taken *before* the hub loads its state from the database, so nothing
committed in between is missed (telephony events are idempotent upserts; a repeat changes nothing).
A batch the hub fails to apply (a bug) does not stop the feed: the hub reloads from the database,
which holds every committed change, under a new epoch, and the feed goes on."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from backend.brokers.memory import MemoryBroker
from backend.brokers.redis import STREAM
from backend.ports import Envelope
from realtime.hub import Hub

log = logging.getLogger(__name__)


class MemoryFeed:
    """Subscribes at once and buffers; ``run`` hands the batches to the hub in order."""

    def __init__(self, broker: MemoryBroker) -> None:
        self._queue: asyncio.Queue[list[Envelope]] = asyncio.Queue()
        self._unsubscribe = broker.subscribe(self._received)

    async def _received(self, batch: list[Envelope]) -> None:
        self._queue.put_nowait(batch)

    async def run(self, hub: Hub, reload: Callable[[], Awaitable[None]]) -> None:
        """``reload``: a fresh state from the database, if a batch could not be applied."""
        try:
            while True:
                batch = await self._queue.get()
                try:
                    hub.accept(batch)
                except Exception:
                    log.exception("applying %d events failed: reloading the hub from the database", len(batch))
                    await _until_done(reload)
        finally:
            self._unsubscribe()


async def _until_done(reload: Callable[[], Awaitable[None]]) -> None:
    """Retries a reload that fails (the database away for a moment), backing off up to 10 s."""
    backoff = 0.5
    while True:
        try:
            await reload()
            return
        except Exception as exc:
            log.warning("reloading the hub failed (%r); retrying in %.1fs", exc, backoff)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)


def _stream_id(raw: str | bytes) -> tuple[int, int]:
    text = raw.decode() if isinstance(raw, bytes) else raw
    ms, _, seq = text.partition("-")
    return int(ms), int(seq or 0)


def envelope_from(fields: dict[bytes, bytes]) -> Envelope:
    f = {k.decode(): v.decode() for k, v in fields.items()}
    return Envelope(outbox_id=int(f["outbox_id"]), event_id=f["event_id"], type=f["type"], key=f["key"],
                    payload=json.loads(f["payload"]), created_at=datetime.fromisoformat(f["created_at"]))


class RedisFeed:
    """XREAD from a position; after a reconnect, a position the stream no longer holds (trimmed,
    or Redis lost its data) is a gap: the hub reloads from the database under a new epoch."""

    def __init__(self, redis: Redis, stream: str = STREAM, *, block_ms: int = 1000, count: int = 1000) -> None:
        self.redis = redis
        self.stream = stream
        self.block_ms = block_ms
        self.count = count
        self.last = "0-0"

    async def position(self) -> str:
        """The id of the newest entry (``0-0`` for an empty or missing stream)."""
        try:
            info = await self.redis.xinfo_stream(self.stream)
        except ResponseError:
            return "0-0"
        raw = info.get("last-generated-id", "0-0")
        return raw.decode() if isinstance(raw, bytes) else str(raw)

    async def _gap(self) -> bool:
        if self.last == "0-0":
            return False
        try:
            info = await self.redis.xinfo_stream(self.stream)
        except ResponseError:
            return True  # the stream is gone: Redis lost its data
        def field(name: str) -> tuple[int, int]:
            return _stream_id(info.get(name, b"0-0") or b"0-0")

        last = _stream_id(self.last)
        first_entry = info.get("first-entry")
        first = field("recorded-first-entry-id") if "recorded-first-entry-id" in info else \
            _stream_id(first_entry[0]) if first_entry else (0, 0)
        # Redis restarted below our position; or entries we had not read yet were deleted (XDEL moves
        # max-deleted-entry-id) or trimmed (MAXLEN moves only the first entry: when it is past our
        # position, something after it may have gone; if nothing had, the reload is merely unneeded).
        return (field("last-generated-id") < last or field("max-deleted-entry-id") > last
                or (info.get("length", 0) > 0 and first > last))

    async def run(self, hub: Hub, on_gap: Callable[[], Awaitable[str]]) -> None:
        """``on_gap`` reloads the hub and returns the position to continue from."""
        backoff = 0.5
        check_gap = reload = False
        while True:
            try:
                if check_gap:
                    check_gap = False
                    if await self._gap():
                        log.warning("event stream gap after %s: reloading the hub", self.last)
                        reload = True
                if reload:
                    self.last = await on_gap()
                    reload = False
                reply = await self.redis.xread({self.stream: self.last}, count=self.count, block=self.block_ms)
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # Redis or the network; or the database, during a reload
                log.warning("reading the event stream failed (%r); retrying in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 10.0)
                check_gap = not reload
                continue
            for _stream, entries in reply or []:
                batch = []
                for entry_id, fields in entries:
                    self.last = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
                    try:
                        batch.append(envelope_from(fields))
                    except (KeyError, ValueError):
                        log.warning("unreadable stream entry %s skipped", self.last)
                try:
                    hub.accept(batch)
                except Exception:
                    log.exception("applying events up to %s failed: reloading the hub from the database", self.last)
                    reload = True  # before the next read; retried until it succeeds
                    break
