"""Service-rule events: deadlines about to fall due, breaches and their escalations, follow-up
tasks, the daily clearing and report jobs. Breach and deadline events carry everything a
supervisor's alert list needs, so ``snapshot + events`` rebuilds it (``domain.sla.alerts``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from backend.events.base import Event


class SlaEvent(Event):
    """About the service rules of one work order: its own aggregate, so its own ordering key
    (``sla:<order id>``), apart from the order's lifecycle events."""

    work_order_id: int
    number: str

    @property
    def key(self) -> str:
        return f"sla:{self.work_order_id}"


class DeadlineApproaching(SlaEvent):
    type: Literal["DeadlineApproaching"] = "DeadlineApproaching"
    rule: str
    deadline_id: int
    kind: str
    due_at: datetime
    region_id: int | None = None
    provider_id: int | None = None
    engineer_id: int | None = None


class DeadlineCleared(SlaEvent):
    """A deadline that was announced as approaching was met or no longer applies."""

    type: Literal["DeadlineCleared"] = "DeadlineCleared"
    rule: str
    deadline_id: int
    outcome: str  # met | cancelled | restarted (re-dispatched: a new due time)


class SlaBreached(SlaEvent):
    type: Literal["SlaBreached"] = "SlaBreached"
    rule: str
    breach_id: int
    deadline_id: int
    kind: str
    due_at: datetime
    detected_at: datetime
    escalation: str
    region_id: int | None = None
    provider_id: int | None = None
    engineer_id: int | None = None
    resolved: bool = False  # detected only when the condition was finally met (or the order ended)


class SlaEscalated(SlaEvent):
    type: Literal["SlaEscalated"] = "SlaEscalated"
    rule: str
    breach_id: int
    escalation_id: int
    action: str
    task: bool  # an agent has to act (phone the engineer and manager, call the customer back)
    urged: bool = False
    notify_user_ids: list[int] = Field(default_factory=list)  # the engineer / managers to push to


class SlaBreachResolved(SlaEvent):
    type: Literal["SlaBreachResolved"] = "SlaBreachResolved"
    rule: str
    breach_id: int
    resolution: str  # met_late | cancelled


class EscalationTaskDone(SlaEvent):
    type: Literal["EscalationTaskDone"] = "EscalationTaskDone"
    rule: str
    escalation_id: int
    by_user_id: int | None = None
    note: str = ""


class FollowUpTaskCreated(SlaEvent):
    type: Literal["FollowUpTaskCreated"] = "FollowUpTaskCreated"
    task_id: int
    kind: str
    sampled: bool  # picked by the installation sample (not a 100 % kind)


class FollowUpTaskDone(SlaEvent):
    type: Literal["FollowUpTaskDone"] = "FollowUpTaskDone"
    task_id: int
    reachable: bool
    satisfaction: int | None = None
    resolved: bool | None = None
    second_dispatch_id: int | None = None


class DailyClearingCompleted(Event):
    type: Literal["DailyClearingCompleted"] = "DailyClearingCompleted"
    clearing_id: int
    day: str  # YYYY-MM-DD, local
    unfinished: int
    urged: int


class ReportReady(Event):
    type: Literal["ReportReady"] = "ReportReady"
    report_job_id: int
    report: str
    period: str
    rows: int


class ReportFailed(Event):
    type: Literal["ReportFailed"] = "ReportFailed"
    report_job_id: int
    report: str
    error: str
