"""The live board: queues, today's calls (plus any still active, plus the last hour's for the
rolling windows across the day boundary) and agents, indexed for the views. The hub keeps one,
fed by events; ``backend.services.wallboard`` builds one from the database; both must agree.
Mutable, but pure: no I/O, time is an argument."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from backend.domain.telephony.day import day_start
from backend.domain.telephony.model import ACTIVE_CALL_STATES, Agent, Call, QueueConfig, SlFormula

HORIZON = timedelta(minutes=60)  # the longest rolling window


@dataclass(frozen=True)
class StatsConfig:
    tz: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    day_start_time: time = time(0, 0)
    short_abandon_s: float = 5.0
    default_formula: SlFormula = SlFormula.ANSWERED_WITHIN_OVER_OFFERED
    default_threshold_s: int = 20


@dataclass
class Change:
    """What an update touched, for the views to recompute: call ids, agent ids (before and after),
    queue codes (before and after), user ids of linked agents; ``everything`` after a reload."""

    calls: set[str] = field(default_factory=set)
    agents: set[int] = field(default_factory=set)
    queues: set[str] = field(default_factory=set)
    users: set[int] = field(default_factory=set)
    everything: bool = False

    def merge(self, other: Change) -> Change:
        self.calls |= other.calls
        self.agents |= other.agents
        self.queues |= other.queues
        self.users |= other.users
        self.everything = self.everything or other.everything
        return self

    def __bool__(self) -> bool:
        return bool(self.everything or self.calls or self.agents or self.queues or self.users)


def retained(call: Call, now: datetime, start_of_day: datetime) -> bool:
    """Does the board keep this call? Active ones always; finished ones if they joined today or in
    the last hour (the 60-minute window reaches back across the day boundary)."""
    return call.state in ACTIVE_CALL_STATES or call.joined_at >= min(start_of_day, now - HORIZON)


class Board:
    def __init__(self, config: StatsConfig, now: datetime) -> None:
        self.config = config
        self.day_start = day_start(now, config.tz, config.day_start_time)
        self.queues: dict[str, QueueConfig] = {}
        self.calls: dict[str, Call] = {}
        self.agents: dict[int, Agent] = {}
        self.by_queue: dict[str, dict[str, Call]] = {}
        self.by_agent: dict[int, dict[str, Call]] = {}  # answered calls, by the agent who answered

    # --- updates ---------------------------------------------------------------------------------

    def put_queue(self, queue: QueueConfig) -> Change:
        if self.queues.get(queue.code) == queue:
            return Change()
        self.queues[queue.code] = queue
        return Change(queues={queue.code})

    def queue(self, code: str) -> QueueConfig:
        found = self.queues.get(code)
        if found is None:  # a queue the PBX uses before anyone configured it
            found = QueueConfig(code=code, name=code, sl_threshold_s=self.config.default_threshold_s,
                                sl_formula=self.config.default_formula)
        return found

    def put_call(self, call: Call, now: datetime | None = None) -> Change:
        before = self.calls.get(call.call_id)
        if before == call:
            return Change()
        change = Change(calls={call.call_id}, queues={call.queue})
        for c in (before, call):
            if c is not None and c.agent_id is not None:
                change.agents.add(c.agent_id)
                self._link_users(change, c.agent_id)
        if before is not None:
            self._unindex(before)
        if now is not None and not retained(call, now, self.day_start):
            return change
        self.calls[call.call_id] = call
        self.by_queue.setdefault(call.queue, {})[call.call_id] = call
        if call.agent_id is not None and call.answered_at is not None:
            self.by_agent.setdefault(call.agent_id, {})[call.call_id] = call
        return change

    def put_agent(self, agent: Agent) -> Change:
        before = self.agents.get(agent.id)
        if before == agent:
            return Change()
        change = Change(agents={agent.id}, queues=set(agent.queues))
        if before is not None:
            change.queues |= set(before.queues)
            if before.user_id is not None:
                change.users.add(before.user_id)
        if agent.user_id is not None:
            change.users.add(agent.user_id)
        self.agents[agent.id] = agent
        return change

    def roll(self, now: datetime) -> Change:
        """Move to a new day if one started, and drop the finished calls nothing shows any more."""
        start = day_start(now, self.config.tz, self.config.day_start_time)
        change = Change(everything=start != self.day_start)
        self.day_start = start
        for call in [c for c in self.calls.values() if not retained(c, now, start)]:
            self._unindex(call)
            change.calls.add(call.call_id)
            change.queues.add(call.queue)
        return change

    def _unindex(self, call: Call) -> None:
        self.calls.pop(call.call_id, None)
        self.by_queue.get(call.queue, {}).pop(call.call_id, None)
        if call.agent_id is not None:
            self.by_agent.get(call.agent_id, {}).pop(call.call_id, None)

    def _link_users(self, change: Change, agent_id: int) -> None:
        agent = self.agents.get(agent_id)
        if agent is not None and agent.user_id is not None:
            change.users.add(agent.user_id)

    # --- reads ---------------------------------------------------------------------------------

    def queue_codes(self) -> list[str]:
        """Configured queues and any queue a retained call or a logged-in agent mentions."""
        codes = set(self.queues) | {c for c, calls in self.by_queue.items() if calls}
        for agent in self.agents.values():
            codes.update(agent.queues)
        return sorted(codes)

    def agents_of_user(self, user_id: int) -> list[Agent]:
        return sorted((a for a in self.agents.values() if a.user_id == user_id), key=lambda a: a.id)

    def member_queues(self, user_id: int) -> set[str]:
        return {q for a in self.agents_of_user(user_id) for q in a.queues}
