"""Tables of the engineers' mobile API: idempotency records, the mobile action log (device time,
server time, position, check-in), devices and their push tokens, push notifications (one row per
notification and token: the outbox and dedupe key of delivery), signatures and photos."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.persistence.tables import _dt, _json


class IdempotencyRecord(SQLModel, table=True):
    """A mutating request's key, scoped to its user, with the first response. Kept >= 72 h."""

    __tablename__ = "idempotency_record"
    user_id: int = Field(primary_key=True, foreign_key="user.id")
    key: str = Field(primary_key=True, max_length=255)
    fingerprint: str = Field(max_length=64)
    method: str = Field(max_length=8)
    path: str = Field(max_length=255)
    state: str = Field(max_length=16)  # "done": a record is written once, with its response
    status_code: int | None = None
    response_body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    response_headers: dict[str, Any] = _json(dict)
    created_at: datetime = _dt(nullable=False, index=True)
    completed_at: datetime | None = _dt()


class MobileAction(SQLModel, table=True):
    """One row per action a phone sent that reached the rules: when it happened on the device,
    when the server got it, where the phone was, and what came of it."""

    __tablename__ = "mobile_action"
    id: int | None = Field(default=None, primary_key=True)
    work_order_id: int = Field(foreign_key="work_order.id", index=True)
    user_id: int = Field(foreign_key="user.id")
    action: str = Field(max_length=16)
    outcome: str = Field(max_length=16)  # applied | already_applied
    idempotency_key: str | None = Field(default=None, max_length=255)
    client_seq: int | None = None
    occurred_at: datetime = _dt(nullable=False)
    received_at: datetime = _dt(nullable=False)
    queued_offline: bool = False
    latitude: float | None = None
    longitude: float | None = None
    accuracy_m: float | None = None
    distance_m: float | None = None
    checkin_status: str | None = Field(default=None, max_length=16)
    version_after: int


class Device(SQLModel, table=True):
    """A phone's push token. Several per user; deactivated (never deleted) when FCM rejects it."""

    __tablename__ = "device"
    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id", index=True)
    token: str = Field(unique=True, max_length=1024)
    platform: str = Field(max_length=16)  # android | ios | web
    app_version: str = Field(default="", max_length=32)
    active: bool = True
    created_at: datetime = _dt(nullable=False)
    last_seen_at: datetime = _dt(nullable=False)
    deactivated_at: datetime | None = _dt()
    deactivated_reason: str | None = Field(default=None, max_length=64)


class PushNotification(SQLModel, table=True):
    """One push to one token, written in the transaction of the change that causes it."""

    __tablename__ = "push_notification"
    __table_args__ = (
        UniqueConstraint("notification_key", "token", name="uq_push_notification_key_token"),
        Index("ix_push_notification_due", "state", "next_attempt_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    notification_key: str = Field(max_length=36)  # shared by the rows of one notification
    user_id: int = Field(foreign_key="user.id", index=True)
    device_id: int | None = Field(default=None, foreign_key="device.id")
    token: str | None = Field(default=None, max_length=1024)
    kind: str = Field(max_length=32)
    work_order_id: int | None = Field(default=None, foreign_key="work_order.id", index=True)
    title: str = Field(max_length=512)
    body: str = Field(sa_column=Column(Text, nullable=False))
    data: dict[str, Any] = _json(dict)
    collapse_key: str = Field(max_length=64)
    ttl_s: int
    high_priority: bool = True
    ack_deadline: datetime | None = _dt()  # dispatch pushes: the TTL runs out here
    state: str = Field(max_length=16)
    attempts: int = 0
    next_attempt_at: datetime | None = _dt()
    claimed_at: datetime | None = _dt()
    sent_at: datetime | None = _dt()
    message_id: str | None = Field(default=None, max_length=255)
    last_error: str | None = Field(default=None, max_length=255)
    created_at: datetime = _dt(nullable=False)


class WorkOrderSignature(SQLModel, table=True):
    """The customer's signature over the service report; ``sha256`` covers the canonical form."""

    __tablename__ = "work_order_signature"
    id: int | None = Field(default=None, primary_key=True)
    work_order_id: int = Field(foreign_key="work_order.id", unique=True)
    engineer_id: int = Field(foreign_key="user.id")
    signer_name: str = Field(max_length=100)
    signer_role: str = Field(max_length=32)
    signed_at: datetime = _dt(nullable=False)
    received_at: datetime = _dt(nullable=False)
    # The signed report and the strokes as the canonical JSON text that was hashed: byte-exact,
    # whatever a database's JSON type would normalise (key order, -0.0, number formats).
    report_json: str = Field(sa_column=Column(Text, nullable=False))
    report_version: int
    strokes_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    strokes_sha256: str | None = Field(default=None, max_length=64)
    image: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    image_sha256: str | None = Field(default=None, max_length=64)
    image_width: int | None = None
    image_height: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    accuracy_m: float | None = None
    distance_m: float | None = None
    checkin_status: str | None = Field(default=None, max_length=16)
    hash_version: int = 1
    sha256: str = Field(max_length=64)


class WorkOrderPhoto(SQLModel, table=True):
    __tablename__ = "work_order_photo"
    id: int | None = Field(default=None, primary_key=True)
    work_order_id: int = Field(foreign_key="work_order.id", index=True)
    user_id: int = Field(foreign_key="user.id")
    content_type: str = Field(max_length=32)
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    size: int
    sha256: str = Field(max_length=64)
    caption: str = Field(default="", max_length=500)
    taken_at: datetime | None = _dt()
    created_at: datetime = _dt(nullable=False)
