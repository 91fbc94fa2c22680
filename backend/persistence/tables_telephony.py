"""Telephony tables: the call ledger, the agents (PBX queue members, optionally linked to a user),
their state history, and the inbound event ids already applied (dedupe). Queues are ``call_queue``
in ``tables.py``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from backend.persistence.tables import _dt, _json


class TelephonyAgent(SQLModel, table=True):
    __tablename__ = "telephony_agent"
    id: int | None = Field(default=None, primary_key=True)
    interface: str = Field(unique=True, max_length=128)  # e.g. PJSIP/1001
    name: str = Field(max_length=100)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    presence: str = Field(max_length=16)
    reason: str | None = Field(default=None, max_length=64)
    activity: str = Field(max_length=16)
    call_id: str | None = Field(default=None, max_length=64)
    queues: list[str] = _json(list)
    state: str = Field(max_length=16)
    since: datetime = _dt(nullable=False)
    updated_at: datetime = _dt(nullable=False)


class CallRecord(SQLModel, table=True):
    """The call ledger: one row per caller's visit to a queue. Statistics are computed from it,
    so they survive restarts of the PBX and of Fieldline."""

    __tablename__ = "call_record"
    __table_args__ = (Index("ix_call_record_queue_joined_at", "queue", "joined_at"),)
    id: int | None = Field(default=None, primary_key=True)
    call_id: str = Field(unique=True, max_length=64)
    queue: str = Field(max_length=32)
    caller: str = Field(default="", max_length=64)
    state: str = Field(max_length=16, index=True)
    joined_at: datetime = _dt(nullable=False, index=True)
    ringing: list[int] = _json(list)
    agent_id: int | None = Field(default=None, foreign_key="telephony_agent.id", index=True)
    answered_at: datetime | None = _dt()
    left_at: datetime | None = _dt()
    ended_at: datetime | None = _dt()
    handled_at: datetime | None = _dt()
    end_reason: str | None = Field(default=None, max_length=32)
    wait_s: float | None = None  # derived from the instants, kept for reports
    talk_s: float | None = None
    wrap_s: float | None = None
    updated_at: datetime = _dt(nullable=False)


class AgentStateLog(SQLModel, table=True):
    """Every state an agent entered, with its reason (reports: time per state and pause reason)."""

    __tablename__ = "agent_state_log"
    id: int | None = Field(default=None, primary_key=True)
    agent_id: int = Field(foreign_key="telephony_agent.id", index=True)
    state: str = Field(max_length=16)
    reason: str | None = Field(default=None, max_length=64)
    at: datetime = _dt(nullable=False, index=True)


class TelephonyInbound(SQLModel, table=True):
    """Inbound event ids already applied (``<source>:<id>``): a repeat is a duplicate."""

    __tablename__ = "telephony_inbound"
    event_id: str = Field(primary_key=True, max_length=160)
    received_at: datetime = _dt(nullable=False, index=True)
