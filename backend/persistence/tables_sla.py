"""Tables of the service rules: policy overrides, deadlines (timers are rows), breaches and their
escalations, follow-up tasks, the daily clearing and report jobs. They stay inside ``backend``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.persistence.tables import _dt, _json
from backend.persistence.types import JSONType


class SlaPolicy(SQLModel, table=True):
    """An override of a rule's default for a kind and/or zone ("*" = any); NULL fields inherit."""

    __tablename__ = "sla_policy"
    __table_args__ = (UniqueConstraint("rule", "kind", "zone", name="uq_sla_policy_scope"),)
    id: int | None = Field(default=None, primary_key=True)
    rule: str = Field(max_length=48)
    kind: str = Field(default="*", max_length=32)
    zone: str = Field(default="*", max_length=16)
    seconds: int | None = None
    warn_seconds: int | None = None
    basis: str | None = Field(default=None, max_length=16)
    enabled: bool | None = None
    percent: int | None = None
    updated_at: datetime = _dt(nullable=False)
    updated_by: int | None = None


class SlaDeadline(SQLModel, table=True):
    """One timer per (order, rule): open until met, cancelled or breached. A restart (re-dispatch)
    re-opens the same row with a new due time unless it has already breached (at most once)."""

    __tablename__ = "sla_deadline"
    __table_args__ = (
        UniqueConstraint("work_order_id", "rule", name="uq_sla_deadline_order_rule"),
        Index("ix_sla_deadline_state_due", "state", "due_at"),
        Index("ix_sla_deadline_state_warn", "state", "warn_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    work_order_id: int = Field(foreign_key="work_order.id")
    rule: str = Field(max_length=48)
    state: str = Field(default="open", max_length=16)  # open | met | breached | cancelled
    basis: str = Field(default="wall", max_length=16)
    starts_at: datetime = _dt(nullable=False)
    due_at: datetime = _dt(nullable=False)
    warn_at: datetime = _dt(nullable=False)
    opened_at: datetime = _dt(nullable=False)
    closed_at: datetime | None = _dt()
    warned_at: datetime | None = _dt()
    enqueued_at: datetime | None = _dt()  # an arq job was enqueued for the current due time


class SlaBreach(SQLModel, table=True):
    """A missed deadline: at most one per (order, rule). Open until the condition is met late or the
    order ends. Who was responsible (provider, engineer) is kept as it was at the breach."""

    __tablename__ = "sla_breach"
    __table_args__ = (
        UniqueConstraint("work_order_id", "rule", name="uq_sla_breach_order_rule"),
        Index("ix_sla_breach_resolved", "resolved_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    deadline_id: int = Field(foreign_key="sla_deadline.id", index=True)
    work_order_id: int = Field(foreign_key="work_order.id")
    rule: str = Field(max_length=48)
    kind: str = Field(max_length=32)
    due_at: datetime = _dt(nullable=False)
    detected_at: datetime = _dt(nullable=False, index=True)
    provider_id: int | None = Field(default=None, index=True)
    engineer_id: int | None = Field(default=None, index=True)
    region_id: int | None = None
    escalation: str = Field(default="", max_length=48)
    resolved_at: datetime | None = _dt()
    resolution: str | None = Field(default=None, max_length=16)  # met_late | cancelled


class SlaEscalation(SQLModel, table=True):
    """What a breach set off: an agent task (phone the engineer and manager, call the customer back)
    or a record of the automatic action (urge, overdue mark, alert)."""

    __tablename__ = "sla_escalation"
    id: int | None = Field(default=None, primary_key=True)
    breach_id: int = Field(foreign_key="sla_breach.id", unique=True)
    work_order_id: int = Field(foreign_key="work_order.id", index=True)
    rule: str = Field(max_length=48)
    action: str = Field(max_length=48)
    task: bool = False
    state: str = Field(default="done", max_length=16, index=True)  # open | done | resolved
    urged: bool = False
    notify_user_ids: list[int] = _json(list)
    note: str = Field(default="", max_length=500)
    created_at: datetime = _dt(nullable=False)
    done_at: datetime | None = _dt()
    done_by: int | None = None


class FollowUpTask(SQLModel, table=True):
    """A follow-up call to make after an approved completion (回访)."""

    __tablename__ = "follow_up_task"
    id: int | None = Field(default=None, primary_key=True)
    work_order_id: int = Field(foreign_key="work_order.id", unique=True)
    kind: str = Field(max_length=32)
    sampled: bool = False
    state: str = Field(default="open", max_length=16, index=True)  # open | done | cancelled
    created_at: datetime = _dt(nullable=False, index=True)
    done_at: datetime | None = _dt()
    done_by: int | None = None
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType, nullable=True))
    second_dispatch_id: int | None = None


class DailyClearing(SQLModel, table=True):
    """The daily clearing (日清日结) of one local day: the unfinished orders, each urged."""

    __tablename__ = "daily_clearing"
    id: int | None = Field(default=None, primary_key=True)
    day: str = Field(unique=True, max_length=10)  # YYYY-MM-DD, local
    state: str = Field(default="running", max_length=16)  # running | done
    started_at: datetime = _dt(nullable=False)
    finished_at: datetime | None = _dt()
    unfinished: int = 0
    urged: int = 0


class DailyClearingItem(SQLModel, table=True):
    __tablename__ = "daily_clearing_item"
    __table_args__ = (UniqueConstraint("clearing_id", "work_order_id", name="uq_daily_clearing_item"),)
    id: int | None = Field(default=None, primary_key=True)
    clearing_id: int = Field(foreign_key="daily_clearing.id", index=True)
    work_order_id: int = Field(foreign_key="work_order.id")
    number: str = Field(max_length=32)
    kind: str = Field(max_length=32)
    state: str = Field(max_length=32)
    provider_id: int | None = None
    engineer_id: int | None = None
    reported_at: datetime = _dt(nullable=False)
    overdue: bool = False
    urged_at: datetime | None = _dt()
    urge_error: str | None = Field(default=None, max_length=64)


class ReportJob(SQLModel, table=True):
    """A report generated in the background: progress, then the rows (JSON) it produced."""

    __tablename__ = "report_job"
    id: int | None = Field(default=None, primary_key=True)
    report: str = Field(max_length=32)
    period: str = Field(max_length=16)  # YYYY-MM-DD (daily) or YYYY-MM (monthly)
    state: str = Field(default="queued", max_length=16, index=True)  # queued | running | done | failed
    progress: int = 0
    requested_by: int | None = None
    created_at: datetime = _dt(nullable=False)
    started_at: datetime | None = _dt()
    finished_at: datetime | None = _dt()
    enqueued_at: datetime | None = _dt()
    error: str | None = Field(default=None, max_length=500)
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType, nullable=True))
