"""Telephony queries: the call ledger, agents, queues, inbound dedupe. Rows ↔ domain records."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from backend.domain.telephony.model import (
    ACTIVE_CALL_STATES,
    Activity,
    Agent,
    AgentState,
    Call,
    CallState,
    Presence,
    QueueConfig,
    SlFormula,
)
from backend.persistence.tables import CallQueue, User
from backend.persistence.tables_telephony import AgentStateLog, CallRecord, TelephonyAgent, TelephonyInbound

_ACTIVE = [str(s) for s in ACTIVE_CALL_STATES]


# --- rows ↔ records ----------------------------------------------------------------------------


def call_of(row: CallRecord) -> Call:
    return Call(call_id=row.call_id, queue=row.queue, caller=row.caller, joined_at=row.joined_at,
                state=CallState(row.state), ringing=tuple(row.ringing), agent_id=row.agent_id,
                answered_at=row.answered_at, left_at=row.left_at, ended_at=row.ended_at, handled_at=row.handled_at,
                end_reason=row.end_reason)


def agent_of(row: TelephonyAgent) -> Agent:
    assert row.id is not None
    return Agent(id=row.id, interface=row.interface, name=row.name, since=row.since, user_id=row.user_id,
                 presence=Presence(row.presence), reason=row.reason, activity=Activity(row.activity),
                 call_id=row.call_id, queues=tuple(row.queues), state=AgentState(row.state))


def queue_of(row: CallQueue) -> QueueConfig:
    try:
        formula = SlFormula(row.sl_formula)
    except ValueError:
        formula = SlFormula.ANSWERED_WITHIN_OVER_OFFERED
    return QueueConfig(code=row.code, name=row.name, line=row.line, sl_threshold_s=row.sl_threshold_s,
                       sl_formula=formula)


def write_call(row: CallRecord, call: Call, at: datetime) -> CallRecord:
    row.queue, row.caller, row.state, row.joined_at = call.queue, call.caller, str(call.state), call.joined_at
    row.ringing, row.agent_id, row.answered_at, row.left_at = list(call.ringing), call.agent_id, call.answered_at, \
        call.left_at
    row.ended_at, row.handled_at, row.end_reason = call.ended_at, call.handled_at, call.end_reason
    row.wait_s, row.talk_s, row.wrap_s, row.updated_at = call.wait_s, call.talk_s, call.wrap_s, at
    return row


def write_agent(row: TelephonyAgent, agent: Agent, at: datetime) -> TelephonyAgent:
    row.name, row.user_id, row.presence, row.reason = agent.name, agent.user_id, str(agent.presence), agent.reason
    row.activity, row.call_id, row.queues = str(agent.activity), agent.call_id, list(agent.queues)
    row.state, row.since, row.updated_at = str(agent.state), agent.since, at
    return row


# --- inbound dedupe ------------------------------------------------------------------------------


async def seen(session: AsyncSession, event_ids: Iterable[str]) -> set[str]:
    ids = list(set(event_ids))
    found: set[str] = set()
    for i in range(0, len(ids), 500):  # keep IN lists short on every backend
        chunk = ids[i:i + 500]
        rows = await session.exec(select(TelephonyInbound.event_id).where(col(TelephonyInbound.event_id).in_(chunk)))
        found.update(rows.all())
    return found


def mark_seen(session: AsyncSession, event_ids: Iterable[str], at: datetime) -> None:
    session.add_all(TelephonyInbound(event_id=e, received_at=at) for e in event_ids)


# --- calls ---------------------------------------------------------------------------------------


async def call_rows(session: AsyncSession, call_ids: Iterable[str]) -> dict[str, CallRecord]:
    ids = list(set(call_ids))
    found: dict[str, CallRecord] = {}
    for i in range(0, len(ids), 500):
        rows = await session.exec(select(CallRecord).where(col(CallRecord.call_id).in_(ids[i:i + 500])))
        found.update({r.call_id: r for r in rows.all()})
    return found


async def active_call_rows(session: AsyncSession) -> list[CallRecord]:
    return list((await session.exec(select(CallRecord).where(col(CallRecord.state).in_(_ACTIVE)))).all())


async def board_calls(session: AsyncSession, since: datetime) -> list[Call]:
    """Calls the live board keeps: joined since ``since``, or still active."""
    stmt = select(CallRecord).where(or_(col(CallRecord.joined_at) >= since, col(CallRecord.state).in_(_ACTIVE)))
    return [call_of(r) for r in (await session.exec(stmt)).all()]


def add_call(session: AsyncSession, call: Call, at: datetime) -> CallRecord:
    row = write_call(CallRecord(call_id=call.call_id, queue=call.queue, joined_at=call.joined_at, state="",
                                updated_at=at), call, at)
    session.add(row)
    return row


# --- agents --------------------------------------------------------------------------------------


async def agent_rows(session: AsyncSession, interfaces: Iterable[str] | None = None) -> dict[str, TelephonyAgent]:
    stmt = select(TelephonyAgent)
    if interfaces is not None:
        stmt = stmt.where(col(TelephonyAgent.interface).in_(list(set(interfaces))))
    return {r.interface: r for r in (await session.exec(stmt)).all()}


async def agent_row(session: AsyncSession, agent_id: int) -> TelephonyAgent | None:
    return await session.get(TelephonyAgent, agent_id)


async def agents_of_user(session: AsyncSession, user_id: int) -> list[TelephonyAgent]:
    stmt = select(TelephonyAgent).where(TelephonyAgent.user_id == user_id).order_by(col(TelephonyAgent.id))
    return list((await session.exec(stmt)).all())


async def add_agent(session: AsyncSession, agent: Agent, at: datetime) -> TelephonyAgent:
    """Insert a new agent row (``agent.id`` is ignored) and return it with its id."""
    row = write_agent(TelephonyAgent(interface=agent.interface, name=agent.name, presence="", activity="",
                                     state="", since=at, updated_at=at), agent, at)
    session.add(row)
    await session.flush()
    return row


def log_state(session: AsyncSession, agent: Agent) -> None:
    session.add(AgentStateLog(agent_id=agent.id, state=str(agent.state), reason=agent.reason, at=agent.since))


async def user_ids(session: AsyncSession, usernames: Iterable[str]) -> dict[str, int]:
    names = list(set(usernames))
    if not names:
        return {}
    rows = await session.exec(select(User.username, User.id).where(col(User.username).in_(names)))
    return {name: uid for name, uid in rows.all() if uid is not None}


# --- queues --------------------------------------------------------------------------------------


async def queues(session: AsyncSession) -> dict[str, QueueConfig]:
    return {r.code: queue_of(r) for r in (await session.exec(select(CallQueue))).all()}


def add_queue(session: AsyncSession, queue: QueueConfig) -> None:
    session.add(CallQueue(code=queue.code, name=queue.name, line=queue.line, sl_threshold_s=queue.sl_threshold_s,
                          sl_formula=str(queue.sl_formula)))
