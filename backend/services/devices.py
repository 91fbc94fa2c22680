"""Phones and their push tokens: register (a token seen again moves to whoever registers it now),
refresh (new token or app version, last seen), remove. Several devices per user. A device is never
deleted, only deactivated, so the pushes sent to it stay explained. Never commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from backend import errors
from backend.domain.actors import FIELD_ROLES, Principal
from backend.persistence.repositories import push as repo
from backend.persistence.tables_mobile import Device
from backend.services.uow import UnitOfWork


@dataclass(frozen=True)
class DeviceView:
    id: int
    platform: str
    app_version: str
    token_suffix: str
    active: bool
    created_at: datetime
    last_seen_at: datetime
    deactivated_at: datetime | None
    deactivated_reason: str | None


def view_of(row: Device) -> DeviceView:
    return DeviceView(id=row.id or 0, platform=row.platform, app_version=row.app_version,
                      token_suffix=row.token[-8:], active=row.active, created_at=row.created_at,
                      last_seen_at=row.last_seen_at, deactivated_at=row.deactivated_at,
                      deactivated_reason=row.deactivated_reason)


def _check(actor: Principal) -> int:
    if actor.role not in FIELD_ROLES or actor.user_id is None:
        raise errors.Forbidden("role-not-allowed", "devices belong to engineers and service managers")
    return actor.user_id


async def register(uow: UnitOfWork, actor: Principal, token: str, platform: str, app_version: str = "") -> DeviceView:
    user_id, now = _check(actor), uow.now()
    row = await repo.device_by_token(uow.session, token)
    if row is None:
        row = Device(user_id=user_id, token=token, platform=platform, app_version=app_version, created_at=now,
                     last_seen_at=now)
    else:  # the same phone again, or handed to a colleague: the token follows whoever registers it
        row.user_id, row.platform, row.app_version, row.last_seen_at = user_id, platform, app_version, now
        row.active, row.deactivated_at, row.deactivated_reason = True, None, None
    repo.add(uow.session, row)
    await uow.session.flush()
    uow.audit(actor, "device.registered", "device", row.id, platform=platform)
    return view_of(row)


async def _own(uow: UnitOfWork, actor: Principal, device_id: int) -> Device:
    user_id = _check(actor)
    row = await repo.device(uow.session, device_id)
    if row is None or row.user_id != user_id:
        raise errors.NotFound("device-not-found", f"no device {device_id}")
    return row


async def refresh(uow: UnitOfWork, actor: Principal, device_id: int, token: str | None = None,
                  app_version: str | None = None) -> DeviceView:
    row = await _own(uow, actor, device_id)
    if token is not None and token != row.token:
        other = await repo.device_by_token(uow.session, token)
        if other is not None and other.id != row.id:
            raise errors.Conflict("token-registered-elsewhere", "this token belongs to another device record")
        row.token = token
    if app_version is not None:
        row.app_version = app_version
    row.last_seen_at, row.active, row.deactivated_at, row.deactivated_reason = uow.now(), True, None, None
    repo.add(uow.session, row)
    await uow.session.flush()
    return view_of(row)


async def remove(uow: UnitOfWork, actor: Principal, device_id: int) -> DeviceView:
    row = await _own(uow, actor, device_id)
    if row.active:
        row.active, row.deactivated_at, row.deactivated_reason = False, uow.now(), "removed"
        repo.add(uow.session, row)
        await uow.session.flush()
        uow.audit(actor, "device.removed", "device", row.id)
    return view_of(row)


async def list_devices(uow: UnitOfWork, actor: Principal) -> list[DeviceView]:
    return [view_of(r) for r in await repo.devices_of(uow.session, _check(actor))]


async def deactivate_stale(uow: UnitOfWork, now: datetime, unseen_for: timedelta = timedelta(days=60)) -> int:
    """Tokens not refreshed for two months are stale (Firebase's token-freshness advice)."""
    return await repo.deactivate_stale(uow.session, now - unseen_for, now)
