"""Request schemas of the console API. Unknown fields are refused; the domain checks the rules."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field, field_validator

from backend.web.requests import StrictModel

# Strict: in lax mode JSON ``true`` is the integer 1 (a dispatch to user 1) and "7" is 7.
Id = Annotated[int, Field(gt=0, strict=True)]
Satisfaction = Annotated[int, Field(ge=1, le=5, strict=True)]

KindName = Literal["repair", "installation", "commissioning", "proactive", "rescue", "new_fault_mode",
                   "consultation", "complaint", "suggestion"]


class CreateWorkOrderIn(StrictModel):
    kind: KindName
    description: str = Field(min_length=1, max_length=4000)
    channel: Literal["phone", "email", "sms", "fax", "web"] = "phone"
    subtype: Literal["pre_acceptance", "start_up", "periodic_inspection"] | None = None
    customer_id: Id | None = None
    site_id: Id | None = None
    equipment_id: Id | None = None
    contact_name: str = Field(default="", max_length=100)
    contact_phone: str = Field(default="", max_length=32)
    complaint_level: Literal["general", "medium", "strong", "irrational"] | None = None
    special_incident: bool = False
    schedule_now: bool = False


class DispatchIn(StrictModel):
    engineer_id: Id | None = None
    provider_id: Id | None = None


class UrgeIn(StrictModel):
    by: Literal["center", "customer"] = "center"
    note: str = Field(default="", max_length=500)


class ReasonIn(StrictModel):
    reason: str = Field(min_length=1, max_length=500)


class NoteIn(StrictModel):
    note: str = Field(default="", max_length=500)


class VoidIn(StrictModel):
    reason: Literal["fake", "duplicate"]
    note: str = Field(default="", max_length=500)


class FollowUpIn(StrictModel):
    reachable: bool
    satisfaction: Satisfaction | None = None
    resolved: bool | None = None
    note: str = Field(default="", max_length=500)


class EditIn(StrictModel):
    """Only the fields sent change (``exclude_unset``); None here means "not sent"."""

    description: str | None = Field(default=None, min_length=1, max_length=4000)
    contact_name: str | None = Field(default=None, max_length=100)
    contact_phone: str | None = Field(default=None, max_length=32)
    appointment_at: AwareDatetime | None = None  # null clears the appointment
    complaint_level: Literal["general", "medium", "strong", "irrational"] | None = None
    special_incident: bool | None = None

    @field_validator("description", "contact_name", "contact_phone", "special_incident", mode="before")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        # These columns are NOT NULL: an explicit null would reach the UPDATE and fail there (500).
        if value is None:
            raise ValueError("may not be null")
        return value


class ForwardIn(StrictModel):
    department: str = Field(min_length=1, max_length=100)
    note: str = Field(default="", max_length=500)


class AnswerIn(StrictModel):
    answer: str = Field(min_length=1, max_length=4000)


class CallBackIn(StrictModel):
    reachable: bool = True
    satisfaction: Satisfaction | None = None
    note: str = Field(default="", max_length=500)


class ListQuery(StrictModel):
    state: list[str] | str | None = None
    kind: list[str] | str | None = None
    region_id: int | None = None
    engineer_id: int | None = None
    provider_id: int | None = None
    customer_id: int | None = None
    limit: int = Field(default=50, ge=1, le=200)
    offset: int = Field(default=0, ge=0)


class ScreenPopQuery(StrictModel):
    phone: str = Field(min_length=1, max_length=32)

