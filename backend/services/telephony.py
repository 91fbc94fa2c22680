"""Telephony ingest: normalized commands from any source (AMI, webhook, simulator, console) →
the call ledger and agent rows + their events in the caller's unit of work. Duplicates (by
``<source>:<event_id>``) are ignored; a refused command is reported, the rest still apply.
Never commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from backend import errors
from backend.domain.telephony import agents as ag
from backend.domain.telephony import commands as c
from backend.domain.telephony.board import StatsConfig
from backend.domain.telephony.engine import Workset, step
from backend.domain.telephony.facts import agent_facts, queue_facts
from backend.domain.telephony.model import QueueConfig, SlFormula
from backend.events.telephony import AgentStateChanged, QueueConfigured
from backend.persistence.repositories import telephony as repo
from backend.persistence.tables_telephony import CallRecord, TelephonyAgent
from backend.services.uow import UnitOfWork
from backend.settings import Settings


def stats_config(settings: Settings) -> StatsConfig:
    return StatsConfig(tz=settings.tz, day_start_time=settings.stats_day_start,
                       short_abandon_s=settings.short_abandon_s, default_formula=SlFormula(settings.sl_formula),
                       default_threshold_s=settings.sl_threshold_s)


@dataclass(frozen=True)
class Rejected:
    event_id: str
    code: str
    message: str


@dataclass
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejected] = field(default_factory=list)


async def ingest(uow: UnitOfWork, commands: Sequence[c.Command], *, source: str,
                 config: StatsConfig | None = None) -> IngestResult:
    """Apply a batch of commands in order. ``source`` scopes the event ids (``ami``, ``webhook``...)."""
    config = config or StatsConfig()
    session, now = uow.session, uow.now()
    result = IngestResult()
    already = await repo.seen(session, (f"{source}:{cmd.event_id}" for cmd in commands))
    fresh: list[c.Command] = []
    batch_ids: set[str] = set()
    for cmd in commands:
        key = f"{source}:{cmd.event_id}"
        if key in already or key in batch_ids:
            result.duplicates += 1
        else:
            batch_ids.add(key)
            fresh.append(cmd)
    if not fresh:
        return result

    ws, call_rows, agent_rows = await _load(uow, fresh, config)
    before = dict(ws.agents)
    applied: list[str] = []
    for cmd in fresh:
        try:
            step(ws, cmd)
        except errors.DomainError as exc:
            result.rejected.append(Rejected(cmd.event_id, exc.code, exc.message))
            continue
        applied.append(f"{source}:{cmd.event_id}")
        result.accepted += 1

    for call_id, call in ws.changed_calls.items():
        row = call_rows.get(call_id)
        if row is None:
            call_rows[call_id] = repo.add_call(session, call, now)
        else:
            repo.write_call(row, call, now)
    for interface, agent in ws.changed_agents.items():
        repo.write_agent(agent_rows[interface], agent, now)
        old = before[interface]
        if (agent.state, agent.reason, agent.since) != (old.state, old.reason, old.since):
            repo.log_state(session, agent)
    for event in ws.events:
        uow.emit(event)
    repo.mark_seen(session, applied, now)
    return result


async def _load(uow: UnitOfWork, commands: list[c.Command],
                config: StatsConfig) -> tuple[Workset, dict[str, CallRecord], dict[str, TelephonyAgent]]:
    """The rows the batch touches, as a workset; agents and queues it names but we do not know yet
    are created first (with their events)."""
    session, now = uow.session, uow.now()
    reconciling = any(isinstance(cmd, c.PbxSnapshot) for cmd in commands)
    call_ids = {cmd.call_id for cmd in commands if isinstance(cmd, c.CALL_COMMANDS)}
    if reconciling:
        call_ids |= {e.call_id for cmd in commands if isinstance(cmd, c.PbxSnapshot) for e in cmd.entries}
    call_rows = await repo.call_rows(session, call_ids)
    if reconciling:
        call_rows.update({r.call_id: r for r in await repo.active_call_rows(session)})
    interfaces = {i for cmd in commands for i in c.interfaces_of(cmd)}
    agent_rows = await repo.agent_rows(session, None if reconciling else interfaces)
    ws = Workset(calls={k: repo.call_of(r) for k, r in call_rows.items()},
                 agents={k: repo.agent_of(r) for k, r in agent_rows.items()})
    # Agents of the calls we loaded (to stop their ringing, end their calls).
    linked = {a for call in ws.calls.values() for a in (*call.ringing, call.agent_id) if a is not None}
    known = {a.id for a in ws.agents.values()}
    for agent_id in linked - known:
        row = await repo.agent_row(session, agent_id)
        if row is not None:
            agent_rows[row.interface] = row
            ws.agents[row.interface] = repo.agent_of(row)
    # Calls of the agents we loaded (ending a wrap-up or logging out finishes their call).
    wrapped = {a.call_id for a in ws.agents.values() if a.call_id is not None} - set(ws.calls)
    if wrapped:
        extra = await repo.call_rows(session, wrapped)
        call_rows.update(extra)
        ws.calls.update({k: repo.call_of(r) for k, r in extra.items()})
    names = _names(commands)
    for interface in sorted(interfaces - set(agent_rows)):
        draft = ag.new_agent(0, interface, now, name=names.get(interface, ""))
        row = await repo.add_agent(session, draft, now)
        agent_rows[interface] = row
        ws.agents[interface] = agent = repo.agent_of(row)
        uow.emit(AgentStateChanged(agent=agent_facts(agent), previous_state=None))
    ws.users = await repo.user_ids(session, (cmd.username for cmd in commands
                                             if isinstance(cmd, c.AgentLogin) and cmd.username))
    await _ensure_queues(uow, commands, config)
    return ws, call_rows, agent_rows


def _names(commands: list[c.Command]) -> dict[str, str]:
    names: dict[str, str] = {}
    for cmd in commands:
        if isinstance(cmd, c.AgentLogin) and cmd.name:
            names[cmd.interface] = cmd.name
        elif isinstance(cmd, c.PbxSnapshot):
            names.update({m.interface: m.name for m in cmd.members if m.name})
    return names


async def _ensure_queues(uow: UnitOfWork, commands: list[c.Command], config: StatsConfig) -> None:
    codes: set[str] = set()
    for cmd in commands:
        if isinstance(cmd, c.JoinQueue):
            codes.add(cmd.queue)
        elif isinstance(cmd, c.AgentLogin):
            codes.update(cmd.queues)
        elif isinstance(cmd, c.PbxSnapshot):
            codes.update(e.queue for e in cmd.entries)
            codes.update(m.queue for m in cmd.members)
    if not codes:
        return
    known = await repo.queues(uow.session)
    for code in sorted(codes - set(known)):
        queue = QueueConfig(code=code, name=code, sl_threshold_s=config.default_threshold_s,
                            sl_formula=config.default_formula)
        repo.add_queue(uow.session, queue)
        uow.emit(QueueConfigured(queue=queue_facts(queue)))


@dataclass(frozen=True)
class AgentRef:
    id: int
    interface: str
    queues: tuple[str, ...]
    state: str


def _ref(row: TelephonyAgent) -> AgentRef:
    assert row.id is not None
    return AgentRef(row.id, row.interface, tuple(row.queues), row.state)


async def agent_ref(uow: UnitOfWork, agent_id: int) -> AgentRef:
    row = await repo.agent_row(uow.session, agent_id)
    if row is None:
        raise errors.NotFound("agent-not-found", f"no agent {agent_id}")
    return _ref(row)


async def own_agents(uow: UnitOfWork, user_id: int | None) -> list[AgentRef]:
    """The PBX agents linked to a user; ``Conflict("agent-not-linked")`` if there are none."""
    rows = await repo.agents_of_user(uow.session, user_id) if user_id is not None else []
    if not rows:
        raise errors.Conflict("agent-not-linked", "no PBX agent is linked to your user")
    return [_ref(r) for r in rows]


def check_request(agent: AgentRef, action: str) -> None:
    """Refuse what the PBX would refuse: (un)pausing a logged-out agent, logging in nowhere."""
    if action in ("pause", "unpause") and agent.state == "logged_out":
        raise errors.Conflict("agent-logged-out", f"agent {agent.interface} is logged out", agent_id=agent.id)
    if action == "login" and not agent.queues:
        raise errors.Conflict("agent-no-queues", f"agent {agent.interface} has no queue to log in to",
                              agent_id=agent.id)


def plan_own_state(agent: AgentRef, target: str) -> list[str]:
    """The PBX actions that take an agent to ``target`` (available, paused, logged_out)."""
    logged_out = agent.state == "logged_out"
    if target == "logged_out":
        actions = [] if logged_out else ["logout"]
    elif target == "paused":
        actions = ["login", "pause"] if logged_out else ["pause"]
    else:
        actions = ["login"] if logged_out else ["unpause"] if agent.state == "paused" else []
    if "login" in actions:
        check_request(agent, "login")
    return actions
