"""Records ↔ the facts events carry (``backend.events.telephony``): the same fields both ways."""

from __future__ import annotations

from backend.domain.telephony.model import (
    Activity,
    Agent,
    AgentState,
    Call,
    CallState,
    Presence,
    QueueConfig,
    SlFormula,
)
from backend.events.telephony import AgentFacts, CallFacts, QueueFacts


def call_facts(call: Call) -> CallFacts:
    return CallFacts(call_id=call.call_id, queue=call.queue, caller=call.caller, joined_at=call.joined_at,
                     state=str(call.state), ringing=list(call.ringing), agent_id=call.agent_id,
                     answered_at=call.answered_at, left_at=call.left_at, ended_at=call.ended_at,
                     handled_at=call.handled_at, end_reason=call.end_reason)


def call_from_facts(facts: CallFacts) -> Call:
    return Call(call_id=facts.call_id, queue=facts.queue, caller=facts.caller, joined_at=facts.joined_at,
                state=CallState(facts.state), ringing=tuple(facts.ringing), agent_id=facts.agent_id,
                answered_at=facts.answered_at, left_at=facts.left_at, ended_at=facts.ended_at,
                handled_at=facts.handled_at, end_reason=facts.end_reason)


def agent_facts(agent: Agent) -> AgentFacts:
    return AgentFacts(id=agent.id, interface=agent.interface, name=agent.name, user_id=agent.user_id,
                      presence=str(agent.presence), reason=agent.reason, activity=str(agent.activity),
                      call_id=agent.call_id, queues=list(agent.queues), state=str(agent.state), since=agent.since)


def agent_from_facts(facts: AgentFacts) -> Agent:
    return Agent(id=facts.id, interface=facts.interface, name=facts.name, since=facts.since, user_id=facts.user_id,
                 presence=Presence(facts.presence), reason=facts.reason, activity=Activity(facts.activity),
                 call_id=facts.call_id, queues=tuple(facts.queues), state=AgentState(facts.state))


def queue_facts(queue: QueueConfig) -> QueueFacts:
    return QueueFacts(code=queue.code, name=queue.name, line=queue.line, sl_threshold_s=queue.sl_threshold_s,
                      sl_formula=str(queue.sl_formula))


def queue_from_facts(facts: QueueFacts) -> QueueConfig:
    return QueueConfig(code=facts.code, name=facts.name, line=facts.line, sl_threshold_s=facts.sl_threshold_s,
                       sl_formula=SlFormula(facts.sl_formula))
