"""Creating a work order or desk item: kind-specific validation and the flags raised at
creation (possible duplicate, out of warranty, reported late), all visible to the audit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from backend import errors
from backend import events as ev
from backend.domain.actors import CONSOLE_ROLES, Principal, Role
from backend.domain.calendar import BusinessCalendar
from backend.domain.work_orders.model import (
    FIELD_KINDS,
    ComplaintLevel,
    Flag,
    Kind,
    ProactiveType,
)

CHANNELS = frozenset({"phone", "email", "sms", "fax", "web", "internal"})


@dataclass(frozen=True, slots=True)
class NewWorkOrder:
    kind: str
    description: str
    channel: str = "phone"
    subtype: str | None = None
    customer_id: int | None = None
    site_id: int | None = None
    equipment_id: int | None = None
    region_id: int | None = None
    zone: str | None = None
    contact_name: str = ""
    contact_phone: str = ""
    complaint_level: str | None = None
    special_incident: bool = False
    parent_id: int | None = None
    schedule_now: bool = False  # supervisor override of the late-report rule


@dataclass(frozen=True, slots=True)
class CreationFacts:
    warranty_end: date | None = None
    has_open_duplicate: bool = False


def validate_new(spec: NewWorkOrder, actor: Principal) -> Kind:
    if actor.role not in CONSOLE_ROLES | {Role.SYSTEM}:
        raise errors.Forbidden("role-not-allowed", "work orders are created at the console", role=actor.role)
    try:
        kind = Kind(spec.kind)
    except ValueError:
        raise errors.ValidationFailed("kind-invalid", f"unknown kind {spec.kind!r}",
                                      allowed=[k.value for k in Kind]) from None
    if spec.channel not in CHANNELS:
        raise errors.ValidationFailed("channel-invalid", f"unknown channel {spec.channel!r}",
                                      allowed=sorted(CHANNELS))
    if not spec.description.strip():
        raise errors.ValidationFailed("description-required", "describe the fault or the request")
    if kind in FIELD_KINDS and (spec.customer_id is None or spec.site_id is None):
        raise errors.ValidationFailed("site-required", "a field order needs a customer and a site")
    if kind is Kind.PROACTIVE and spec.subtype not in {p.value for p in ProactiveType}:
        raise errors.ValidationFailed("subtype-invalid", "proactive service needs a type",
                                      allowed=[p.value for p in ProactiveType])
    if kind is Kind.COMPLAINT:
        if spec.complaint_level not in {lv.value for lv in ComplaintLevel}:
            raise errors.ValidationFailed("complaint-level-invalid", "a complaint needs a level",
                                          allowed=[lv.value for lv in ComplaintLevel])
    elif spec.complaint_level is not None or spec.special_incident:
        raise errors.ValidationFailed("complaint-fields-misplaced", "complaint level is for complaints only")
    if spec.schedule_now and actor.role not in (Role.SUPERVISOR, Role.ADMIN):
        raise errors.Forbidden("override-not-allowed", "only a supervisor may schedule a late report at once")
    return kind


def plan_creation(spec: NewWorkOrder, actor: Principal, now: datetime, calendar: BusinessCalendar,
                  facts: CreationFacts, *, work_order_id: int, number: str,
                  register_number: str | None = None) -> ev.WorkOrderCreated:
    kind = validate_new(spec, actor)
    flags: list[str] = []
    scheduled_for: datetime | None = None
    if kind in FIELD_KINDS:
        if facts.has_open_duplicate:
            flags.append(Flag.POSSIBLE_DUPLICATE)
        if facts.warranty_end is not None and facts.warranty_end < calendar.local(now).date():
            flags.append(Flag.OUT_OF_WARRANTY)
        scheduled_for = now
        if calendar.is_late_report(now):
            flags.append(Flag.AFTER_CUTOFF)
            if spec.schedule_now:
                flags.append(Flag.CUTOFF_OVERRIDDEN)
            else:
                scheduled_for = calendar.next_opening_after(now)
    if spec.special_incident:
        flags.append(Flag.SPECIAL_INCIDENT)
    if spec.parent_id is not None:
        flags.append(Flag.SECOND_DISPATCH)
    return ev.WorkOrderCreated(
        work_order_id=work_order_id, number=number, kind=kind, subtype=spec.subtype, channel=spec.channel,
        customer_id=spec.customer_id, site_id=spec.site_id, equipment_id=spec.equipment_id,
        region_id=spec.region_id, zone=spec.zone, parent_id=spec.parent_id, description=spec.description,
        contact_name=spec.contact_name, contact_phone=spec.contact_phone, complaint_level=spec.complaint_level,
        special_incident=spec.special_incident, register_number=register_number,
        flags=[str(f) for f in flags], reported_at=now, scheduled_for=scheduled_for,
    )
