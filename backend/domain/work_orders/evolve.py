"""The projection: an order's current record is its events folded in order.
``evolve(order, event, at)`` applies one event; ``at`` is when it happened (client time for phones)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from backend import events as ev
from backend.domain.work_orders.model import DESK_KINDS, Kind, State, WorkOrder


def _created(e: ev.WorkOrderCreated, at: datetime) -> WorkOrder:
    kind = Kind(e.kind)
    return WorkOrder(
        id=e.work_order_id, number=e.number, kind=kind,
        state=State.RECEIVED if kind in DESK_KINDS else State.CREATED,
        subtype=e.subtype, region_id=e.region_id, equipment_id=e.equipment_id, parent_id=e.parent_id,
        description=e.description, contact_name=e.contact_name, contact_phone=e.contact_phone,
        complaint_level=e.complaint_level, special_incident=e.special_incident,
        register_number=e.register_number, flags=tuple(e.flags), reported_at=e.reported_at,
        scheduled_for=e.scheduled_for, updated_at=at,
    )


def _changes(o: WorkOrder, e: ev.Event, at: datetime) -> dict[str, Any]:
    match e:
        case ev.WorkOrderEdited(changes=changes):
            return {k: (datetime.fromisoformat(v) if k == "appointment_at" and v else v)
                    for k, v in changes.items()}
        case ev.WorkOrderDispatched(engineer_id=eng, provider_id=prov):
            return {"state": State.DISPATCHED, "engineer_id": eng, "provider_id": prov, "dispatched_at": at,
                    "acknowledged_at": None, "contacted_at": None, "departed_at": None, "hold_reason": None}
        case ev.WorkOrderAcknowledged(engineer_id=eng):
            return {"state": State.ACKNOWLEDGED, "engineer_id": eng, "acknowledged_at": at}
        case ev.WorkOrderDeclined():
            return {"state": State.CREATED, "engineer_id": None, "provider_id": None}
        case ev.CustomerContacted(appointment_at=appointment):
            return {"state": State.CONTACTED, "appointment_at": appointment,
                    "contacted_at": o.contacted_at or at}
        case ev.EngineerDeparted():
            return {"state": State.EN_ROUTE, "departed_at": at}
        case ev.EngineerArrived(arrived_at=arrived):
            return {"state": State.ON_SITE, "arrived_at": arrived}
        case ev.WorkOrderHeld(reason=reason):
            return {"state": State.ON_HOLD, "hold_reason": reason}
        case ev.WorkOrderResumed():
            return {"state": State.ON_SITE, "hold_reason": None}
        case ev.WorkOrderCompleted(completed_at=completed, report=report):
            return {"state": State.COMPLETED, "completed_at": completed, "report": report}
        case ev.WorkOrderApproved():
            return {"state": State.APPROVED, "audit_result": "approved"}
        case ev.WorkOrderVoided(reason=reason):
            return {"state": State.VOIDED, "audit_result": "voided", "void_reason": reason}
        case ev.FollowUpRecorded(reachable=reachable, satisfaction=sat, resolved=resolved, note=note):
            return {"state": State.FOLLOWED_UP,
                    "follow_up": {"reachable": reachable, "satisfaction": sat, "resolved": resolved,
                                  "note": note, "at": at.isoformat()}}
        case ev.SecondDispatchOpened(child_id=child, child_number=number):
            return {"extra": {**o.extra, "second_dispatch": {"id": child, "number": number}}}
        case ev.WorkOrderClosed():
            return {"state": State.CLOSED, "closed_at": at}
        case ev.WorkOrderCancelled(reason=reason):
            return {"state": State.CANCELLED, "cancel_reason": reason, "closed_at": at}
        case ev.WorkOrderUrged():
            return {"urge_count": o.urge_count + 1, "last_urged_at": at}
        case ev.DeskItemForwarded(department=dept):
            return {"state": State.FORWARDED, "department": dept}
        case ev.DeskItemAnswered(answer=answer):
            return {"state": State.ANSWERED, "answer": answer}
        case ev.DeskItemCalledBack(reachable=reachable, satisfaction=sat, note=note):
            return {"state": State.CALLED_BACK,
                    "follow_up": {"reachable": reachable, "satisfaction": sat, "note": note,
                                  "at": at.isoformat()}}
    raise TypeError(f"not a work-order event: {e.type}")


def evolve(order: WorkOrder | None, event: ev.Event, at: datetime) -> WorkOrder:
    if isinstance(event, ev.WorkOrderCreated):
        if order is not None:
            raise ValueError("WorkOrderCreated applies to no order")
        return _created(event, at)
    if order is None:
        raise ValueError(f"{event.type} needs an existing order")
    return replace(order, **_changes(order, event, at), version=order.version + 1, updated_at=at)


def replay(history: Iterable[tuple[ev.Event, datetime]]) -> WorkOrder | None:
    """Fold a whole event log: the record the table holds must equal this."""
    order: WorkOrder | None = None
    for event, at in history:
        order = evolve(order, event, at)
    return order
