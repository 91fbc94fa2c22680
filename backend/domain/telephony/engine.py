"""One normalized command against the calls and agents it touches: ``step(workset, command)``
applies the call and agent transitions together and records the events. All or nothing: a refused
command (``errors.DomainError``) leaves the workset as it was."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from backend import errors
from backend.domain.telephony import agents as ag
from backend.domain.telephony import calls as cl
from backend.domain.telephony import commands as c
from backend.domain.telephony.facts import agent_facts, call_facts
from backend.domain.telephony.model import ACTIVE_CALL_STATES, Agent, Call, CallState, Presence
from backend.events import Event
from backend.events import telephony as ev

_CALL_EVENT: dict[CallState, type[ev.CallEvent]] = {
    CallState.WAITING: ev.CallJoined,
    CallState.TALKING: ev.CallAnswered,
    CallState.WRAP_UP: ev.CallEnded,
    CallState.HANDLED: ev.CallHandled,
    CallState.ABANDONED: ev.CallAbandoned,
    CallState.TIMED_OUT: ev.CallAbandoned,
    CallState.EXITED: ev.CallExited,
    CallState.LOST: ev.CallLost,
}


@dataclass
class Workset:
    """The rows a batch of commands needs, loaded by the caller, plus what the commands changed."""

    calls: dict[str, Call] = field(default_factory=dict)
    agents: dict[str, Agent] = field(default_factory=dict)  # by interface
    users: dict[str, int] = field(default_factory=dict)  # username → user id, for AgentLogin
    changed_calls: dict[str, Call] = field(default_factory=dict)
    changed_agents: dict[str, Agent] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)


@dataclass
class _Pending:
    calls: dict[str, Call] = field(default_factory=dict)
    agents: dict[str, Agent] = field(default_factory=dict)


def _event_for(before: Call | None, after: Call) -> ev.CallEvent:
    facts = call_facts(after)
    if before is None:
        return ev.CallJoined(call=facts)
    if before.state is after.state:
        return ev.CallRinging(call=facts)  # within a state only the agents being rung change
    if after.state is CallState.HANDLED and after.end_reason == "lost" and before.state is CallState.TALKING:
        return ev.CallLost(call=facts)
    return _CALL_EVENT[after.state](call=facts)


class _Step:
    def __init__(self, ws: Workset) -> None:
        self.ws = ws
        self.pending = _Pending()

    def call(self, call_id: str) -> Call:
        found = self.pending.calls.get(call_id) or self.ws.calls.get(call_id)
        if found is None:
            raise errors.Conflict("call-unknown", f"no call {call_id}", call_id=call_id)
        return found

    def agent(self, interface: str) -> Agent:
        found = self.pending.agents.get(interface) or self.ws.agents.get(interface)
        if found is None:  # the caller creates every agent a command names before stepping
            raise errors.Conflict("agent-unknown", f"no agent {interface}", interface=interface)
        return found

    def put_call(self, call: Call) -> None:
        self.pending.calls[call.call_id] = call

    def put_agent(self, agent: Agent) -> None:
        self.pending.agents[agent.interface] = agent

    def commit(self) -> None:
        for call_id, after in self.pending.calls.items():
            before = self.ws.calls.get(call_id)
            if after != before:
                self.ws.calls[call_id] = after
                self.ws.changed_calls[call_id] = after
                self.ws.events.append(_event_for(before, after))
        for interface, after in self.pending.agents.items():
            before = self.ws.agents[interface]
            if after != before:
                self.ws.agents[interface] = after
                self.ws.changed_agents[interface] = after
                self.ws.events.append(ev.AgentStateChanged(agent=agent_facts(after),
                                                           previous_state=str(before.state)))


def step(ws: Workset, command: c.Command) -> None:
    s = _Step(ws)
    _apply(s, command)
    s.commit()


def _apply(s: _Step, cmd: c.Command) -> None:
    at = cmd.at
    match cmd:
        case c.JoinQueue():
            existing = s.ws.calls.get(cmd.call_id)
            if existing is not None:
                if existing.queue == cmd.queue:
                    return  # the PBX repeated itself (or a snapshot listed a call we know)
                raise errors.Conflict("call-already-joined", f"call {cmd.call_id} is in queue {existing.queue}",
                                      call_id=cmd.call_id)
            s.put_call(cl.join(cmd.call_id, cmd.queue, cmd.caller, at))
        case c.RingAgent():
            agent = s.agent(cmd.interface)
            s.put_call(cl.ring(s.call(cmd.call_id), agent.id))
            s.put_agent(ag.ring(agent, at, cmd.call_id))
        case c.RingNoAnswer():
            agent = s.agent(cmd.interface)
            s.put_call(cl.stop_ringing(s.call(cmd.call_id), agent.id))
            s.put_agent(ag.stop_ringing(agent, at, cmd.call_id))
        case c.AnswerCall():
            call, agent = s.call(cmd.call_id), s.agent(cmd.interface)
            _stop_other_ringers(s, call, at, except_id=agent.id)
            s.put_call(cl.answer(call, agent.id, at))
            s.put_agent(ag.connect(agent, at, cmd.call_id))
        case c.AbandonCall():
            call = s.call(cmd.call_id)
            _stop_other_ringers(s, call, at)
            s.put_call(cl.abandon(call, at, timeout=cmd.timeout))
        case c.LeaveQueue():
            call = s.call(cmd.call_id)
            if call.is_waiting:
                _stop_other_ringers(s, call, at)
            s.put_call(cl.leave(call, at))
        case c.EndCall():
            call = s.call(cmd.call_id)
            s.put_call(cl.end(call, at, reason=cmd.reason, wrap_up=cmd.wrap_up))
            agent = _agent_by_id(s, call.agent_id)
            if agent is not None:
                s.put_agent(ag.end_call(agent, at, call.call_id, wrap_up=cmd.wrap_up))
        case c.EndWrapUp():
            agent = s.agent(cmd.interface)
            _finish_wrap_up(s, agent, at)
            s.put_agent(ag.end_wrap_up(s.agent(cmd.interface), at))
        case c.AgentLogin():
            agent = s.agent(cmd.interface)
            if cmd.username is not None and cmd.username in s.ws.users:
                agent = replace(agent, user_id=s.ws.users[cmd.username])
            s.put_agent(ag.login(agent, at, cmd.queues, name=cmd.name, paused_reason=cmd.paused_reason))
        case c.AgentLogout():
            agent = s.agent(cmd.interface)
            after = ag.logout(agent, at, cmd.queue)
            if after.presence is Presence.LOGGED_OUT:
                _finish_wrap_up(s, agent, at)
            s.put_agent(after)
        case c.PauseAgent():
            agent = s.agent(cmd.interface)
            _finish_wrap_up(s, agent, at)  # pausing from wrap-up ends it (after-call work is a pause reason)
            s.put_agent(ag.end_wrap_up(ag.pause(agent, at, cmd.reason), at))
        case c.UnpauseAgent():
            s.put_agent(ag.unpause(s.agent(cmd.interface), at))
        case c.PbxSnapshot():
            _reconcile(s, cmd)
        case _:
            raise errors.BadRequest("telephony-command-unknown", f"not a telephony command: {type(cmd).__name__}")


def _agent_by_id(s: _Step, agent_id: int | None) -> Agent | None:
    if agent_id is None:
        return None
    for interface, agent in (*s.ws.agents.items(), *s.pending.agents.items()):
        if agent.id == agent_id:
            return s.pending.agents.get(interface) or agent
    return None


def _stop_other_ringers(s: _Step, call: Call, at: datetime, except_id: int | None = None) -> None:
    for agent_id in call.ringing:
        if agent_id == except_id:
            continue
        agent = _agent_by_id(s, agent_id)
        if agent is not None:
            s.put_agent(ag.stop_ringing(agent, at, call.call_id))


def _finish_wrap_up(s: _Step, agent: Agent, at: datetime) -> None:
    if agent.call_id is None:
        return
    call = s.pending.calls.get(agent.call_id) or s.ws.calls.get(agent.call_id)
    if call is not None and call.state is CallState.WRAP_UP and call.agent_id == agent.id:
        s.put_call(cl.finish_wrap_up(call, at))


def _reconcile(s: _Step, snap: c.PbxSnapshot) -> None:
    at = snap.at
    covered = set(snap.queues)
    in_scope = (lambda q: q in covered) if covered else (lambda q: True)
    listed = {e.call_id for e in snap.entries}
    busy = {m.interface for m in snap.members if m.in_call}
    # Callers the PBX lists: join the ones we did not know (they waited ``wait_s`` already).
    for entry in snap.entries:
        if entry.call_id not in s.ws.calls:
            s.put_call(cl.join(entry.call_id, entry.queue, entry.caller, at - _seconds(entry.wait_s)))
    # Active calls the PBX no longer knows: lost.
    for call in list(s.ws.calls.values()):
        if call.state not in ACTIVE_CALL_STATES or not in_scope(call.queue):
            continue
        agent = _agent_by_id(s, call.agent_id)
        gone = (call.call_id not in listed if call.is_waiting
                else call.state is CallState.TALKING and (agent is None or agent.interface not in busy))
        if gone:
            s.put_call(cl.lose(call, at))
            if agent is not None:
                s.put_agent(ag.end_wrap_up(ag.end_call(agent, at, call.call_id, wrap_up=False), at))
    # Members: each listed agent is logged in to exactly the listed queues, paused as listed.
    by_agent: dict[str, list[c.Membership]] = {}
    for m in snap.members:
        by_agent.setdefault(m.interface, []).append(m)
    for interface, rows in by_agent.items():
        agent = s.agent(interface)
        queues = tuple(sorted({m.queue for m in rows}))
        for queue in agent.queues:
            if in_scope(queue) and queue not in queues:
                agent = ag.logout(agent, at, queue)
        paused = next((m for m in rows if m.paused), None)
        agent = ag.login(agent, at, queues, name=rows[0].name)
        if paused is not None and (agent.presence is not Presence.PAUSED or agent.reason != paused.reason):
            agent = ag.pause(agent, at, paused.reason)
        elif paused is None and agent.presence is Presence.PAUSED:
            agent = ag.unpause(agent, at)
        s.put_agent(agent)
    # Logged-in agents the PBX does not list: logged out of the covered queues.
    for interface, agent in list(s.ws.agents.items()):
        if interface in by_agent or agent.presence is Presence.LOGGED_OUT:
            continue
        current = s.pending.agents.get(interface) or agent
        for queue in current.queues:
            if in_scope(queue):
                current = ag.logout(current, at, queue)
        s.put_agent(current)


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=max(0.0, value))
