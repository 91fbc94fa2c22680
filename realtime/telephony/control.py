"""The PBX control port: how a console action (pause, unpause, log out, log in an agent) reaches
the phone system. The AMI client and the simulator implement it; without either, ``DirectControl``
applies the change to the ledger itself (a webhook-fed PBX is told nothing)."""

from __future__ import annotations

import uuid
from typing import Protocol

from backend import errors
from backend.domain.telephony import commands as c
from backend.domain.telephony.board import StatsConfig
from backend.services import telephony
from backend.services.uow import UnitOfWorkFactory


class PbxActionFailed(errors.Conflict):
    code = "pbx-action-failed"


class PbxControl(Protocol):
    name: str

    async def pause(self, interface: str, reason: str) -> None: ...

    async def unpause(self, interface: str) -> None: ...

    async def login(self, interface: str, queues: tuple[str, ...]) -> None: ...

    async def logout(self, interface: str, queues: tuple[str, ...]) -> None: ...


class DirectControl:
    """Applies the change through the ingest service, as if the PBX had reported it."""

    name = "direct"

    def __init__(self, uows: UnitOfWorkFactory, config: StatsConfig) -> None:
        self.uows = uows
        self.config = config

    async def _apply(self, command_type: type[c.Command], **fields: object) -> None:
        async with self.uows() as uow:
            command = command_type(event_id=str(uuid.uuid4()), at=uow.now(), **fields)  # type: ignore[arg-type]
            result = await telephony.ingest(uow, [command], source="console", config=self.config)
            if result.rejected:
                refusal = result.rejected[0]
                raise errors.Conflict(refusal.code, refusal.message)
            await uow.commit()

    async def pause(self, interface: str, reason: str) -> None:
        await self._apply(c.PauseAgent, interface=interface, reason=reason)

    async def unpause(self, interface: str) -> None:
        await self._apply(c.UnpauseAgent, interface=interface)

    async def login(self, interface: str, queues: tuple[str, ...]) -> None:
        await self._apply(c.AgentLogin, interface=interface, queues=queues)

    async def logout(self, interface: str, queues: tuple[str, ...]) -> None:
        await self._apply(c.AgentLogout, interface=interface)
