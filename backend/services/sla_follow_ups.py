"""Follow-up tasks as part of the SLA reaction: opened when a completion is approved (every repair,
a reproducible sample of installations), done when the follow-up is recorded, cancelled when the
order closes without one. Runs inside ``services.work_orders``: must not import it."""

from __future__ import annotations

from backend import events as ev
from backend.domain.actors import Principal
from backend.domain.sla.policy import PolicyTable
from backend.domain.sla.rules import SAMPLED_KINDS
from backend.domain.sla.sampling import sampled
from backend.domain.work_orders import WorkOrder
from backend.persistence.repositories import follow_ups as repo
from backend.services.uow import UnitOfWork


def may_open(events: list[ev.Event]) -> bool:
    return any(isinstance(e, ev.WorkOrderApproved) for e in events)


def wanted(order: WorkOrder, policies: PolicyTable) -> tuple[bool, bool]:
    """(gets a follow-up call, was picked by sampling)."""
    percent = policies.follow_up_percent(order.kind)
    if percent >= 100:
        return True, False
    picked = percent > 0 and sampled(order.id, percent)
    return picked, picked and order.kind in SAMPLED_KINDS


async def on_events(uow: UnitOfWork, actor: Principal, order: WorkOrder, events: list[ev.Event],
                    policies: PolicyTable | None) -> None:
    now = uow.now()
    for event in events:
        if isinstance(event, ev.WorkOrderApproved):
            assert policies is not None
            required, picked = wanted(order, policies)
            if not required:
                continue
            task_id = await repo.open_task(uow.session, order.id, str(order.kind), picked, now)
            if task_id is not None:
                uow.emit(ev.FollowUpTaskCreated(work_order_id=order.id, number=order.number, task_id=task_id,
                                                kind=str(order.kind), sampled=picked))
        elif isinstance(event, ev.FollowUpRecorded):
            result = {"reachable": event.reachable, "satisfaction": event.satisfaction, "resolved": event.resolved,
                      "note": event.note}
            task_id = await repo.finish_task(uow.session, order.id, result, now, actor.user_id)
            if task_id is not None:
                uow.emit(ev.FollowUpTaskDone(work_order_id=order.id, number=order.number, task_id=task_id,
                                             reachable=event.reachable, satisfaction=event.satisfaction,
                                             resolved=event.resolved))
        elif isinstance(event, ev.SecondDispatchOpened):
            await repo.link_second_dispatch(uow.session, order.id, event.child_id)
        elif isinstance(event, ev.WorkOrderClosed | ev.WorkOrderCancelled):
            await repo.cancel_task(uow.session, order.id, now)
