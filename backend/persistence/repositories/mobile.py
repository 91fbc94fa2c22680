"""Queries of the mobile API: the action log, signatures, photos, and the customer, site and
equipment a phone shows with an order. Writes stay in the caller's transaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func
from sqlalchemy import select as sa_select
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from backend.persistence import appends
from backend.persistence.statements import Executor, Statement
from backend.persistence.tables import Customer, Equipment, Site
from backend.persistence.tables import WorkOrder as Row
from backend.persistence.tables_mobile import MobileAction, WorkOrderPhoto, WorkOrderSignature


def add_action(session: appends.Target, **values: Any) -> None:
    """A ``MobileAction`` row by its column values, queued with the transaction's other
    append-only rows (``persistence.appends``)."""
    appends.append(session, MobileAction, **values)


async def actions(session: AsyncSession, work_order_id: int) -> list[MobileAction]:
    await appends.flush(session)
    rows = await session.exec(select(MobileAction).where(MobileAction.work_order_id == work_order_id)
                              .order_by(MobileAction.id))  # type: ignore[arg-type]
    return list(rows.all())


_SITE_POSITION = Statement(  # arrivals, completions and signatures check the phone's position against it
    sa_select(Site.__table__.c.latitude, Site.__table__.c.longitude)  # type: ignore[attr-defined]
    .join(Row.__table__, Row.__table__.c.site_id == Site.__table__.c.id)  # type: ignore[attr-defined]
    .where(Row.__table__.c.id == bindparam("work_order_id")))  # type: ignore[attr-defined]


async def site_position(session: Executor, work_order_id: int) -> tuple[float, float] | None:
    """The (latitude, longitude) of the order's site, when it has a site with both."""
    found = await _SITE_POSITION.first(session, work_order_id=work_order_id)
    if found is None or found[0] is None or found[1] is None:
        return None
    return found[0], found[1]


async def context(session: AsyncSession, row: Row) -> tuple[Customer | None, Site | None, Equipment | None]:
    customer = await session.get(Customer, row.customer_id) if row.customer_id is not None else None
    site = await session.get(Site, row.site_id) if row.site_id is not None else None
    equipment = await session.get(Equipment, row.equipment_id) if row.equipment_id is not None else None
    return customer, site, equipment


_SIGNATURE = (select(WorkOrderSignature).where(WorkOrderSignature.work_order_id == bindparam("work_order_id"))
              .execution_options(populate_existing=True))  # built once: checked by holds and completions


async def signature(session: AsyncSession, work_order_id: int) -> WorkOrderSignature | None:
    found = await session.exec(_SIGNATURE, params={"work_order_id": work_order_id})
    return found.first()


_S = WorkOrderSignature.__table__  # type: ignore[attr-defined]
_SIGNED_REPORT = Statement(sa_select(_S.c.report_json, _S.c.sha256)
                           .where(_S.c.work_order_id == bindparam("work_order_id")))


async def signed_report(session: Executor, work_order_id: int) -> tuple[str, str] | None:
    """(report_json, sha256) of the order's signature, if the customer signed: what holds and
    completions check, without loading the strokes and the image."""
    found = await _SIGNED_REPORT.first(session, work_order_id=work_order_id)
    return None if found is None else (found[0], found[1])


async def add_signature(session: AsyncSession, signature: WorkOrderSignature) -> WorkOrderSignature:
    session.add(signature)
    await session.flush()
    return signature


async def photos(session: AsyncSession, work_order_id: int) -> list[WorkOrderPhoto]:
    rows = await session.exec(select(WorkOrderPhoto).where(WorkOrderPhoto.work_order_id == work_order_id)
                              .order_by(WorkOrderPhoto.id))  # type: ignore[arg-type]
    return list(rows.all())


async def photo(session: AsyncSession, work_order_id: int, photo_id: int) -> WorkOrderPhoto | None:
    found = await session.get(WorkOrderPhoto, photo_id)
    return found if found is not None and found.work_order_id == work_order_id else None


async def photo_count(session: AsyncSession, work_order_id: int) -> int:
    stmt = sa_select(func.count()).select_from(WorkOrderPhoto).where(WorkOrderPhoto.work_order_id == work_order_id)
    return (await session.exec(stmt)).scalar_one()  # type: ignore[call-overload]


async def add_photo(session: AsyncSession, photo: WorkOrderPhoto) -> WorkOrderPhoto:
    session.add(photo)
    await session.flush()
    return photo
