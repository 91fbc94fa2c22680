"""Devices (push tokens) and push notification rows: enqueue, claim the due ones for one sender
(FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite's single writer serialises), record outcomes,
list them. Writes stay in the caller's transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from backend.persistence import appends
from backend.persistence.statements import AnyOf, Executor, Statement
from backend.persistence.tables import User, WorkOrder
from backend.persistence.tables_mobile import Device, PushNotification


async def device(session: AsyncSession, device_id: int) -> Device | None:
    return await session.get(Device, device_id, populate_existing=True)


async def device_by_token(session: AsyncSession, token: str) -> Device | None:
    return (await session.exec(select(Device).where(Device.token == token))).first()


async def devices_of(session: AsyncSession, user_id: int, *, active_only: bool = False) -> list[Device]:
    stmt = select(Device).where(Device.user_id == user_id)
    if active_only:
        stmt = stmt.where(Device.active.is_(True))  # type: ignore[attr-defined]
    return list((await session.exec(stmt.order_by(Device.id))).all())  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Target:
    """An active device a push goes to (plain values)."""

    id: int
    user_id: int
    token: str


_DEV = Device.__table__  # type: ignore[attr-defined]


_ACTIVE_DEVICES = AnyOf(sa_select(_DEV.c.id, _DEV.c.user_id, _DEV.c.token).where(_DEV.c.active.is_(True)),
                        _DEV.c.user_id)


async def active_devices(session: Executor, user_ids: list[int]) -> list[Target]:
    return sorted((Target(*row) for row in await _ACTIVE_DEVICES.all(session, user_ids)), key=lambda t: t.id)


async def users_in(session: AsyncSession, *, provider_id: int | None = None, region_id: int | None = None,
                   role: str) -> list[int]:
    stmt = sa_select(User.id).where(User.role == role, User.active.is_(True))  # type: ignore[attr-defined]
    if provider_id is not None:
        stmt = stmt.where(User.provider_id == provider_id)
    if region_id is not None:
        stmt = stmt.where(User.region_id == region_id)
    return [row[0] for row in (await session.exec(stmt)).all()]  # type: ignore[call-overload]


def add(session: AsyncSession, row: PushNotification | Device) -> None:
    session.add(row)


def queue(session: appends.Target, **values: Any) -> None:
    """A new push row by its column values, written with the transaction's other new rows as it
    commits (``persistence.appends``); ``scheduled`` sees it (it writes the queue first)."""
    appends.append(session, PushNotification, **values)


async def claim_due(session: AsyncSession, now: datetime, limit: int) -> list[PushNotification]:
    """Pending rows whose time has come, oldest first, locked against other senders."""
    stmt = (select(PushNotification)
            .where(PushNotification.state == "pending",
                   or_(PushNotification.next_attempt_at.is_(None),  # type: ignore[union-attr]
                       PushNotification.next_attempt_at <= now))  # type: ignore[operator]
            .order_by(PushNotification.id).limit(limit)  # type: ignore[arg-type]
            .execution_options(populate_existing=True))
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return list((await session.exec(stmt)).all())


async def by_ids(session: AsyncSession, ids: list[int]) -> list[PushNotification]:
    stmt = (select(PushNotification).where(PushNotification.id.in_(ids))  # type: ignore[union-attr]
            .execution_options(populate_existing=True))
    return list((await session.exec(stmt)).all())


async def abandon_stale_sends(session: AsyncSession, claimed_before: datetime) -> int:
    """Rows left 'sending' by a sender that died: FCM may or may not have them. Never resent."""
    result = await session.exec(update(PushNotification).where(  # type: ignore[call-overload]
        PushNotification.state == "sending", PushNotification.claimed_at < claimed_before)  # type: ignore[operator]
        .values(state="unknown", last_error="sender stopped mid-send"))
    return result.rowcount or 0


async def deactivate_device(session: AsyncSession, device_id: int, reason: str, now: datetime) -> None:
    await session.exec(update(Device).where(Device.id == device_id, Device.active.is_(True))  # type: ignore[call-overload, attr-defined]
                       .values(active=False, deactivated_at=now, deactivated_reason=reason))


async def notifications(session: AsyncSession, *, user_id: int | None = None, work_order_id: int | None = None,
                        limit: int = 50, offset: int = 0) -> tuple[list[PushNotification], int]:
    stmt = select(PushNotification)
    if user_id is not None:
        stmt = stmt.where(PushNotification.user_id == user_id)
    if work_order_id is not None:
        stmt = stmt.where(PushNotification.work_order_id == work_order_id)
    rows = list((await session.exec(stmt.order_by(PushNotification.id.desc())  # type: ignore[union-attr]
                                    .limit(limit).offset(offset))).all())
    total = (await session.exec(sa_select(func.count()).select_from(stmt.subquery()))).scalar_one()  # type: ignore[call-overload]
    return rows, total


async def deactivate_stale(session: AsyncSession, seen_before: datetime, now: datetime) -> int:
    result = await session.exec(update(Device).where(  # type: ignore[call-overload]
        Device.active.is_(True), Device.last_seen_at < seen_before)  # type: ignore[attr-defined, operator]
        .values(active=False, deactivated_at=now, deactivated_reason="stale"))
    return result.rowcount or 0


async def appointments(session: AsyncSession, work_order_ids: list[int]) -> dict[int, tuple[str, int | None,
                                                                                            datetime | None]]:
    """(state, engineer, appointment) of each order, read fresh: what a reminder is checked against."""
    if not work_order_ids:
        return {}
    stmt = sa_select(WorkOrder.id, WorkOrder.state, WorkOrder.engineer_id, WorkOrder.appointment_at).where(
        WorkOrder.id.in_(sorted(set(work_order_ids))))  # type: ignore[union-attr]
    return {row[0]: (row[1], row[2], row[3]) for row in (await session.exec(stmt)).all()}  # type: ignore[call-overload]


@dataclass(frozen=True, slots=True)
class Scheduled:
    id: int
    user_id: int
    state: str
    data: dict[str, Any]


_P = PushNotification.__table__  # type: ignore[attr-defined]
_SCHEDULED = Statement(sa_select(_P.c.id, _P.c.user_id, _P.c.state, _P.c.data)
                       .where(_P.c.work_order_id == bindparam("work_order_id"), _P.c.kind == bindparam("kind"),
                              or_(_P.c.state == "pending", _P.c.state == "no_device"))  # no IN: see Statement
                       .order_by(_P.c.id))
_SUPERSEDE = Statement(update(_P).where(_P.c.id == bindparam("b_id"), _P.c.state == "pending")
                       .values(state="obsolete", last_error="superseded"))


async def scheduled(session: appends.Target, work_order_id: int, kind: str) -> list[Scheduled]:
    """The not-yet-sent rows of one kind about one order (pending, or on record for a user
    without a device): what a newer schedule supersedes or keeps. Plain values."""
    await appends.flush(session, PushNotification)  # rows queued in this transaction count too
    return [Scheduled(*row) for row in await _SCHEDULED.all(session, work_order_id=work_order_id, kind=kind)]


async def supersede(session: Executor, notification_id: int) -> None:
    """A pending row a newer schedule replaces: ``obsolete``, never sent."""
    await _SUPERSEDE.rowcount(session, b_id=notification_id)
