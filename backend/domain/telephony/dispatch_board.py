"""The dispatch board's view of a work order: the card the ``work_orders`` channel shows and the
next deadline the order must meet. The deadlines restate the service rules of docs/DOMAIN
(acknowledge in 3 min, contact in 30 min, arrive by zone in 24/48/72 h...) for display; the SLA
engine's timers remain the authority that fires breaches."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from backend.domain.telephony.views import iso
from backend.domain.work_orders.model import FINAL_STATES, Kind, State

ACKNOWLEDGE = timedelta(minutes=3)
CONTACT = timedelta(minutes=30)
RESPONSE_BY_ZONE = {"city": timedelta(hours=24), "suburb": timedelta(hours=48), "remote": timedelta(hours=72)}
DISPATCH_BY_KIND = {Kind.RESCUE: timedelta(minutes=10), Kind.NEW_FAULT_MODE: timedelta(minutes=60)}
ANSWER_BY_KIND = {Kind.CONSULTATION: timedelta(hours=3), Kind.COMPLAINT: timedelta(hours=24)}


@dataclass(frozen=True)
class OrderFacts:
    """The columns the board needs (from the work_order row)."""

    id: int
    number: str
    kind: str
    state: str
    zone: str | None = None
    region_id: int | None = None
    engineer_id: int | None = None
    provider_id: int | None = None
    complaint_level: str | None = None
    special_incident: bool = False
    flags: tuple[str, ...] = ()
    urge_count: int = 0
    last_urged_at: datetime | None = None
    reported_at: datetime | None = None
    scheduled_for: datetime | None = None
    dispatched_at: datetime | None = None
    acknowledged_at: datetime | None = None
    appointment_at: datetime | None = None
    arrived_at: datetime | None = None


def on_board(state: str) -> bool:
    return State(state) not in FINAL_STATES


def next_deadline(o: OrderFacts) -> tuple[str, datetime] | None:
    state, kind = State(o.state), Kind(o.kind)
    if state is State.CREATED and kind in DISPATCH_BY_KIND and o.reported_at is not None:
        return "dispatch", o.reported_at + DISPATCH_BY_KIND[kind]
    if state is State.DISPATCHED and o.dispatched_at is not None:
        return "acknowledge", o.dispatched_at + ACKNOWLEDGE
    if state is State.ACKNOWLEDGED and o.dispatched_at is not None:
        return "contact", o.dispatched_at + CONTACT
    if state in (State.CONTACTED, State.EN_ROUTE) and o.zone in RESPONSE_BY_ZONE:
        start = o.scheduled_for or o.reported_at
        if start is None:
            return None
        due = start + RESPONSE_BY_ZONE[o.zone]
        if o.appointment_at is not None and o.appointment_at > due:
            due = o.appointment_at  # the customer chose a later date
        return "arrive", due
    if state in (State.RECEIVED, State.FORWARDED) and kind in ANSWER_BY_KIND and o.reported_at is not None:
        return "answer", o.reported_at + ANSWER_BY_KIND[kind]
    return None


def order_card(o: OrderFacts) -> dict[str, Any]:
    deadline = next_deadline(o)
    return {
        "id": o.id, "number": o.number, "kind": o.kind, "state": o.state, "zone": o.zone, "region_id": o.region_id,
        "engineer_id": o.engineer_id, "provider_id": o.provider_id, "complaint_level": o.complaint_level,
        "special_incident": o.special_incident, "flags": list(o.flags), "urge_count": o.urge_count,
        "last_urged_at": iso(o.last_urged_at), "reported_at": iso(o.reported_at),
        "scheduled_for": iso(o.scheduled_for), "dispatched_at": iso(o.dispatched_at),
        "acknowledged_at": iso(o.acknowledged_at), "appointment_at": iso(o.appointment_at),
        "arrived_at": iso(o.arrived_at),
        "deadline": None if deadline is None else {"kind": deadline[0], "due_at": iso(deadline[1])},
    }


def counts(cards: dict[str, dict[str, Any]]) -> dict[str, int]:
    result: dict[str, int] = {}
    for card in cards.values():
        result[card["state"]] = result.get(card["state"], 0) + 1
    return dict(sorted(result.items()))


def moved_counts(counts: dict[str, int], moved: list[tuple[dict[str, Any] | None, dict[str, Any] | None]]
                 ) -> dict[str, int]:
    """``counts`` of a board after cards moved: (old card or None, new card or None) each; equal
    to ``counts`` of the new board (states with no card are left out, sorted by state)."""
    result = dict(counts)
    for old, new in moved:
        if old is not None:
            result[old["state"]] -= 1
        if new is not None:
            result[new["state"]] = result.get(new["state"], 0) + 1
    return dict(sorted((state, n) for state, n in result.items() if n > 0))
