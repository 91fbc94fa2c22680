"""The push side of SLA escalations: a breach reaches the engineer and the service managers on their
phones through the mobile push outbox (``services.push.enqueue_many``), written in the firing
transaction, so a push is queued if and only if the breach is recorded. Supervisors get every
breach through the event outbox (``SlaBreached``/``SlaEscalated``)."""

from __future__ import annotations

from backend.domain.mobile.push import PushKind
from backend.domain.work_orders import WorkOrder
from backend.services import push
from backend.services.uow import UnitOfWork


async def notify_escalation(uow: UnitOfWork, order: WorkOrder, rule: str, escalation_id: int,
                            user_ids: list[int], message: str) -> None:
    if not user_ids:
        return
    await push.enqueue_many(uow, user_ids, PushKind.ESCALATION, order,
                            extra={"rule": rule, "escalation_id": str(escalation_id), "message": message[:200]})
