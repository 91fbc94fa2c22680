"""Device (push token) and notification routes of the mobile API. Thin: parse, call one service,
render. Register, refresh and remove carry an Idempotency-Key like every change."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from backend.domain.actors import Principal
from backend.domain.mobile.idempotency import StoredResponse
from backend.services import devices, mobile_notifications
from backend.services.uow import UnitOfWork
from backend.web.auth import require_principal
from backend.web.requests import query_model
from mobile_api import idempotent
from mobile_api import schemas as s
from mobile_api.body import read_model
from mobile_api.render import dump
from mobile_api.work_orders import FIELD, json_text, path_id


async def _mutate(request: Request, principal: Principal, key: str, body: Any,
                  call: Callable[[UnitOfWork], Awaitable[Any]], status: int = 200) -> Response:
    async def perform(uow: UnitOfWork) -> StoredResponse:
        return idempotent.ok(await call(uow), status=status)

    fp = idempotent.body_fingerprint(request.method, request.url.path, body)
    stored, replayed = await idempotent.run(request, principal, key, fp, perform)
    return idempotent.respond(stored, replayed)


@idempotent.mutating(*FIELD)
async def register_device(request: Request, principal: Principal) -> Response:
    key = idempotent.request_key(request)
    body = await read_model(request, s.DeviceIn)
    return await _mutate(request, principal, key, body, lambda uow: devices.register(
        uow, principal, body.token, body.platform, body.app_version), status=201)


@idempotent.mutating(*FIELD)
async def refresh_device(request: Request, principal: Principal) -> Response:
    key = idempotent.request_key(request)
    body = await read_model(request, s.DeviceUpdateIn)
    device_id = path_id(request, "device_id")
    return await _mutate(request, principal, key, body, lambda uow: devices.refresh(
        uow, principal, device_id, body.token, body.app_version))


@idempotent.mutating(*FIELD)
async def remove_device(request: Request, principal: Principal) -> Response:
    key = idempotent.request_key(request)
    device_id = path_id(request, "device_id")
    return await _mutate(request, principal, key, None, lambda uow: devices.remove(uow, principal, device_id))


async def list_devices(request: Request) -> Response:
    principal = await require_principal(request, *FIELD)
    async with request.app.state.uows() as uow:
        items = await devices.list_devices(uow, principal)
    return json_text(dump({"items": items}))


async def _notifications(request: Request, work_order_id: int | None) -> Response:
    principal = await require_principal(request, *FIELD)
    q = query_model(request, s.PageQuery)
    async with request.app.state.uows() as uow:
        items, total = await mobile_notifications.list_notifications(
            uow, principal, work_order_id=work_order_id, limit=q.limit, offset=q.offset)
    return json_text(dump({"items": items, "total": total, "limit": q.limit, "offset": q.offset}))


async def my_notifications(request: Request) -> Response:
    return await _notifications(request, None)


async def order_notifications(request: Request) -> Response:
    return await _notifications(request, path_id(request))
