"""Calls, agents and queues as the rules see them: frozen records, their states, and the
service-level formula presets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class CallState(StrEnum):
    WAITING = "waiting"  # in the queue (possibly ringing agents)
    TALKING = "talking"  # answered, talking to an agent
    WRAP_UP = "wrap_up"  # talk ended, the agent is wrapping up
    HANDLED = "handled"  # wrap-up done (final)
    ABANDONED = "abandoned"  # the caller hung up while waiting (final)
    TIMED_OUT = "timed_out"  # the queue gave up: timeout, empty queue, withdrawn (final)
    EXITED = "exited"  # left the queue unanswered for another reason, e.g. exit key (final unless answered)
    LOST = "lost"  # the PBX lost track of it (restart) while it waited (final)


ACTIVE_CALL_STATES = frozenset({CallState.WAITING, CallState.TALKING, CallState.WRAP_UP})


class Presence(StrEnum):
    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    PAUSED = "paused"


class Activity(StrEnum):
    IDLE = "idle"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"


class AgentState(StrEnum):
    """What the grid shows: one state per agent, by precedence (see ``agents.display_state``)."""

    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"


class SlFormula(StrEnum):
    ANSWERED_WITHIN_OVER_OFFERED = "answered_within_over_offered"
    ASTERISK_SL = "asterisk_sl"
    ASTERISK_SL2 = "asterisk_sl2"


@dataclass(frozen=True, slots=True)
class QueueConfig:
    code: str
    name: str
    line: str = "other"
    sl_threshold_s: int = 20
    sl_formula: SlFormula = SlFormula.ANSWERED_WITHIN_OVER_OFFERED


@dataclass(frozen=True, slots=True)
class Call:
    """One caller's visit to one queue: the ledger row."""

    call_id: str
    queue: str
    caller: str
    joined_at: datetime
    state: CallState = CallState.WAITING
    ringing: tuple[int, ...] = ()  # ids of the agents being rung
    agent_id: int | None = None
    answered_at: datetime | None = None
    left_at: datetime | None = None  # left the queue: answered, abandoned, timed out, exited, lost
    ended_at: datetime | None = None  # talk ended
    handled_at: datetime | None = None  # wrap-up ended
    end_reason: str | None = None

    @property
    def wait_s(self) -> float | None:
        """Time in queue until answered or gone (None while waiting)."""
        until = self.answered_at or self.left_at
        return None if until is None else (until - self.joined_at).total_seconds()

    @property
    def talk_s(self) -> float | None:
        if self.answered_at is None or self.ended_at is None:
            return None
        return (self.ended_at - self.answered_at).total_seconds()

    @property
    def wrap_s(self) -> float | None:
        if self.ended_at is None or self.handled_at is None:
            return None
        return (self.handled_at - self.ended_at).total_seconds()

    @property
    def is_waiting(self) -> bool:
        return self.state is CallState.WAITING


@dataclass(frozen=True, slots=True)
class Agent:
    """A PBX queue member (an interface such as ``PJSIP/1001``), optionally a Fieldline user."""

    id: int
    interface: str
    name: str
    since: datetime  # when ``state`` (and ``reason``) were entered
    user_id: int | None = None
    presence: Presence = Presence.LOGGED_OUT
    reason: str | None = None  # pause reason, while paused
    activity: Activity = Activity.IDLE
    call_id: str | None = None  # the call being rung, talked or wrapped up
    queues: tuple[str, ...] = ()  # sorted queue codes it is logged in to
    state: AgentState = AgentState.LOGGED_OUT
