"""Reading push notifications: a user's own pushes, or those about one work order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backend.domain.actors import Principal, Role
from backend.persistence.repositories import push as repo
from backend.persistence.tables_mobile import PushNotification
from backend.services.uow import UnitOfWork
from backend.services.work_orders import get_visible


@dataclass(frozen=True)
class NotificationView:
    id: int
    notification_key: str
    kind: str
    work_order_id: int | None
    device_id: int | None
    title: str
    body: str
    data: dict[str, str]
    state: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None


def _view(row: PushNotification) -> NotificationView:
    return NotificationView(
        id=row.id or 0, notification_key=row.notification_key, kind=row.kind, work_order_id=row.work_order_id,
        device_id=row.device_id, title=row.title, body=row.body, data={k: str(v) for k, v in row.data.items()},
        state=row.state, attempts=row.attempts, created_at=row.created_at, next_attempt_at=row.next_attempt_at,
        sent_at=row.sent_at, last_error=row.last_error)


async def list_notifications(uow: UnitOfWork, actor: Principal, *, work_order_id: int | None = None,
                             limit: int = 50, offset: int = 0) -> tuple[list[NotificationView], int]:
    """The actor's own pushes (all, or one order's). A service manager reading an order of their
    region sees every push about it: was the engineer told?"""
    if actor.user_id is None:
        return [], 0
    user_id: int | None = actor.user_id
    if work_order_id is not None:
        await get_visible(uow, actor, work_order_id)
        if actor.role is Role.SERVICE_MANAGER:
            user_id = None
    rows, total = await repo.notifications(uow.session, user_id=user_id, work_order_id=work_order_id,
                                           limit=limit, offset=offset)
    return [_view(r) for r in rows], total
