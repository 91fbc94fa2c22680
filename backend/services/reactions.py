"""What else happens, in the same transaction, when work-order events are written: SLA deadlines
opened and closed, push notifications queued... Each feature contributes one reaction here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from backend.domain.actors import Principal
from backend.domain.work_orders import WorkOrder
from backend.events import Event
from backend.services.push import push_reaction
from backend.services.sla import sla_reaction
from backend.services.uow import UnitOfWork

Reaction = Callable[[UnitOfWork, Principal, WorkOrder, list[Event]], Awaitable[None]]

# One entry per feature, in the order they should run.
REACTIONS: tuple[Reaction, ...] = (
    sla_reaction,
    push_reaction,
)


async def react(uow: UnitOfWork, actor: Principal, order: WorkOrder, events: list[Event]) -> None:
    for reaction in REACTIONS:
        await reaction(uow, actor, order, events)
