"""Console routes of the reports (mounted at /api/console/v1/reports): start a report job, follow
its progress, read it as JSON for the charts, download it as CSV or XLSX. Thin: parse, call, map."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from backend.domain.actors import Role
from backend.services import reports, reports_export
from backend.web.auth import require_principal
from backend.web.requests import StrictModel, path_int, query_model, read_json
from backend.web.responses import json_response

READERS = (Role.AGENT, Role.SUPERVISOR, Role.ADMIN, Role.SERVICE_MANAGER)


class ReportIn(StrictModel):
    report: str = Field(max_length=32)
    period: str = Field(max_length=10)


class DownloadQuery(StrictModel):
    format: Literal["csv", "xlsx"] = "csv"


async def start(request: Request) -> Response:
    principal = await require_principal(request, *READERS)
    body = await read_json(request, ReportIn)
    async with request.app.state.uows() as uow:
        job = await reports.request_report(uow, principal, body.report, body.period)
        await uow.commit()
    return json_response(job, status_code=202, headers={"Location": f"/api/console/v1/reports/jobs/{job.id}"})


async def status(request: Request) -> Response:
    await require_principal(request, *READERS)
    async with request.app.state.uows() as uow:
        return json_response(await reports.get_job(uow, path_int(request, "id")))


async def data(request: Request) -> Response:
    await require_principal(request, *READERS)
    async with request.app.state.uows() as uow:
        job, table = await reports.result(uow, path_int(request, "id"))
    return json_response({"job": job, "columns": table.columns, "rows": table.rows, "totals": table.totals,
                          "chart": reports.chart_data(job.report, table)})


async def download(request: Request) -> Response:
    await require_principal(request, *READERS)
    q = query_model(request, DownloadQuery)
    async with request.app.state.uows() as uow:
        job, table = await reports.result(uow, path_int(request, "id"))
    if q.format == "xlsx":
        body, media = reports_export.to_xlsx(table, job.report), reports_export.XLSX_TYPE
    else:
        body, media = reports_export.to_csv(table), reports_export.CSV_TYPE
    name = reports_export.filename(job.report, job.period, q.format)
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


routes = [
    Route("/jobs", start, methods=["POST"]),
    Route("/jobs/{id:int}", status, methods=["GET"]),
    Route("/jobs/{id:int}/data", data, methods=["GET"]),
    Route("/jobs/{id:int}/download", download, methods=["GET"]),
]
