"""The hub's background duties, one task each: reload dispatch-board cards and open alerts when
work-order or SLA events ask for it; and every quarter second, close lagging or expired sockets,
send heartbeats, move the rolling windows, re-check tokens against the database."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from backend import errors
from backend.services import wallboard
from backend.services.uow import UnitOfWorkFactory
from realtime import protocol
from realtime.auth import Authenticator, close_code_for
from realtime.hub import Hub
from realtime.protocol import Close

log = logging.getLogger(__name__)
TICK_S = 0.25


@dataclass(frozen=True)
class UpkeepConfig:
    heartbeat_s: float = 25.0
    auth_recheck_s: float = 60.0
    lag_timeout_s: float = 10.0
    refresh_s: float = 5.0  # rolling windows and the day boundary


class Upkeep:
    def __init__(self, hub: Hub, uows: UnitOfWorkFactory, authenticator: Authenticator, config: UpkeepConfig,
                 alerts: wallboard.AlertsProvider = wallboard.no_alerts) -> None:
        self.hub = hub
        self.uows = uows
        self.authenticator = authenticator
        self.config = config
        self.alerts = alerts
        self._rechecking: asyncio.Task[None] | None = None

    async def reload_loop(self) -> None:
        hub = self.hub
        while True:
            await hub.reload_wanted.wait()
            hub.reload_wanted.clear()
            orders, hub.pending_orders = hub.pending_orders, set()
            alerts, hub.pending_alerts = hub.pending_alerts, False
            try:
                cards: dict[str, dict[str, Any] | None] = {}
                if orders:  # after nearly every commit: one statement, outside any transaction
                    async with self.uows.reads() as db:
                        cards = await wallboard.order_cards(db, orders)
                open_alerts = None
                if alerts:
                    async with self.uows() as uow:
                        open_alerts = await wallboard.open_alerts(uow, uow.now(), self.alerts)
                hub.set_orders(cards)
                if open_alerts is not None:
                    hub.set_alerts(open_alerts)
            except Exception:
                log.exception("reloading dispatch cards / alerts failed; retrying")
                hub.pending_orders |= orders
                hub.pending_alerts = hub.pending_alerts or alerts
                await asyncio.sleep(1.0)
                hub.reload_wanted.set()

    async def tick_loop(self) -> None:
        loop = asyncio.get_running_loop()
        last_heartbeat = last_refresh = last_recheck = loop.time()
        while True:
            await asyncio.sleep(TICK_S)
            now_loop, now = loop.time(), self.hub.clock.now()
            for conn in list(self.hub.connections):
                if conn.stalled_for(now_loop) > self.config.lag_timeout_s:
                    conn.kill(Close.LAGGING, "write stalled")
                elif conn.expires_at <= now:
                    conn.kill(Close.AUTH_EXPIRED, "token-expired")
            if now_loop - last_heartbeat >= self.config.heartbeat_s:
                last_heartbeat = now_loop
                self.hub.broadcast_control(protocol.heartbeat(now))
            if now_loop - last_refresh >= self.config.refresh_s:
                last_refresh = now_loop
                self.hub.refresh_windows()
            if now_loop - last_recheck >= min(5.0, self.config.auth_recheck_s) and (
                    self._rechecking is None or self._rechecking.done()):
                last_recheck = now_loop
                self._rechecking = asyncio.create_task(self.recheck(now_loop), name="ws-auth-recheck")

    async def recheck(self, now_loop: float) -> None:
        """Tokens revoked since they were checked (logout, refresh-token reuse, user deactivated)."""
        for conn in list(self.hub.connections):
            if conn.ended or now_loop - conn.checked_at < self.config.auth_recheck_s:
                continue
            conn.checked_at = now_loop
            try:
                await self.authenticator.check(conn.token)
            except errors.Unauthenticated as exc:
                conn.kill(close_code_for(exc), exc.code)
            except Exception:
                log.exception("token re-check failed")

    async def stop(self) -> None:
        if self._rechecking is not None:
            self._rechecking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._rechecking
