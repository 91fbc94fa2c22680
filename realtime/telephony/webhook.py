"""The signed telephony webhook (``POST /api/telephony/v1/events``) for any PBX or CTI that is not
Asterisk: verify the HMAC-SHA256 signature over ``timestamp + "." + body`` and the replay window,
parse the strict event schema (docs/telephony.md), ingest in one unit of work. Duplicates (by
event id) are counted, not applied."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Union

from pydantic import AwareDatetime, Field, StringConstraints
from starlette.requests import Request
from starlette.responses import Response

from backend import errors
from backend.domain.telephony import commands as c
from backend.services import telephony
from backend.web.requests import StrictModel, parse_model, read_body
from backend.web.responses import json_response

MAX_EVENTS = 500
CallId = Annotated[str, StringConstraints(min_length=1, max_length=64)]
QueueCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.\-]{1,32}$")]
Interface = Annotated[str, StringConstraints(min_length=1, max_length=128)]


class _Event(StrictModel):
    id: str = Field(min_length=1, max_length=128)
    at: AwareDatetime


class CallJoinedIn(_Event):
    type: Literal["call.joined"]
    call_id: CallId
    queue: QueueCode
    caller: str = Field(default="", max_length=64)


class CallRingingIn(_Event):
    type: Literal["call.ringing"]
    call_id: CallId
    agent: Interface


class CallRingNoAnswerIn(_Event):
    type: Literal["call.ring_no_answer"]
    call_id: CallId
    agent: Interface


class CallAnsweredIn(_Event):
    type: Literal["call.answered"]
    call_id: CallId
    agent: Interface


class CallAbandonedIn(_Event):
    type: Literal["call.abandoned"]
    call_id: CallId
    reason: Literal["caller", "timeout"] = "caller"


class CallLeftIn(_Event):
    type: Literal["call.left"]
    call_id: CallId


class CallEndedIn(_Event):
    type: Literal["call.ended"]
    call_id: CallId
    reason: str = Field(default="", max_length=32)
    wrap_up: bool = True


class AgentLoginIn(_Event):
    type: Literal["agent.login"]
    agent: Interface
    queues: list[QueueCode] = Field(default_factory=list, max_length=64)
    name: str = Field(default="", max_length=100)
    user: str | None = Field(default=None, max_length=64)


class AgentLogoutIn(_Event):
    type: Literal["agent.logout"]
    agent: Interface
    queue: QueueCode | None = None


class AgentPauseIn(_Event):
    type: Literal["agent.pause"]
    agent: Interface
    reason: str = Field(default="", max_length=64)


class AgentUnpauseIn(_Event):
    type: Literal["agent.unpause"]
    agent: Interface


class AgentWrapUpEndedIn(_Event):
    type: Literal["agent.wrap_up_ended"]
    agent: Interface


WebhookEvent = Annotated[Union[CallJoinedIn, CallRingingIn, CallRingNoAnswerIn, CallAnsweredIn,  # noqa: UP007
                               CallAbandonedIn, CallLeftIn, CallEndedIn, AgentLoginIn, AgentLogoutIn, AgentPauseIn,
                               AgentUnpauseIn, AgentWrapUpEndedIn], Field(discriminator="type")]


class EventsIn(StrictModel):
    events: list[WebhookEvent] = Field(min_length=1, max_length=MAX_EVENTS)


def to_command(e: Any) -> c.Command:
    base = {"event_id": e.id, "at": e.at.astimezone(UTC)}
    match e:
        case CallJoinedIn():
            return c.JoinQueue(**base, call_id=e.call_id, queue=e.queue, caller=e.caller)
        case CallRingingIn():
            return c.RingAgent(**base, call_id=e.call_id, interface=e.agent)
        case CallRingNoAnswerIn():
            return c.RingNoAnswer(**base, call_id=e.call_id, interface=e.agent)
        case CallAnsweredIn():
            return c.AnswerCall(**base, call_id=e.call_id, interface=e.agent)
        case CallAbandonedIn():
            return c.AbandonCall(**base, call_id=e.call_id, timeout=e.reason == "timeout")
        case CallLeftIn():
            return c.LeaveQueue(**base, call_id=e.call_id)
        case CallEndedIn():
            return c.EndCall(**base, call_id=e.call_id, reason=e.reason, wrap_up=e.wrap_up)
        case AgentLoginIn():
            return c.AgentLogin(**base, interface=e.agent, name=e.name, queues=tuple(e.queues), username=e.user)
        case AgentLogoutIn():
            return c.AgentLogout(**base, interface=e.agent, queue=e.queue)
        case AgentPauseIn():
            return c.PauseAgent(**base, interface=e.agent, reason=e.reason)
        case AgentUnpauseIn():
            return c.UnpauseAgent(**base, interface=e.agent)
        case AgentWrapUpEndedIn():
            return c.EndWrapUp(**base, interface=e.agent)
    raise TypeError(type(e).__name__)


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, timestamp: str | None, signed: str | None, body: bytes, now: datetime,
           window_s: int) -> None:
    """Raises ``Unauthenticated`` with a stable code; checks the signature before the clock so a
    forger learns nothing about our time."""
    if not timestamp or not signed:
        raise errors.Unauthenticated("signature-missing", "X-Fieldline-Timestamp and X-Fieldline-Signature "
                                                          "are required")
    if not hmac.compare_digest(signature(secret, timestamp, body), signed.strip()):
        raise errors.Unauthenticated("signature-invalid", "the signature does not match the body")
    if not timestamp.isdigit():
        raise errors.Unauthenticated("timestamp-invalid", "X-Fieldline-Timestamp must be Unix seconds")
    age = now.timestamp() - int(timestamp)
    if abs(age) > window_s:
        raise errors.Unauthenticated("timestamp-outside-window", f"the timestamp is {int(age)} s away from now; "
                                     f"at most {window_s} s is accepted", window_s=window_s)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


async def receive_events(request: Request) -> Response:
    state = request.app.state
    settings = state.settings
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise errors.UnsupportedMediaType(message="expected Content-Type: application/json")
    body = await read_body(request, settings.max_body_bytes)
    verify(settings.webhook_secret.get_secret_value(), request.headers.get("x-fieldline-timestamp"),
           request.headers.get("x-fieldline-signature"), body, state.clock.now(), settings.webhook_window_s)
    try:
        data = json.loads(body, parse_constant=_refuse_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise errors.BadRequest("malformed-json", f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise errors.BadRequest("malformed-json", "the body must be a JSON object")
    parsed = parse_model(EventsIn, data)
    commands = [to_command(e) for e in parsed.events]
    async with state.uows() as uow:
        result = await telephony.ingest(uow, commands, source="webhook", config=telephony.stats_config(settings))
        await uow.commit()
    return json_response({"accepted": result.accepted, "duplicates": result.duplicates,
                          "rejected": [{"id": r.event_id, "code": r.code, "message": r.message}
                                       for r in result.rejected]})
