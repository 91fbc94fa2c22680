"""Agent-state routes (``/api/telephony/v1/agents``): an agent sets its own state; supervisors
pause, unpause and log out an agent. Thin: the request goes to the PBX control port (AMI,
simulator, or applied directly) after ``backend.services.telephony`` checked it."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from backend.domain.actors import Role
from backend.domain.telephony import views
from backend.services import telephony
from backend.web.auth import require_principal
from backend.web.requests import StrictModel, path_int, read_json
from backend.web.responses import json_response
from realtime.telephony.control import PbxControl

SUPERVISORS = (Role.SUPERVISOR, Role.ADMIN)
CONSOLE = (Role.AGENT, Role.SUPERVISOR, Role.ADMIN)


class OwnStateIn(StrictModel):
    state: Literal["available", "paused", "logged_out"]
    reason: str = Field(default="", max_length=64)


class PauseIn(StrictModel):
    reason: str = Field(default="", max_length=64)


async def _relay(control: PbxControl, ref: telephony.AgentRef, action: str, reason: str = "") -> None:
    if action == "pause":
        await control.pause(ref.interface, reason)
    elif action == "unpause":
        await control.unpause(ref.interface)
    elif action == "login":
        await control.login(ref.interface, ref.queues)
    else:
        await control.logout(ref.interface, ref.queues)


def _accepted(control: PbxControl, refs: list[telephony.AgentRef]) -> Response:
    return json_response({"agents": [{"agent_id": r.id, "interface": r.interface} for r in refs],
                          "relayed_to": control.name}, status_code=202)


async def my_agents(request: Request) -> Response:
    principal = await require_principal(request, *CONSOLE)
    board = request.app.state.hub.board
    cards = [views.agent_card(board, a) for a in board.agents_of_user(principal.user_id)]
    return json_response({"agents": cards})


async def set_own_state(request: Request) -> Response:
    principal = await require_principal(request, *CONSOLE)
    body = await read_json(request, OwnStateIn)
    async with request.app.state.uows() as uow:
        refs = await telephony.own_agents(uow, principal.user_id)
    plans = [(ref, telephony.plan_own_state(ref, body.state)) for ref in refs]
    control: PbxControl = request.app.state.pbx_control
    for ref, actions in plans:
        for action in actions:
            await _relay(control, ref, action, body.reason)
    return _accepted(control, refs)


def _supervise(action: str) -> object:
    async def endpoint(request: Request) -> Response:
        await require_principal(request, *SUPERVISORS)
        reason = (await read_json(request, PauseIn)).reason if action == "pause" else ""
        async with request.app.state.uows() as uow:
            ref = await telephony.agent_ref(uow, path_int(request, "id"))
        telephony.check_request(ref, action)
        control: PbxControl = request.app.state.pbx_control
        await _relay(control, ref, action, reason)
        return _accepted(control, [ref])

    return endpoint


routes = [
    Route("/agents/me", my_agents, methods=["GET"]),
    Route("/agents/me/state", set_own_state, methods=["POST"]),
    Route("/agents/{id:int}/pause", _supervise("pause"), methods=["POST"]),
    Route("/agents/{id:int}/unpause", _supervise("unpause"), methods=["POST"]),
    Route("/agents/{id:int}/logout", _supervise("logout"), methods=["POST"]),
]
