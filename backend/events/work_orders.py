"""Work-order events: the field and desk lifecycles."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from backend.events.base import WorkOrderEvent

# --- the field and desk lifecycle -------------------------------------------------------------


class WorkOrderCreated(WorkOrderEvent):
    type: Literal["WorkOrderCreated"] = "WorkOrderCreated"
    number: str
    kind: str
    subtype: str | None = None
    channel: str = "phone"
    customer_id: int | None = None
    site_id: int | None = None
    equipment_id: int | None = None
    region_id: int | None = None
    zone: str | None = None
    parent_id: int | None = None
    description: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    complaint_level: str | None = None
    special_incident: bool = False
    register_number: str | None = None
    flags: list[str] = Field(default_factory=list)
    reported_at: datetime
    scheduled_for: datetime | None = None


class WorkOrderEdited(WorkOrderEvent):
    type: Literal["WorkOrderEdited"] = "WorkOrderEdited"
    changes: dict[str, Any]


class WorkOrderDispatched(WorkOrderEvent):
    type: Literal["WorkOrderDispatched"] = "WorkOrderDispatched"
    engineer_id: int | None = None
    provider_id: int | None = None
    previous_engineer_id: int | None = None
    redispatch: bool = False


class WorkOrderAcknowledged(WorkOrderEvent):
    type: Literal["WorkOrderAcknowledged"] = "WorkOrderAcknowledged"
    engineer_id: int


class WorkOrderDeclined(WorkOrderEvent):
    type: Literal["WorkOrderDeclined"] = "WorkOrderDeclined"
    engineer_id: int
    reason: str


class CustomerContacted(WorkOrderEvent):
    type: Literal["CustomerContacted"] = "CustomerContacted"
    appointment_at: datetime


class EngineerDeparted(WorkOrderEvent):
    type: Literal["EngineerDeparted"] = "EngineerDeparted"


class EngineerArrived(WorkOrderEvent):
    type: Literal["EngineerArrived"] = "EngineerArrived"
    arrived_at: datetime


class WorkOrderHeld(WorkOrderEvent):
    type: Literal["WorkOrderHeld"] = "WorkOrderHeld"
    reason: str
    note: str = ""


class WorkOrderResumed(WorkOrderEvent):
    type: Literal["WorkOrderResumed"] = "WorkOrderResumed"


class WorkOrderCompleted(WorkOrderEvent):
    type: Literal["WorkOrderCompleted"] = "WorkOrderCompleted"
    completed_at: datetime
    report: dict[str, Any]


class WorkOrderApproved(WorkOrderEvent):
    type: Literal["WorkOrderApproved"] = "WorkOrderApproved"
    note: str = ""


class WorkOrderVoided(WorkOrderEvent):
    type: Literal["WorkOrderVoided"] = "WorkOrderVoided"
    reason: str
    note: str = ""


class FollowUpRecorded(WorkOrderEvent):
    type: Literal["FollowUpRecorded"] = "FollowUpRecorded"
    reachable: bool
    satisfaction: int | None = None
    resolved: bool | None = None
    note: str = ""


class SecondDispatchOpened(WorkOrderEvent):
    type: Literal["SecondDispatchOpened"] = "SecondDispatchOpened"
    child_id: int
    child_number: str


class WorkOrderClosed(WorkOrderEvent):
    type: Literal["WorkOrderClosed"] = "WorkOrderClosed"


class WorkOrderCancelled(WorkOrderEvent):
    type: Literal["WorkOrderCancelled"] = "WorkOrderCancelled"
    reason: str


class WorkOrderUrged(WorkOrderEvent):
    type: Literal["WorkOrderUrged"] = "WorkOrderUrged"
    by: str  # center | customer
    note: str = ""


class DeskItemForwarded(WorkOrderEvent):
    type: Literal["DeskItemForwarded"] = "DeskItemForwarded"
    department: str
    note: str = ""


class DeskItemAnswered(WorkOrderEvent):
    type: Literal["DeskItemAnswered"] = "DeskItemAnswered"
    answer: str


class DeskItemCalledBack(WorkOrderEvent):
    type: Literal["DeskItemCalledBack"] = "DeskItemCalledBack"
    reachable: bool = True
    satisfaction: int | None = None
    note: str = ""
