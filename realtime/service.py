"""Starts the hub with the app (``hub_service(app, runtime)`` in ``fieldline.app.SERVICES``): loads
its state from the database, follows the event feed (in-process broker or Redis stream), runs its
upkeep, and closes every socket with 1012 when the process stops. ``routes`` are its endpoints."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from backend.brokers.memory import MemoryBroker
from backend.services import wallboard
from backend.services.telephony import stats_config
from backend.services.uow import UnitOfWorkFactory
from realtime import agent_api
from realtime.auth import Authenticator
from realtime.endpoint import HubEndpoint
from realtime.feeds import MemoryFeed, RedisFeed
from realtime.hub import Hub
from realtime.metrics import HubMetrics
from realtime.protocol import Close
from realtime.telephony.control import DirectControl
from realtime.telephony.webhook import receive_events
from realtime.upkeep import Upkeep, UpkeepConfig

routes: list[BaseRoute] = [
    WebSocketRoute("/ws", HubEndpoint()),
    Mount("/api/telephony/v1", routes=[Route("/events", receive_events, methods=["POST"]), *agent_api.routes]),
]


@contextlib.asynccontextmanager
async def hub_service(app: Any, runtime: Any, *,
                      alerts: wallboard.AlertsProvider = wallboard.no_alerts) -> AsyncIterator[Hub]:
    """``alerts`` is the SLA engine's open-alerts provider (default: none), e.g.
    ``functools.partial(hub_service, alerts=sla.open_alerts)``."""
    settings = runtime.settings
    stats = stats_config(settings)
    hub = Hub(clock=runtime.clock, stats=stats)
    authenticator = Authenticator(settings, runtime.engine, runtime.clock)
    app.state.hub = hub
    metrics = getattr(app.state, "metrics", None)
    app.state.hub_metrics = HubMetrics(metrics.registry, hub) if metrics is not None else None
    app.state.hub_authenticator = authenticator
    app.state.hub_heartbeat_s = settings.ws_heartbeat_s
    app.state.pbx_control = DirectControl(runtime.uows, stats)  # the AMI client or the simulator replace it
    # The upkeep only reads (board cards after commits, open alerts): autocommit sessions, one
    # round trip per read instead of BEGIN, SELECT, ROLLBACK.
    reads = UnitOfWorkFactory(runtime.reads, runtime.clock, calendar=settings.calendar)
    upkeep = Upkeep(hub, reads, authenticator, UpkeepConfig(
        heartbeat_s=settings.ws_heartbeat_s, auth_recheck_s=settings.ws_auth_recheck_s,
        lag_timeout_s=settings.ws_lag_timeout_s), alerts)

    async def load(*, new_epoch: bool) -> None:
        async with runtime.uows() as uow:
            now = uow.now()
            board = await wallboard.load_board(uow, stats, now)
            orders = await wallboard.work_orders_snapshot(uow)
            alerts_state = await wallboard.alerts_snapshot(uow, now, alerts)
        hub.install(board, orders, alerts_state, new_epoch_=new_epoch)

    tasks: list[asyncio.Task[Any]] = []
    # Take the feed's position first, then load: what commits in between is applied again (harmless).
    if runtime.redis is not None:
        feed = RedisFeed(runtime.redis)
        start = await feed.position()
        await load(new_epoch=False)
        feed.last = start

        async def on_gap() -> str:
            position = await feed.position()
            await load(new_epoch=True)
            return position

        tasks.append(asyncio.create_task(feed.run(hub, on_gap), name="hub-feed"))
    else:
        assert isinstance(runtime.broker, MemoryBroker)
        memory_feed = MemoryFeed(runtime.broker)
        await load(new_epoch=False)
        tasks.append(asyncio.create_task(memory_feed.run(hub, lambda: load(new_epoch=True)), name="hub-feed"))
    tasks.append(asyncio.create_task(upkeep.reload_loop(), name="hub-reload"))
    tasks.append(asyncio.create_task(upkeep.tick_loop(), name="hub-upkeep"))
    try:
        yield hub
    finally:
        for conn in list(hub.connections):
            conn.kill(Close.SERVER_RESTARTING)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await upkeep.stop()
