"""The deadlines a phone shows, as timestamps computed from the order (DOMAIN.md): acknowledge
within 3 min and contact the customer within 30 min of the dispatch, report status within 3 h,
respond by zone (city 24 h, suburb 48 h, elsewhere 72 h). The SLA timers own enforcement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from backend.domain.work_orders.model import WorkOrder

ACKNOWLEDGE_WITHIN = timedelta(minutes=3)
CONTACT_WITHIN = timedelta(minutes=30)
STATUS_REPORT_WITHIN = timedelta(hours=3)
RESPONSE_BY_ZONE = {"city": timedelta(hours=24), "suburb": timedelta(hours=48), "remote": timedelta(hours=72)}
DEFAULT_RESPONSE = RESPONSE_BY_ZONE["remote"]  # "elsewhere"


@dataclass(frozen=True, slots=True)
class Deadlines:
    acknowledge_by: datetime | None
    contact_by: datetime | None
    status_report_by: datetime | None
    respond_by: datetime | None


def deadlines(order: WorkOrder, zone: str | None) -> Deadlines:
    """Null where a deadline does not apply (desk items, not dispatched yet)."""
    if not order.is_field:
        return Deadlines(None, None, None, None)
    dispatched = order.dispatched_at
    start = order.scheduled_for or order.reported_at  # a late report counts from the next opening
    respond = start + RESPONSE_BY_ZONE.get(zone or "", DEFAULT_RESPONSE) if start else None
    if order.appointment_at is not None and respond is not None and order.appointment_at > respond:
        respond = order.appointment_at  # the customer chose a later date
    return Deadlines(
        acknowledge_by=dispatched + ACKNOWLEDGE_WITHIN if dispatched else None,
        contact_by=dispatched + CONTACT_WITHIN if dispatched else None,
        status_report_by=dispatched + STATUS_REPORT_WITHIN if dispatched else None,
        respond_by=respond,
    )


def acknowledge_ttl_s(order: WorkOrder, now: datetime, floor_s: int = 60) -> int:
    """Seconds left to acknowledge: a dispatch push is useless afterwards (the agent phones)."""
    due = deadlines(order, None).acknowledge_by
    if due is None:
        return floor_s
    return max(floor_s, int((due - now).total_seconds()))
