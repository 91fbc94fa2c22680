"""The hub's conflation flush on uvloop, the loop the server runs: a flush scheduled for an instant
the loop has already passed (it fell behind under load) and then moved must not break the hub.
uvloop's ``call_at`` returns a plain ``Handle`` (no ``when()``) for such an instant: reading the
time back from it crashed the feed task and froze every wallboard (found by bench.hub)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import uvloop

from backend.clock import FrozenClock
from backend.domain.telephony.board import StatsConfig
from realtime.channel import Channel
from realtime.hub import Hub


def test_a_flush_due_in_the_past_can_be_moved_on_uvloop() -> None:
    async def scenario() -> None:
        hub = Hub(clock=FrozenClock(datetime(2026, 3, 2, 1, 30, tzinfo=UTC)), stats=StatsConfig())
        channel = hub.channels.setdefault("agents", Channel("agents", "agents", None, {}))
        loop = asyncio.get_running_loop()
        channel.due = loop.time() - 1.0  # already past: uvloop hands back a plain Handle
        hub._schedule_flush()
        channel.due = loop.time() - 2.0  # sooner still: the pending flush is compared and moved
        hub._schedule_flush()  # before the fix: AttributeError: 'uvloop.loop.Handle' object has no attribute 'when'
        earliest = hub._flush_at
        later = channel.due = loop.time() + 60.0  # later than the pending one: it stands
        hub._schedule_flush()
        assert hub._flush_handle is not None and hub._flush_at == earliest
        for _ in range(3):  # the past-due flush runs within a loop turn or two...
            await asyncio.sleep(0)
        assert hub._flush_handle is not None and hub._flush_at == later  # ...and the next one is set for later

    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(scenario())
