"""Work-order kinds, states and the record the rules work on (a projection of its event log)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    REPAIR = "repair"
    INSTALLATION = "installation"
    COMMISSIONING = "commissioning"
    PROACTIVE = "proactive"
    RESCUE = "rescue"
    NEW_FAULT_MODE = "new_fault_mode"
    CONSULTATION = "consultation"
    COMPLAINT = "complaint"
    SUGGESTION = "suggestion"


FIELD_KINDS = frozenset({Kind.REPAIR, Kind.INSTALLATION, Kind.COMMISSIONING, Kind.PROACTIVE, Kind.RESCUE,
                         Kind.NEW_FAULT_MODE})
DESK_KINDS = frozenset({Kind.CONSULTATION, Kind.COMPLAINT, Kind.SUGGESTION})
FAULT_KINDS = frozenset({Kind.REPAIR, Kind.RESCUE, Kind.NEW_FAULT_MODE})
# Every completed repair gets a follow-up call (100 %); installations are sampled (SLA rules).
FOLLOW_UP_KINDS = FAULT_KINDS


class ProactiveType(StrEnum):
    PRE_ACCEPTANCE = "pre_acceptance"
    START_UP = "start_up"
    PERIODIC_INSPECTION = "periodic_inspection"


class ComplaintLevel(StrEnum):
    GENERAL = "general"
    MEDIUM = "medium"
    STRONG = "strong"
    IRRATIONAL = "irrational"


class State(StrEnum):
    # field lifecycle
    CREATED = "created"  # awaiting dispatch (also where a declined order returns)
    DISPATCHED = "dispatched"
    ACKNOWLEDGED = "acknowledged"
    CONTACTED = "contacted"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    ON_HOLD = "on_hold"
    COMPLETED = "completed"
    APPROVED = "approved"
    VOIDED = "voided"
    FOLLOWED_UP = "followed_up"
    # desk lifecycle
    RECEIVED = "received"
    FORWARDED = "forwarded"
    ANSWERED = "answered"
    CALLED_BACK = "called_back"
    # both
    CLOSED = "closed"
    CANCELLED = "cancelled"


FINAL_STATES = frozenset({State.CLOSED, State.CANCELLED})
# Where the work is still to be done: an order here can be cancelled, urged and edited.
OPEN_STATES = frozenset({State.CREATED, State.DISPATCHED, State.ACKNOWLEDGED, State.CONTACTED,
                         State.EN_ROUTE, State.ON_SITE, State.ON_HOLD, State.RECEIVED, State.FORWARDED,
                         State.ANSWERED})
# Completed work: only audit, follow-up and close apply; the report is frozen.
LOCKED_STATES = frozenset({State.COMPLETED, State.APPROVED, State.VOIDED, State.FOLLOWED_UP,
                           State.CALLED_BACK})
ASSIGNED_STATES = frozenset({State.ACKNOWLEDGED, State.CONTACTED, State.EN_ROUTE, State.ON_SITE,
                             State.ON_HOLD})


class HoldReason(StrEnum):
    WAITING_FOR_PARTS = "waiting_for_parts"
    CUSTOMER_ABSENT = "customer_absent"
    OTHER = "other"


class VoidReason(StrEnum):
    FAKE = "fake"
    DUPLICATE = "duplicate"


class UrgeSource(StrEnum):
    CENTER = "center"
    CUSTOMER = "customer"


class Flag(StrEnum):
    POSSIBLE_DUPLICATE = "possible_duplicate"
    OUT_OF_WARRANTY = "out_of_warranty"
    AFTER_CUTOFF = "after_cutoff"  # reported after 16:00 or outside business hours
    CUTOFF_OVERRIDDEN = "cutoff_overridden"  # a supervisor scheduled it at once anyway
    SPECIAL_INCIDENT = "special_incident"
    SECOND_DISPATCH = "second_dispatch"


REPORT_FIELDS = ("arrival_time", "completion_time", "fault_description", "faulty_part", "repair_method",
                 "running_hours")
OPTIONAL_REPORT_FIELDS = ("customer_opinion",)


@dataclass(frozen=True, slots=True)
class WorkOrder:
    """The current state of one work order. Field names match the table's columns."""

    id: int
    number: str
    kind: Kind
    state: State
    version: int = 1
    subtype: str | None = None
    region_id: int | None = None
    provider_id: int | None = None
    engineer_id: int | None = None
    equipment_id: int | None = None
    parent_id: int | None = None
    description: str = ""
    contact_name: str = ""
    contact_phone: str = ""
    complaint_level: str | None = None
    special_incident: bool = False
    register_number: str | None = None
    department: str | None = None
    flags: tuple[str, ...] = ()
    reported_at: datetime | None = None
    scheduled_for: datetime | None = None
    appointment_at: datetime | None = None
    dispatched_at: datetime | None = None
    acknowledged_at: datetime | None = None
    contacted_at: datetime | None = None
    departed_at: datetime | None = None
    arrived_at: datetime | None = None
    completed_at: datetime | None = None
    closed_at: datetime | None = None
    hold_reason: str | None = None
    report: dict[str, Any] | None = None
    answer: str | None = None
    audit_result: str | None = None
    void_reason: str | None = None
    cancel_reason: str | None = None
    follow_up: dict[str, Any] | None = None
    urge_count: int = 0
    last_urged_at: datetime | None = None
    updated_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_field(self) -> bool:
        return self.kind in FIELD_KINDS

    @property
    def is_desk(self) -> bool:
        return self.kind in DESK_KINDS
