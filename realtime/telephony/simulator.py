"""Runs the simulation in real time as a service of the app (``FIELDLINE_SIMULATOR``): steps it to
the clock, ingests what happened in one unit of work per step, and is the PBX control port while
it runs (supervisors' pauses reach the simulated agents)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from backend.domain.telephony.board import StatsConfig
from backend.services import telephony
from backend.services.uow import UnitOfWorkFactory
from realtime.telephony.control import PbxActionFailed
from realtime.telephony.simulation import Simulation

log = logging.getLogger(__name__)
MAX_STEP_S = 1.0


class SimulatorControl:
    """The control port onto the simulated PBX."""

    name = "simulator"

    def __init__(self, sim: Simulation, wake: Callable[[], None]) -> None:
        self.sim = sim
        self.wake = wake

    def _do(self, action: Callable[[], None]) -> None:
        try:
            action()
        except KeyError:
            raise PbxActionFailed(message="the simulated PBX does not know this agent") from None
        self.wake()

    async def pause(self, interface: str, reason: str) -> None:
        self._do(lambda: self.sim.request_pause(interface, reason))

    async def unpause(self, interface: str) -> None:
        self._do(lambda: self.sim.request_unpause(interface))

    async def login(self, interface: str, queues: tuple[str, ...]) -> None:
        self._do(lambda: self.sim.request_login(interface))

    async def logout(self, interface: str, queues: tuple[str, ...]) -> None:
        self._do(lambda: self.sim.request_logout(interface))


class SimulatorRunner:
    def __init__(self, sim: Simulation, uows: UnitOfWorkFactory, config: StatsConfig) -> None:
        self.sim = sim
        self.uows = uows
        self.config = config
        self.wakeup = asyncio.Event()
        self.ingested = 0

    async def step(self) -> int:
        """Ingest everything that happened up to now; returns how many commands."""
        async with self.uows() as uow:
            commands = self.sim.advance(uow.now())
            if not commands:
                return 0
            result = await telephony.ingest(uow, commands, source="simulator", config=self.config)
            await uow.commit()
        if result.rejected:
            log.warning("simulator commands rejected: %s", result.rejected[:3])
        self.ingested += len(commands)
        return len(commands)

    async def run(self) -> None:
        while True:
            try:
                await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("simulator step failed")
            upcoming = self.sim.next_time()
            delay = MAX_STEP_S
            if upcoming is not None:
                delay = min(MAX_STEP_S, max(0.05, (upcoming - self.uows.clock.now()).total_seconds()))
            self.wakeup.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):  # not wait_for, which may swallow a cancel on 3.11
                    await self.wakeup.wait()


@contextlib.asynccontextmanager
async def simulator_service(app: Any, runtime: Any) -> AsyncIterator[SimulatorRunner | None]:
    settings = runtime.settings
    if not settings.simulator or settings.ami_host:
        yield None
        return
    sim = Simulation(start=runtime.clock.now(), seed=settings.simulator_seed if settings.simulator_seed is not None
                     else int(runtime.clock.now().timestamp()), agents=settings.simulator_agents,
                     calls_per_minute=settings.simulator_calls_per_minute)
    runner = SimulatorRunner(sim, runtime.uows, telephony.stats_config(settings))
    app.state.pbx_control = SimulatorControl(sim, runner.wakeup.set)
    task = asyncio.create_task(runner.run(), name="telephony-simulator")
    try:
        yield runner
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
