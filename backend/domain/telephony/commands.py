"""Normalized telephony commands: what the AMI client, the webhook and the simulator all turn
their input into. ``event_id`` is unique per source (duplicates are ignored); ``at`` is when it
happened at the PBX."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    event_id: str
    at: datetime


# --- calls ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class JoinQueue(Command):
    call_id: str
    queue: str
    caller: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class RingAgent(Command):
    call_id: str
    interface: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RingNoAnswer(Command):
    call_id: str
    interface: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerCall(Command):
    call_id: str
    interface: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AbandonCall(Command):
    call_id: str
    timeout: bool = False  # the queue gave up (timeout, empty, withdrawn), not the caller


@dataclass(frozen=True, slots=True, kw_only=True)
class LeaveQueue(Command):
    """Left the queue; if no answer follows, it exited unanswered (e.g. an exit key)."""

    call_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EndCall(Command):
    call_id: str
    reason: str = ""  # caller | agent | transfer | ...
    wrap_up: bool = True  # the agent goes to wrap-up (False: the call is handled at once)


# --- agents --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentLogin(Command):
    interface: str
    name: str = ""
    queues: tuple[str, ...] = ()
    username: str | None = None  # links the agent to a Fieldline user
    paused_reason: str | None = None  # logged in paused


@dataclass(frozen=True, slots=True, kw_only=True)
class AgentLogout(Command):
    interface: str
    queue: str | None = None  # None: every queue


@dataclass(frozen=True, slots=True, kw_only=True)
class PauseAgent(Command):
    interface: str
    reason: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class UnpauseAgent(Command):
    interface: str


@dataclass(frozen=True, slots=True, kw_only=True)
class EndWrapUp(Command):
    interface: str


# --- reconciliation -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WaitingEntry:
    call_id: str
    queue: str
    caller: str
    wait_s: float


@dataclass(frozen=True, slots=True)
class Membership:
    interface: str
    queue: str
    name: str = ""
    paused: bool = False
    reason: str = ""
    in_call: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class PbxSnapshot(Command):
    """What the PBX says is true now (QueueStatus): callers waiting and queue members. Calls and
    agents we believe active but the PBX no longer knows are closed as lost / logged out."""

    entries: tuple[WaitingEntry, ...] = ()
    members: tuple[Membership, ...] = ()
    queues: tuple[str, ...] = field(default=())  # the queues the snapshot covers (empty: all)


CALL_COMMANDS = (JoinQueue, RingAgent, RingNoAnswer, AnswerCall, AbandonCall, LeaveQueue, EndCall)
AGENT_COMMANDS = (AgentLogin, AgentLogout, PauseAgent, UnpauseAgent, EndWrapUp)


def interfaces_of(command: Command) -> tuple[str, ...]:
    """The agent interfaces a command touches (so the caller can load or create them)."""
    if isinstance(command, PbxSnapshot):
        return tuple(sorted({m.interface for m in command.members}))
    interface = getattr(command, "interface", None)
    return (interface,) if interface else ()
