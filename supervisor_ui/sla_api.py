"""Console routes of the service rules (mounted at /api/console/v1/sla): the live alert list (open
breaches, deadlines about to fall due, with the time left), breach history, escalation tasks, the
policy table, the follow-up work list and results, the daily clearing. Thin: parse, call, map."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from backend.domain.actors import Principal, Role
from backend.domain.sla.policy import ANY, PolicyEntry
from backend.services import clearing, follow_ups, sla_alerts, sla_policies
from backend.web.auth import require_principal
from backend.web.requests import StrictModel, path_int, query_model, read_json
from backend.web.responses import json_response

CONSOLE = (Role.AGENT, Role.SUPERVISOR, Role.ADMIN)
WATCHERS = (*CONSOLE, Role.SERVICE_MANAGER, Role.WALLBOARD)


def _region(principal: Principal, asked: int | None) -> int | None:
    """Service managers see their own region only."""
    return principal.region_id if principal.role is Role.SERVICE_MANAGER else asked


class AlertsQuery(StrictModel):
    margin_s: int | None = Field(default=None, ge=0, le=7 * 86400)
    region_id: int | None = None


class Page(StrictModel):
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0)


class BreachQuery(Page):
    open: bool = True
    rule: str | None = None
    since: datetime | None = None


class EscalationQuery(Page):
    state: Literal["open", "done", "resolved"] | None = "open"


class NoteIn(StrictModel):
    note: str = Field(default="", max_length=500)


class PolicyIn(StrictModel):
    rule: str = Field(max_length=48)
    kind: str = Field(default=ANY, max_length=32)
    zone: str = Field(default=ANY, max_length=16)
    seconds: int | None = None
    warn_seconds: int | None = None
    basis: str | None = None
    enabled: bool | None = None
    percent: int | None = None


class PolicyKey(StrictModel):
    rule: str = Field(max_length=48)
    kind: str = Field(default=ANY, max_length=32)
    zone: str = Field(default=ANY, max_length=16)


class FollowUpQuery(Page):
    state: Literal["open", "done", "cancelled"] = "open"
    region_id: int | None = None


class FollowUpResultIn(StrictModel):
    reachable: bool
    satisfaction: int | None = None
    resolved: bool | None = None
    note: str = Field(default="", max_length=2000)


class ClearingQuery(StrictModel):
    day: str | None = Field(default=None, pattern=r"^\d{4}-\d{2}-\d{2}$")


async def alerts(request: Request) -> Response:
    principal = await require_principal(request, *WATCHERS)
    q = query_model(request, AlertsQuery)
    now = request.app.state.clock.now()
    margin = timedelta(seconds=q.margin_s) if q.margin_s is not None else None
    async with request.app.state.uows() as uow:
        found = await sla_alerts.open_alerts(uow, now, margin=margin, region_id=_region(principal, q.region_id))
    return json_response({"now": now, "items": sla_alerts.alert_views(found, now)})


async def breaches(request: Request) -> Response:
    await require_principal(request, *CONSOLE, Role.SERVICE_MANAGER)
    q = query_model(request, BreachQuery)
    async with request.app.state.uows() as uow:
        items, total = await sla_alerts.list_breaches(uow, open_only=q.open, rule=q.rule, since=q.since,
                                                      limit=q.limit, offset=q.offset)
    return json_response({"items": items, "total": total, "limit": q.limit, "offset": q.offset})


async def escalations(request: Request) -> Response:
    await require_principal(request, *CONSOLE)
    q = query_model(request, EscalationQuery)
    async with request.app.state.uows() as uow:
        items, total = await sla_alerts.list_escalations(uow, state=q.state, limit=q.limit, offset=q.offset)
    return json_response({"items": items, "total": total, "limit": q.limit, "offset": q.offset})


async def escalation_done(request: Request) -> Response:
    principal = await require_principal(request, *CONSOLE)
    body = await read_json(request, NoteIn)
    async with request.app.state.uows() as uow:
        view = await sla_alerts.complete_escalation(uow, principal, path_int(request, "id"), body.note)
        await uow.commit()
    return json_response(view)


async def get_policies(request: Request) -> Response:
    await require_principal(request, *CONSOLE, Role.SERVICE_MANAGER)
    async with request.app.state.uows() as uow:
        return json_response(await sla_policies.describe(uow))


async def put_policy(request: Request) -> Response:
    principal = await require_principal(request, Role.SUPERVISOR, Role.ADMIN)
    body = await read_json(request, PolicyIn)
    async with request.app.state.uows() as uow:
        table = await sla_policies.put_override(uow, principal, PolicyEntry(**body.model_dump()))
        await uow.commit()
    return json_response(table)


async def delete_policy(request: Request) -> Response:
    principal = await require_principal(request, Role.SUPERVISOR, Role.ADMIN)
    q = query_model(request, PolicyKey)
    async with request.app.state.uows() as uow:
        table = await sla_policies.delete_override(uow, principal, q.rule, q.kind, q.zone)
        await uow.commit()
    return json_response(table)


async def follow_up_list(request: Request) -> Response:
    principal = await require_principal(request, *CONSOLE, Role.SERVICE_MANAGER)
    q = query_model(request, FollowUpQuery)
    async with request.app.state.uows() as uow:
        items, total = await follow_ups.work_list(uow, state=q.state, region_id=_region(principal, q.region_id),
                                                  limit=q.limit, offset=q.offset)
    return json_response({"items": items, "total": total, "limit": q.limit, "offset": q.offset})


async def follow_up_result(request: Request) -> Response:
    principal = await require_principal(request, *CONSOLE)
    body = await read_json(request, FollowUpResultIn)
    async with request.app.state.uows() as uow:
        view = await follow_ups.record_result(uow, principal, path_int(request, "id"), **body.model_dump())
        await uow.commit()
    return json_response(view)


async def daily_clearing(request: Request) -> Response:
    await require_principal(request, *CONSOLE, Role.SERVICE_MANAGER)
    q = query_model(request, ClearingQuery)
    async with request.app.state.uows() as uow:
        return json_response(await clearing.view(uow, q.day))


routes = [
    Route("/alerts", alerts, methods=["GET"]),
    Route("/breaches", breaches, methods=["GET"]),
    Route("/escalations", escalations, methods=["GET"]),
    Route("/escalations/{id:int}/done", escalation_done, methods=["POST"]),
    Route("/policies", get_policies, methods=["GET"]),
    Route("/policies", put_policy, methods=["PUT"]),
    Route("/policies", delete_policy, methods=["DELETE"]),
    Route("/follow-ups", follow_up_list, methods=["GET"]),
    Route("/follow-ups/{id:int}/result", follow_up_result, methods=["POST"]),
    Route("/clearing", daily_clearing, methods=["GET"]),
]
