"""Work-order routes of the mobile API: list (cheap re-poll with ETag / If-None-Match), detail,
the action log, and one route per engineer action (Idempotency-Key required, If-Match honoured).
Thin: parse, call one service, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from backend import errors
from backend.domain.actors import Principal, Role
from backend.domain.mobile.geo import CheckIn, Position
from backend.domain.mobile.idempotency import StoredResponse
from backend.domain.work_orders import commands as c
from backend.services import mobile, mobile_views
from backend.services.uow import UnitOfWork
from backend.web.auth import require_principal
from backend.web.requests import path_int, query_model
from backend.web.responses import etag, if_match_version
from mobile_api import idempotent
from mobile_api import responses as r
from mobile_api import schemas as s
from mobile_api.body import read_model
from mobile_api.render import dump

FIELD = (Role.ENGINEER, Role.SERVICE_MANAGER)


def path_id(request: Request, name: str = "id") -> int:
    """A path id within the database's integer range; anything else names nothing (404)."""
    value = path_int(request, name)
    if not 1 <= value <= 2**31 - 1:
        raise errors.NotFound(message=f"no such {name}")
    return value


def not_modified(request: Request, tag: str) -> bool:
    header = request.headers.get("if-none-match")
    if header is None:
        return False
    if header.strip() == "*":
        return True
    return any(t.strip().removeprefix("W/") == tag for t in header.split(","))


def json_text(body: str, tag: str | None = None, status: int = 200) -> Response:
    headers = {"ETag": tag, "Cache-Control": "private, no-cache"} if tag else None
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def _listify(value: str | None) -> list[str] | None:
    return None if value is None else [v.strip() for v in value.split(",") if v.strip()]


async def list_work_orders(request: Request) -> Response:
    principal = await require_principal(request, *FIELD)
    q = query_model(request, s.ListQuery)
    async with request.app.state.uows() as uow:
        items, total = await mobile_views.list_mine(uow, principal, scope=q.scope, states=_listify(q.state),
                                                    kinds=_listify(q.kind), limit=q.limit, offset=q.offset)
    tag = mobile_views.list_etag(items, total, q.scope, q.limit, q.offset)
    if not_modified(request, tag):
        return Response(status_code=304, headers={"ETag": tag})
    return json_text(dump(r.WorkOrderListOut(items=items, total=total, limit=q.limit, offset=q.offset)), tag)


async def get_work_order(request: Request) -> Response:
    principal = await require_principal(request, *FIELD)
    async with request.app.state.uows() as uow:
        detail = await mobile_views.detail(uow, principal, path_id(request))
    tag = etag(detail.work_order.version)
    if not_modified(request, tag):
        return Response(status_code=304, headers={"ETag": tag})
    return json_text(dump(detail), tag)


async def list_check_ins(request: Request) -> Response:
    principal = await require_principal(request, *FIELD)
    async with request.app.state.uows() as uow:
        records = await mobile_views.check_ins(uow, principal, path_id(request))
    return json_text(dump({"items": records}))


# --- actions ---------------------------------------------------------------------------------

def position(p: s.PositionIn | None) -> Position | None:
    return Position(lat=p.lat, lon=p.lon, accuracy_m=p.accuracy_m) if p is not None else None


def check_in_out(check: CheckIn | None) -> r.CheckInOut | None:
    if check is None:
        return None
    return r.CheckInOut(status=check.status.value, distance_m=check.distance_m,  # type: ignore[arg-type]
                        radius_m=check.radius_m, warning=check.warning)


def command_of(name: str, body: Any) -> c.Command | None:
    builders: dict[str, Callable[[Any], c.Command | None]] = {
        "acknowledge": lambda b: c.Acknowledge(),
        "decline": lambda b: c.Decline(reason=b.reason),
        "contact": lambda b: c.ContactCustomer(appointment_at=b.appointment_at),
        "depart": lambda b: c.Depart(),
        "arrive": lambda b: c.Arrive(),
        "hold": lambda b: c.Hold(reason=b.reason, note=b.note),
        "resume": lambda b: c.Resume(),
        "complete": lambda b: c.Complete(report=b.report.model_dump()) if b.report is not None else None,
    }
    return builders[name](body)


def action_request(name: str, body: s.ActionIn, key: str, expected: int | None = None,
                   seq: int | None = None) -> mobile.ActionRequest:
    return mobile.ActionRequest(
        name=name, command=command_of(name, body), occurred_at=body.occurred_at,
        queued_offline=body.queued_offline, position=position(getattr(body, "position", None)),
        idempotency_key=key, client_seq=seq, expected_version=expected)


def performer(policy: mobile.MobilePolicy, principal: Principal, order_id: int,
              request: mobile.ActionRequest) -> idempotent.Perform:
    async def perform(uow: UnitOfWork) -> StoredResponse:
        result = await mobile.perform(uow, policy, principal, order_id, request)
        out = r.ActionOut(outcome=result.outcome.value, occurred_at=result.occurred_at,  # type: ignore[arg-type]
                          received_at=result.received_at, check_in=check_in_out(result.check_in),
                          work_order=await mobile_views.summary_of(uow, result.order, principal))
        return idempotent.ok(out, headers={"ETag": etag(result.order.version)})

    return perform


def action_route(name: str) -> Callable[[Request], Any]:
    schema = s.ACTION_SCHEMAS[name]

    @idempotent.mutating(Role.ENGINEER)
    async def endpoint(request: Request, principal: Principal) -> Response:
        key = idempotent.request_key(request)
        body = await read_model(request, schema)
        order_id = path_id(request)
        if_match = request.headers.get("if-match")
        expected = if_match_version(if_match)
        fp = idempotent.body_fingerprint(request.method, request.url.path, body, if_match)
        policy = mobile.MobilePolicy.of(request.app.state.settings)
        perform = performer(policy, principal, order_id, action_request(name, body, key, expected))
        stored, replayed = await idempotent.run(request, principal, key, fp, perform)
        return idempotent.respond(stored, replayed)

    endpoint.__name__ = f"{name}_work_order"
    return endpoint
