"""The supervisors' SLA alert list: every open breach and every deadline about to fall due. A pure
reducer applies SLA events to a snapshot, so ``snapshot + events == fresh snapshot`` (the hub's
contract); the time left is computed when the list is shown, never stored."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, Literal

from backend import events as ev

AlertKey = tuple[str, int]


@dataclass(frozen=True, slots=True)
class Alert:
    alert: Literal["breach", "approaching"]
    work_order_id: int
    number: str
    rule: str
    kind: str
    deadline_id: int
    due_at: datetime
    breach_id: int | None = None
    detected_at: datetime | None = None
    escalation: str | None = None
    region_id: int | None = None
    provider_id: int | None = None
    engineer_id: int | None = None

    @property
    def key(self) -> AlertKey:
        return ("breach", self.breach_id or 0) if self.alert == "breach" else ("deadline", self.deadline_id)

    def view(self, now: datetime) -> dict[str, Any]:
        """The alert with the time left (negative: overdue by that much)."""
        return {**asdict(self), "seconds_left": round((self.due_at - now).total_seconds(), 3)}


Alerts = dict[AlertKey, Alert]


def index(alerts: Iterable[Alert]) -> Alerts:
    return {a.key: a for a in alerts}


def apply(alerts: Alerts, event: ev.Event) -> Alerts:
    """The alert list after ``event`` (events other than the SLA ones leave it unchanged)."""
    out = dict(alerts)
    match event:
        case ev.DeadlineApproaching():
            # Who is on the order may change while it is approaching: the alert names the region only.
            alert = Alert("approaching", event.work_order_id, event.number, event.rule, event.kind, event.deadline_id,
                          event.due_at, region_id=event.region_id)
            out[alert.key] = alert
        case ev.DeadlineCleared():
            out.pop(("deadline", event.deadline_id), None)
        case ev.SlaBreached():
            out.pop(("deadline", event.deadline_id), None)
            if not event.resolved:
                alert = Alert("breach", event.work_order_id, event.number, event.rule, event.kind, event.deadline_id,
                              event.due_at, breach_id=event.breach_id, detected_at=event.detected_at,
                              escalation=event.escalation, region_id=event.region_id, provider_id=event.provider_id,
                              engineer_id=event.engineer_id)
                out[alert.key] = alert
        case ev.SlaBreachResolved():
            out.pop(("breach", event.breach_id), None)
    return out


def ordered(alerts: Iterable[Alert]) -> list[Alert]:
    """Breaches first (oldest first), then deadlines by how soon they fall due."""
    return sorted(alerts, key=lambda a: (a.alert != "breach", a.due_at, a.deadline_id))
