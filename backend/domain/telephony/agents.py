"""The agent state machine. An agent has a presence (logged out, available, paused with a reason)
and an activity (idle, ringing, on a call, wrap-up); the grid shows one state by precedence:
logged out > on call > ringing > wrap-up > paused > available. ``since`` moves only when the shown
state (or the pause reason) changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from backend import errors
from backend.domain.telephony.model import Activity, Agent, AgentState, Presence


def display_state(presence: Presence, activity: Activity) -> AgentState:
    if presence is Presence.LOGGED_OUT:
        return AgentState.LOGGED_OUT
    if activity is Activity.ON_CALL:
        return AgentState.ON_CALL
    if activity is Activity.RINGING:
        return AgentState.RINGING
    if activity is Activity.WRAP_UP:
        return AgentState.WRAP_UP
    if presence is Presence.PAUSED:
        return AgentState.PAUSED
    return AgentState.AVAILABLE


def new_agent(agent_id: int, interface: str, at: datetime, name: str = "", user_id: int | None = None) -> Agent:
    return Agent(id=agent_id, interface=interface, name=name or interface, since=at, user_id=user_id)


def _with(agent: Agent, at: datetime, **changes: Any) -> Agent:
    updated = replace(agent, **changes)
    state = display_state(updated.presence, updated.activity)
    reason = updated.reason if updated.presence is Presence.PAUSED else None
    moved = state is not agent.state or (state is AgentState.PAUSED and reason != agent.reason)
    return replace(updated, state=state, reason=reason, since=at if moved else agent.since)


def login(agent: Agent, at: datetime, queues: tuple[str, ...] = (), *, name: str = "",
          paused_reason: str | None = None) -> Agent:
    merged = tuple(sorted(set(agent.queues) | set(queues))) if queues or agent.presence is not Presence.LOGGED_OUT \
        else agent.queues
    changes: dict[str, Any] = {"queues": merged, "name": name or agent.name}
    if agent.presence is Presence.LOGGED_OUT:
        changes["presence"] = Presence.PAUSED if paused_reason is not None else Presence.AVAILABLE
        changes["reason"] = paused_reason
        changes["activity"] = Activity.IDLE
        changes["call_id"] = None
    return _with(agent, at, **changes)


def logout(agent: Agent, at: datetime, queue: str | None = None) -> Agent:
    """Out of one queue (``queue``), or of all (None): then the queue list is kept as the agent's
    home queues, where a console log-in puts it back."""
    if queue is not None:
        queues = tuple(q for q in agent.queues if q != queue)
        if queues:
            return _with(agent, at, queues=queues)
        return _with(agent, at, queues=(), presence=Presence.LOGGED_OUT, reason=None, activity=Activity.IDLE,
                     call_id=None)
    return _with(agent, at, presence=Presence.LOGGED_OUT, reason=None, activity=Activity.IDLE, call_id=None)


def _require_logged_in(agent: Agent, what: str) -> None:
    if agent.presence is Presence.LOGGED_OUT:
        raise errors.Conflict("agent-logged-out", f"agent {agent.interface} is logged out: cannot {what}",
                              agent_id=agent.id)


def pause(agent: Agent, at: datetime, reason: str = "") -> Agent:
    _require_logged_in(agent, "pause")
    return _with(agent, at, presence=Presence.PAUSED, reason=reason)


def unpause(agent: Agent, at: datetime) -> Agent:
    _require_logged_in(agent, "unpause")
    return _with(agent, at, presence=Presence.AVAILABLE, reason=None)


def ring(agent: Agent, at: datetime, call_id: str) -> Agent:
    if agent.activity in (Activity.ON_CALL,):
        return agent  # ring-in-use: the grid keeps showing the call in progress
    return _with(agent, at, activity=Activity.RINGING, call_id=call_id)


def stop_ringing(agent: Agent, at: datetime, call_id: str) -> Agent:
    if agent.activity is not Activity.RINGING or agent.call_id != call_id:
        return agent
    return _with(agent, at, activity=Activity.IDLE, call_id=None)


def connect(agent: Agent, at: datetime, call_id: str) -> Agent:
    return _with(agent, at, activity=Activity.ON_CALL, call_id=call_id)


def end_call(agent: Agent, at: datetime, call_id: str, *, wrap_up: bool = True) -> Agent:
    if agent.call_id != call_id or agent.activity is not Activity.ON_CALL:
        return agent
    if wrap_up:
        return _with(agent, at, activity=Activity.WRAP_UP)
    return _with(agent, at, activity=Activity.IDLE, call_id=None)


def end_wrap_up(agent: Agent, at: datetime) -> Agent:
    if agent.activity is not Activity.WRAP_UP:
        return agent
    return _with(agent, at, activity=Activity.IDLE, call_id=None)
