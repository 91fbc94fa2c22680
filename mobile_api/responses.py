"""Response schemas of the mobile API. The read models come from the services as dataclasses;
these models name them for the OpenAPI document and shape the JSON, so the two cannot drift."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from backend.services.devices import DeviceView
from backend.services.mobile_notifications import NotificationView
from backend.services.mobile_photos import PhotoView
from backend.services.mobile_views import CheckInRecord, OrderSummary


class Out(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorBody(Out):
    code: str
    message: str
    details: dict[str, Any]


class ErrorOut(Out):
    error: ErrorBody


class CheckInOut(Out):
    status: Literal["inside", "outside", "no_fix", "offline", "site_unknown"]
    distance_m: float | None
    radius_m: float
    warning: str | None


class ActionOut(Out):
    outcome: Literal["applied", "already_applied"]
    occurred_at: datetime
    received_at: datetime
    check_in: CheckInOut | None
    work_order: OrderSummary


class WorkOrderListOut(Out):
    items: list[OrderSummary]
    total: int
    limit: int
    offset: int


class CheckInListOut(Out):
    items: list[CheckInRecord]


class SignatureOut(Out):
    id: int
    work_order_id: int
    engineer_id: int
    signer_name: str
    signer_role: str
    signed_at: datetime
    received_at: datetime
    report: dict[str, Any]
    report_version: int
    strokes: list[list[dict[str, float]]] | None
    image_png_base64: str | None
    image_width: int | None
    image_height: int | None
    image_sha256: str | None
    strokes_sha256: str | None
    latitude: float | None
    longitude: float | None
    accuracy_m: float | None
    distance_m: float | None
    checkin_status: str | None
    sha256: str
    hash_version: int


class PhotoListOut(Out):
    items: list[PhotoView]


class DeviceListOut(Out):
    items: list[DeviceView]


class NotificationListOut(Out):
    items: list[NotificationView]
    total: int
    limit: int
    offset: int


class BatchItemOut(Out):
    idempotency_key: str
    seq: int
    work_order_id: int
    action: str
    status: int
    replayed: bool
    body: ActionOut | ErrorOut


class BatchOut(Out):
    items: list[BatchItemOut]
