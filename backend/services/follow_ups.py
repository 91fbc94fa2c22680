"""The agents' follow-up work list and recording a call's result. Recording goes through the work
order's own ``RecordFollowUp`` command (its rules, event log and audit); an unresolved result opens
the second dispatch there, and the SLA reaction closes the task in the same transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backend import errors
from backend.domain.actors import Principal
from backend.domain.work_orders import commands as c
from backend.persistence.repositories import follow_ups as repo
from backend.services import work_orders as wo
from backend.services.uow import UnitOfWork


@dataclass(frozen=True)
class FollowUpTaskView:
    id: int
    work_order_id: int
    number: str
    kind: str
    sampled: bool
    state: str
    created_at: datetime
    done_at: datetime | None
    result: dict[str, Any] | None
    second_dispatch_id: int | None
    contact_name: str
    contact_phone: str
    engineer_id: int | None
    provider_id: int | None
    completed_at: datetime | None
    description: str


async def work_list(uow: UnitOfWork, *, state: str, region_id: int | None, limit: int,
                    offset: int) -> tuple[list[FollowUpTaskView], int]:
    rows, total = await repo.work_list(uow.session, state=state, region_id=region_id, limit=limit, offset=offset)
    return [_view(t, w) for t, w in rows], total


def _view(t: Any, w: Any) -> FollowUpTaskView:
    return FollowUpTaskView(t.id, t.work_order_id, w.number, t.kind, t.sampled, t.state, t.created_at, t.done_at,
                            t.result, t.second_dispatch_id, w.contact_name, w.contact_phone, w.engineer_id,
                            w.provider_id, w.completed_at, w.description)


async def record_result(uow: UnitOfWork, actor: Principal, task_id: int, *, reachable: bool,
                        satisfaction: int | None, resolved: bool | None, note: str) -> FollowUpTaskView:
    task = await repo.get(uow.session, task_id)
    if task is None:
        raise errors.NotFound("follow-up-task-not-found", f"no follow-up task {task_id}")
    if task.state != "open":
        raise errors.Conflict("follow-up-task-closed", f"the follow-up task is {task.state}", state=task.state)
    await wo.act(uow, actor, task.work_order_id, c.RecordFollowUp(
        reachable=reachable, satisfaction=satisfaction, resolved=resolved, note=note))
    rows, _ = await repo.work_list(uow.session, state="done", region_id=None, limit=1, offset=0,
                                   task_id=task_id)
    return _view(*rows[0])
