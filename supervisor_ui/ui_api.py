"""JSON routes the pages need beyond the console API (/api/ui/v1): wallboard thresholds per queue
and metric (read by wallboards, changed by supervisors), the directory labels, the abandoned
callers to call back and the intraday calls per 15 minutes. Thin routes."""

from __future__ import annotations

from datetime import UTC, date, datetime

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from backend.domain.actors import Role
from backend.domain.telephony.day import day_start, next_day_start
from backend.services import wallboard_settings as svc
from backend.web.auth import require_principal
from backend.web.requests import StrictModel, query_model, read_json
from backend.web.responses import json_response

VIEWERS = (Role.WALLBOARD, Role.SUPERVISOR, Role.ADMIN, Role.AGENT)


class ThresholdIn(StrictModel):
    amber: float = Field(ge=0, le=1_000_000, allow_inf_nan=False)
    red: float = Field(ge=0, le=1_000_000, allow_inf_nan=False)


async def list_thresholds(request: Request) -> Response:
    await require_principal(request, *VIEWERS)
    async with request.app.state.uows() as uow:
        items = await svc.list_thresholds(uow)
    return json_response({"metrics": svc.metric_specs(), "items": items})


async def put_threshold(request: Request) -> Response:
    principal = await require_principal(request, Role.SUPERVISOR, Role.ADMIN)
    body = await read_json(request, ThresholdIn)
    queue, metric = request.path_params["queue"], request.path_params["metric"]
    async with request.app.state.uows() as uow:
        view = await svc.set_threshold(uow, principal, queue, metric, body.amber, body.red)
        await uow.commit()
    return json_response(view)


async def delete_threshold(request: Request) -> Response:
    principal = await require_principal(request, Role.SUPERVISOR, Role.ADMIN)
    async with request.app.state.uows() as uow:
        await svc.reset_threshold(uow, principal, request.path_params["queue"], request.path_params["metric"])
        await uow.commit()
    return Response(status_code=204)


async def directory(request: Request) -> Response:
    await require_principal(request, *VIEWERS)
    async with request.app.state.uows() as uow:
        labels = await svc.directory_labels(uow)
    return json_response(labels, headers={"Cache-Control": "private, max-age=60"})


async def call_backs(request: Request) -> Response:
    """Today's abandoned callers still to call back (the statistics day of the wallboard)."""
    await require_principal(request, Role.AGENT, Role.SUPERVISOR, Role.ADMIN)
    settings = request.app.state.settings
    async with request.app.state.uows() as uow:
        since = day_start(uow.now(), settings.tz, settings.stats_day_start)
        items = await svc.call_backs(uow, since)
    return json_response({"since": since, "items": items})


class DayQuery(StrictModel):
    day: date | None = None  # local date; default today


async def intraday_calls(request: Request) -> Response:
    """Offered / answered / abandoned per 15 minutes over one statistics day (the reports page)."""
    await require_principal(request, Role.SUPERVISOR, Role.ADMIN)
    q = query_model(request, DayQuery)
    settings = request.app.state.settings
    async with request.app.state.uows() as uow:
        if q.day is None:
            start = day_start(uow.now(), settings.tz, settings.stats_day_start)
        else:
            start = datetime.combine(q.day, settings.stats_day_start, tzinfo=settings.tz).astimezone(UTC)
        end = next_day_start(start, settings.tz, settings.stats_day_start)
        items = await svc.intraday_calls(uow, start, end)
    return json_response({"start": start, "end": end, "minutes": 15, "items": items})


routes = [
    Route("/thresholds", list_thresholds, methods=["GET"]),
    Route("/thresholds/{queue}/{metric}", put_threshold, methods=["PUT"]),
    Route("/thresholds/{queue}/{metric}", delete_threshold, methods=["DELETE"]),
    Route("/directory", directory, methods=["GET"]),
    Route("/call-backs", call_backs, methods=["GET"]),
    Route("/intraday-calls", intraday_calls, methods=["GET"]),
]
