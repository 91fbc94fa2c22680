"""The console's JSON API (/api/console/v1) for agents and supervisors: thin routes that parse a
typed command, call one service, and map the result. Service managers may read their region."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from backend.domain.actors import Role
from backend.domain.work_orders import commands as c
from backend.domain.work_orders.creation import NewWorkOrder
from backend.services import directory, signatures, views
from backend.services import work_orders as svc
from backend.web.auth import require_principal
from backend.web.requests import path_int, query_model, read_json
from backend.web.responses import etag, if_match_version, json_response
from supervisor_ui import schemas as s

CONSOLE = (Role.AGENT, Role.SUPERVISOR, Role.ADMIN)
READERS = (*CONSOLE, Role.SERVICE_MANAGER)


def _listify(value: list[str] | str | None) -> list[str] | None:
    if value is None:
        return None
    return value if isinstance(value, list) else [v for v in value.split(",") if v]


async def list_work_orders(request: Request) -> Response:
    principal = await require_principal(request, *READERS)
    q = query_model(request, s.ListQuery)
    async with request.app.state.uows() as uow:
        items, total = await views.list_work_orders(
            uow, principal, states=_listify(q.state), kinds=_listify(q.kind), region_id=q.region_id,
            engineer_id=q.engineer_id, provider_id=q.provider_id, customer_id=q.customer_id, limit=q.limit,
            offset=q.offset)
    return json_response({"items": items, "total": total, "limit": q.limit, "offset": q.offset})


async def create_work_order(request: Request) -> Response:
    principal = await require_principal(request, *CONSOLE)
    body = await read_json(request, s.CreateWorkOrderIn)
    async with request.app.state.uows() as uow:
        order = await svc.create_work_order(uow, principal, NewWorkOrder(**body.model_dump()))
        view = await views.work_order_view(uow, principal, order.id)
        await uow.commit()
    return json_response(view, status_code=201, headers={"ETag": etag(view.version),
                                                          "Location": f"/api/console/v1/work-orders/{view.id}"})


async def get_work_order(request: Request) -> Response:
    principal = await require_principal(request, *READERS)
    order_id = path_int(request, "id")
    async with request.app.state.uows() as uow:
        view = await views.work_order_view(uow, principal, order_id)
        history = await views.work_order_history(uow, principal, order_id)
    return json_response({"work_order": view, "history": history}, headers={"ETag": etag(view.version)})


async def service_report(request: Request) -> Response:
    """The service report PDF, the same document the engineer downloads (a draft marked "not
    signed" until the customer signs, as on the phone)."""
    principal = await require_principal(request, *READERS)
    settings = request.app.state.settings
    async with request.app.state.uows() as uow:
        name, pdf = await signatures.service_report_pdf(uow, principal, path_int(request, "id"), settings.tz,
                                                        settings.pdf_font_file)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


async def suggestions(request: Request) -> Response:
    principal = await require_principal(request, *CONSOLE)
    async with request.app.state.uows() as uow:
        ranked = await directory.suggest_engineers(uow, principal, path_int(request, "id"))
    return json_response({"items": [
        {"engineer_id": r.candidate.engineer_id, "name": r.candidate.name, "region_id": r.candidate.region_id,
         "provider_id": r.candidate.provider_id, "load": r.candidate.load, "score": r.score, "reasons": r.reasons}
        for r in ranked]})


async def screen_pop(request: Request) -> Response:
    await require_principal(request, *CONSOLE)
    q = query_model(request, s.ScreenPopQuery)
    async with request.app.state.uows() as uow:
        pop = await directory.screen_pop(uow, q.phone)
    return json_response(pop)


def _action(schema: type[BaseModel] | None, to_command: Callable[[Any], c.Command]) -> Callable[..., Any]:
    async def endpoint(request: Request) -> Response:
        principal = await require_principal(request, *CONSOLE)
        order_id = path_int(request, "id")
        body = await read_json(request, schema) if schema is not None else None
        expected = if_match_version(request.headers.get("if-match"))
        async with request.app.state.uows() as uow:
            await svc.act(uow, principal, order_id, to_command(body), expected_version=expected)
            view = await views.work_order_view(uow, principal, order_id)
            await uow.commit()
        return json_response(view, headers={"ETag": etag(view.version)})

    return endpoint


ACTIONS: dict[str, tuple[type[BaseModel] | None, Callable[[Any], c.Command]]] = {
    "dispatch": (s.DispatchIn, lambda b: c.Dispatch(engineer_id=b.engineer_id, provider_id=b.provider_id)),
    "urge": (s.UrgeIn, lambda b: c.Urge(by=b.by, note=b.note)),
    "cancel": (s.ReasonIn, lambda b: c.Cancel(reason=b.reason)),
    "approve": (s.NoteIn, lambda b: c.Approve(note=b.note)),
    "void": (s.VoidIn, lambda b: c.Void(reason=b.reason, note=b.note)),
    "follow-up": (s.FollowUpIn, lambda b: c.RecordFollowUp(reachable=b.reachable, satisfaction=b.satisfaction,
                                                            resolved=b.resolved, note=b.note)),
    "close": (None, lambda b: c.Close()),
    "edit": (s.EditIn, lambda b: c.Edit(changes=b.model_dump(exclude_unset=True))),
    "forward": (s.ForwardIn, lambda b: c.Forward(department=b.department, note=b.note)),
    "answer": (s.AnswerIn, lambda b: c.Answer(answer=b.answer)),
    "call-back": (s.CallBackIn, lambda b: c.CallBack(reachable=b.reachable, satisfaction=b.satisfaction,
                                                      note=b.note)),
}

routes = [
    Route("/screen-pop", screen_pop, methods=["GET"]),
    Route("/work-orders", list_work_orders, methods=["GET"]),
    Route("/work-orders", create_work_order, methods=["POST"]),
    Route("/work-orders/{id:int}", get_work_order, methods=["GET"]),
    Route("/work-orders/{id:int}/suggestions", suggestions, methods=["GET"]),
    Route("/work-orders/{id:int}/report.pdf", service_report, methods=["GET"]),
    *[Route(f"/work-orders/{{id:int}}/{name}", _action(schema, make), methods=["POST"], name=f"console-{name}")
      for name, (schema, make) in ACTIONS.items()],
]
