"""Photos attached to a work order from the phone (optional, size-capped). Never commits."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from backend import errors
from backend.domain.actors import Principal, Role
from backend.domain.mobile.actions import PHOTO_STATES
from backend.domain.mobile.photos import check_photo
from backend.events import PhotoAttached
from backend.persistence.repositories import mobile as mobile_repo
from backend.persistence.tables_mobile import WorkOrderPhoto
from backend.services.uow import UnitOfWork
from backend.services.work_orders import get_visible


@dataclass(frozen=True)
class PhotoView:
    id: int
    work_order_id: int
    content_type: str
    size: int
    sha256: str
    caption: str
    taken_at: datetime | None
    created_at: datetime


def _view(row: WorkOrderPhoto) -> PhotoView:
    return PhotoView(id=row.id or 0, work_order_id=row.work_order_id, content_type=row.content_type, size=row.size,
                     sha256=row.sha256, caption=row.caption, taken_at=row.taken_at, created_at=row.created_at)


async def attach(uow: UnitOfWork, actor: Principal, work_order_id: int, content_type: str, data: bytes,
                 caption: str = "", taken_at: datetime | None = None) -> PhotoView:
    if actor.role is not Role.ENGINEER or actor.user_id is None:
        raise errors.Forbidden("role-not-allowed", "engineers attach photos")
    order = await get_visible(uow, actor, work_order_id)
    if order.engineer_id != actor.user_id:
        raise errors.Forbidden("not-assigned-engineer", "only the assigned engineer acts on this order")
    if order.state not in PHOTO_STATES:
        raise errors.Conflict("photo-not-allowed", f"no photos on a work order that is {order.state}",
                              state=order.state)
    check_photo(content_type, data, await mobile_repo.photo_count(uow.session, order.id))
    row = await mobile_repo.add_photo(uow.session, WorkOrderPhoto(
        work_order_id=order.id, user_id=actor.user_id, content_type=content_type, data=data, size=len(data),
        sha256=hashlib.sha256(data).hexdigest(), caption=caption, taken_at=taken_at, created_at=uow.now()))
    assert row.id is not None
    uow.emit(PhotoAttached(work_order_id=order.id, photo_id=row.id, engineer_id=actor.user_id, size=row.size))
    uow.audit(actor, "work_order.photo_attached", "work_order", order.id, photo_id=row.id, size=row.size)
    return _view(row)


async def list_photos(uow: UnitOfWork, actor: Principal, work_order_id: int) -> list[PhotoView]:
    await get_visible(uow, actor, work_order_id)
    return [_view(r) for r in await mobile_repo.photos(uow.session, work_order_id)]


async def photo_bytes(uow: UnitOfWork, actor: Principal, work_order_id: int, photo_id: int) -> tuple[str, bytes]:
    await get_visible(uow, actor, work_order_id)
    row = await mobile_repo.photo(uow.session, work_order_id, photo_id)
    if row is None:
        raise errors.NotFound("photo-not-found", f"no photo {photo_id} on this work order")
    return row.content_type, row.data
