"""Telephony events: each carries the whole record after the change (``call`` or ``agent``), so a
consumer that missed nothing can upsert, and one that applies an event twice changes nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from backend.events.base import Event


class CallFacts(BaseModel):
    """A call-ledger row as it travels (see ``backend.domain.telephony.model.Call``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    call_id: str
    queue: str
    caller: str = ""
    joined_at: datetime
    state: str
    ringing: list[int] = []
    agent_id: int | None = None
    answered_at: datetime | None = None
    left_at: datetime | None = None
    ended_at: datetime | None = None
    handled_at: datetime | None = None
    end_reason: str | None = None


class AgentFacts(BaseModel):
    """An agent row as it travels (see ``backend.domain.telephony.model.Agent``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: int
    interface: str
    name: str
    user_id: int | None = None
    presence: str
    reason: str | None = None
    activity: str
    call_id: str | None = None
    queues: list[str] = []
    state: str
    since: datetime


class QueueFacts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    code: str
    name: str
    line: str
    sl_threshold_s: int
    sl_formula: str


class CallEvent(Event):
    call: CallFacts

    @property
    def key(self) -> str:
        return f"call:{self.call.call_id}"[:64]


class CallJoined(CallEvent):
    type: Literal["CallJoined"] = "CallJoined"


class CallRinging(CallEvent):
    """The set of agents being rung changed (an agent rung, or one stopped ringing)."""

    type: Literal["CallRinging"] = "CallRinging"


class CallAnswered(CallEvent):
    type: Literal["CallAnswered"] = "CallAnswered"


class CallAbandoned(CallEvent):
    """The caller hung up while waiting (``call.state`` ``abandoned``) or the queue gave up
    (``timed_out``)."""

    type: Literal["CallAbandoned"] = "CallAbandoned"


class CallExited(CallEvent):
    type: Literal["CallExited"] = "CallExited"


class CallEnded(CallEvent):
    type: Literal["CallEnded"] = "CallEnded"


class CallHandled(CallEvent):
    """Wrap-up finished: handling time is known."""

    type: Literal["CallHandled"] = "CallHandled"


class CallLost(CallEvent):
    """The PBX no longer knows the call (it restarted); closed with what we knew."""

    type: Literal["CallLost"] = "CallLost"


class AgentStateChanged(Event):
    type: Literal["AgentStateChanged"] = "AgentStateChanged"
    agent: AgentFacts
    previous_state: str | None = None

    @property
    def key(self) -> str:
        return f"agent:{self.agent.id}"


class QueueConfigured(Event):
    """A queue appeared (first seen from the PBX) or its settings changed."""

    type: Literal["QueueConfigured"] = "QueueConfigured"
    queue: QueueFacts

    @property
    def key(self) -> str:
        return f"queue:{self.queue.code}"[:64]
