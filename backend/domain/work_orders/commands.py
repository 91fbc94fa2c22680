"""Commands on a work order (imperative), as plain frozen dataclasses."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Dispatch:
    engineer_id: int | None = None
    provider_id: int | None = None


@dataclass(frozen=True, slots=True)
class Acknowledge:
    pass


@dataclass(frozen=True, slots=True)
class Decline:
    reason: str


@dataclass(frozen=True, slots=True)
class ContactCustomer:
    appointment_at: datetime


@dataclass(frozen=True, slots=True)
class Depart:
    pass


@dataclass(frozen=True, slots=True)
class Arrive:
    pass


@dataclass(frozen=True, slots=True)
class Hold:
    reason: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Resume:
    pass


@dataclass(frozen=True, slots=True)
class Complete:
    report: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Approve:
    note: str = ""


@dataclass(frozen=True, slots=True)
class Void:
    reason: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class RecordFollowUp:
    reachable: bool
    satisfaction: int | None = None
    resolved: bool | None = None
    note: str = ""


@dataclass(frozen=True, slots=True)
class Close:
    pass


@dataclass(frozen=True, slots=True)
class Cancel:
    reason: str


@dataclass(frozen=True, slots=True)
class Urge:
    by: str = "center"
    note: str = ""


@dataclass(frozen=True, slots=True)
class Edit:
    changes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Forward:
    department: str
    note: str = ""


@dataclass(frozen=True, slots=True)
class Answer:
    answer: str


@dataclass(frozen=True, slots=True)
class CallBack:
    reachable: bool = True
    satisfaction: int | None = None
    note: str = ""


Command = (Dispatch | Acknowledge | Decline | ContactCustomer | Depart | Arrive | Hold | Resume | Complete
           | Approve | Void | RecordFollowUp | Close | Cancel | Urge | Edit | Forward | Answer | CallBack)

ENGINEER_COMMANDS: tuple[type, ...] = (Acknowledge, Decline, ContactCustomer, Depart, Arrive, Hold, Resume,
                                       Complete)
CONSOLE_COMMANDS: tuple[type, ...] = (Dispatch, Approve, Void, RecordFollowUp, Close, Cancel, Urge, Edit,
                                      Forward, Answer, CallBack)
DESK_COMMANDS: tuple[type, ...] = (Forward, Answer, CallBack)
FIELD_COMMANDS: tuple[type, ...] = (Dispatch, *ENGINEER_COMMANDS, Approve, Void, RecordFollowUp)
EDITABLE_FIELDS = frozenset({"description", "contact_name", "contact_phone", "appointment_at",
                             "complaint_level", "special_incident"})
