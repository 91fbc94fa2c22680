"""SQLModel table models. They stay inside ``backend``: transports use their own schemas."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.persistence.types import JSONType, UTCDateTime


def _dt(nullable: bool = True, index: bool = False) -> Any:
    return Field(default=None, sa_column=Column(UTCDateTime(), nullable=nullable, index=index))


def _json(default: Any) -> Any:
    return Field(default_factory=default, sa_column=Column(JSONType, nullable=False))


class Region(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=32)
    name: str = Field(max_length=100)


class Provider(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100)
    region_id: int = Field(foreign_key="region.id", index=True)
    phone: str = Field(default="", max_length=32)


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, max_length=64)
    display_name: str = Field(max_length=100)
    role: str = Field(max_length=32, index=True)
    password_hash: str = Field(max_length=255)
    region_id: int | None = Field(default=None, foreign_key="region.id", index=True)
    provider_id: int | None = Field(default=None, foreign_key="provider.id", index=True)
    phone: str = Field(default="", max_length=32)
    skills: list[str] = _json(list)
    active: bool = True
    created_at: datetime = _dt(nullable=False)


class Customer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    contact_name: str = Field(default="", max_length=100)
    phone: str = Field(max_length=32, index=True)
    created_at: datetime = _dt(nullable=False)


class Site(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    name: str = Field(max_length=200)
    address: str = Field(default="", max_length=300)
    zone: str = Field(max_length=16)  # city | suburb | remote
    region_id: int = Field(foreign_key="region.id", index=True)
    latitude: float | None = None
    longitude: float | None = None
    phone: str = Field(default="", max_length=32, index=True)


class Equipment(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    serial_number: str = Field(unique=True, max_length=64)
    model: str = Field(max_length=100, index=True)
    customer_id: int = Field(foreign_key="customer.id", index=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    warranty_end: date | None = None
    running_hours: float = 0.0


class CallQueue(SQLModel, table=True):
    __tablename__ = "call_queue"
    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(unique=True, max_length=32)
    name: str = Field(max_length=100)
    line: str = Field(max_length=32)  # fault | consultation
    sl_threshold_s: int = 20
    sl_formula: str = Field(default="answered_within_over_offered", max_length=48)


class WorkOrder(SQLModel, table=True):
    __tablename__ = "work_order"
    __table_args__ = (
        Index("ix_work_order_equipment_kind_state", "equipment_id", "kind", "state"),
        Index("ix_work_order_engineer_state", "engineer_id", "state"),
        Index("ix_work_order_provider_state", "provider_id", "state"),
    )
    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(unique=True, max_length=32)
    kind: str = Field(max_length=32, index=True)
    subtype: str | None = Field(default=None, max_length=32)
    state: str = Field(max_length=32, index=True)
    version: int = 1
    channel: str = Field(default="phone", max_length=16)
    customer_id: int | None = Field(default=None, foreign_key="customer.id", index=True)
    site_id: int | None = Field(default=None, foreign_key="site.id")
    equipment_id: int | None = Field(default=None, foreign_key="equipment.id")
    region_id: int | None = Field(default=None, foreign_key="region.id", index=True)
    provider_id: int | None = Field(default=None, foreign_key="provider.id")
    engineer_id: int | None = Field(default=None, foreign_key="user.id")
    parent_id: int | None = Field(default=None, foreign_key="work_order.id")
    zone: str | None = Field(default=None, max_length=16)
    description: str = Field(default="", max_length=4000)
    contact_name: str = Field(default="", max_length=100)
    contact_phone: str = Field(default="", max_length=32)
    complaint_level: str | None = Field(default=None, max_length=16)
    special_incident: bool = False
    register_number: str | None = Field(default=None, unique=True, max_length=16)
    department: str | None = Field(default=None, max_length=100)
    flags: list[str] = _json(list)
    reported_at: datetime = _dt(nullable=False)
    scheduled_for: datetime | None = _dt()
    appointment_at: datetime | None = _dt()
    dispatched_at: datetime | None = _dt()
    acknowledged_at: datetime | None = _dt()
    contacted_at: datetime | None = _dt()
    departed_at: datetime | None = _dt()
    arrived_at: datetime | None = _dt()
    completed_at: datetime | None = _dt()
    closed_at: datetime | None = _dt()
    hold_reason: str | None = Field(default=None, max_length=32)
    report: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType, nullable=True))
    answer: str | None = Field(default=None, max_length=4000)
    audit_result: str | None = Field(default=None, max_length=16)
    void_reason: str | None = Field(default=None, max_length=32)
    cancel_reason: str | None = Field(default=None, max_length=500)
    follow_up: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONType, nullable=True))
    urge_count: int = 0
    last_urged_at: datetime | None = _dt()
    created_by: int | None = Field(default=None, foreign_key="user.id")
    last_agent_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = _dt(nullable=False)
    updated_at: datetime = _dt(nullable=False)


class WorkOrderEvent(SQLModel, table=True):
    """Append-only: a database trigger refuses UPDATE and DELETE."""

    __tablename__ = "work_order_event"
    __table_args__ = (UniqueConstraint("work_order_id", "seq", name="uq_work_order_event_seq"),)
    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(unique=True, max_length=36)
    work_order_id: int = Field(foreign_key="work_order.id", index=True)
    seq: int
    type: str = Field(max_length=64)
    actor_id: int | None = None
    actor_role: str = Field(default="system", max_length=32)
    occurred_at: datetime = _dt(nullable=False)
    recorded_at: datetime = _dt(nullable=False)
    payload: dict[str, Any] = _json(dict)


class Outbox(SQLModel, table=True):
    """Events written in the transaction of the change; the relay hands them on after commit."""

    id: int | None = Field(default=None, primary_key=True)
    event_id: str = Field(unique=True, max_length=36)
    type: str = Field(max_length=64)
    key: str = Field(max_length=64, index=True)  # ordering key, e.g. work_order:42
    payload: dict[str, Any] = _json(dict)
    created_at: datetime = _dt(nullable=False)
    published_at: datetime | None = _dt(index=True)


class AuditLog(SQLModel, table=True):
    """Who changed what, when. Append-only: a database trigger refuses UPDATE and DELETE."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = _dt(nullable=False, index=True)
    actor_id: int | None = Field(default=None, index=True)
    actor_role: str = Field(default="system", max_length=32)
    action: str = Field(max_length=64, index=True)
    target_type: str = Field(default="", max_length=32)
    target_id: str = Field(default="", max_length=64)
    request_id: str = Field(default="", max_length=64)
    details: dict[str, Any] = _json(dict)


class RefreshToken(SQLModel, table=True):
    __tablename__ = "refresh_token"
    id: int | None = Field(default=None, primary_key=True)
    family_id: str = Field(max_length=36, index=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token_hash: str = Field(unique=True, max_length=64)
    created_at: datetime = _dt(nullable=False)
    expires_at: datetime = _dt(nullable=False)
    used_at: datetime | None = _dt()
    revoked_at: datetime | None = _dt()


class LoginAttempt(SQLModel, table=True):
    __tablename__ = "login_attempt"
    __table_args__ = (Index("ix_login_attempt_username_at", "username", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64)
    user_id: int | None = None
    at: datetime = _dt(nullable=False)
    success: bool
    remote: str = Field(default="", max_length=64)


class DailyCounter(SQLModel, table=True):
    __tablename__ = "daily_counter"
    name: str = Field(primary_key=True, max_length=32)
    day: str = Field(primary_key=True, max_length=8)
    value: int = 0
