"""The call state machine: waiting → talking → wrap-up → handled, or waiting → abandoned /
timed out / exited / lost. Each function returns the new call or raises ``errors.Conflict``
with a stable code; a transition that changes nothing returns the call itself."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from backend import errors
from backend.domain.telephony.model import Call, CallState


def _refuse(call: Call, what: str) -> errors.Conflict:
    return errors.Conflict("call-transition-refused", f"call {call.call_id} is {call.state}: cannot {what}",
                           call_id=call.call_id, state=str(call.state))


def join(call_id: str, queue: str, caller: str, at: datetime) -> Call:
    return Call(call_id=call_id, queue=queue, caller=caller, joined_at=at)


def ring(call: Call, agent_id: int) -> Call:
    if call.state is not CallState.WAITING:
        raise _refuse(call, "ring an agent")
    if agent_id in call.ringing:
        return call
    return replace(call, ringing=tuple(sorted((*call.ringing, agent_id))))


def stop_ringing(call: Call, agent_id: int) -> Call:
    if agent_id not in call.ringing:
        return call
    return replace(call, ringing=tuple(a for a in call.ringing if a != agent_id))


def answer(call: Call, agent_id: int, at: datetime) -> Call:
    # EXITED is allowed: the PBX reports "left the queue" just before "agent connected".
    if call.state not in (CallState.WAITING, CallState.EXITED):
        raise _refuse(call, "answer")
    return replace(call, state=CallState.TALKING, agent_id=agent_id, answered_at=at,
                   left_at=call.left_at if call.state is CallState.EXITED else at, ringing=())


def abandon(call: Call, at: datetime, *, timeout: bool = False) -> Call:
    if call.state is not CallState.WAITING:
        raise _refuse(call, "abandon")
    return replace(call, state=CallState.TIMED_OUT if timeout else CallState.ABANDONED, left_at=at, ringing=())


def leave(call: Call, at: datetime) -> Call:
    """Left the queue. After an answer or an abandon this is the PBX's echo: nothing changes."""
    if call.state is not CallState.WAITING:
        return call
    return replace(call, state=CallState.EXITED, left_at=at, ringing=())


def end(call: Call, at: datetime, *, reason: str = "", wrap_up: bool = True) -> Call:
    if call.state is not CallState.TALKING:
        raise _refuse(call, "end")
    if wrap_up:
        return replace(call, state=CallState.WRAP_UP, ended_at=at, end_reason=reason or None)
    return replace(call, state=CallState.HANDLED, ended_at=at, handled_at=at, end_reason=reason or None)


def finish_wrap_up(call: Call, at: datetime) -> Call:
    if call.state is not CallState.WRAP_UP:
        return call
    return replace(call, state=CallState.HANDLED, handled_at=at)


def lose(call: Call, at: datetime) -> Call:
    """The PBX no longer knows the call (it restarted): close it with what we know."""
    if call.state is CallState.WAITING:
        return replace(call, state=CallState.LOST, left_at=at, ringing=(), end_reason="lost")
    if call.state is CallState.TALKING:
        return replace(call, state=CallState.HANDLED, ended_at=at, handled_at=at, end_reason="lost")
    if call.state is CallState.WRAP_UP:
        return replace(call, state=CallState.HANDLED, handled_at=at)
    return call
