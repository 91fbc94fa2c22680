"""What supervisors see of the service rules: the alert snapshot (open breaches and deadlines about
to fall due, for the console and the hub), breach history, and the escalation tasks agents work."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import select

from backend import errors
from backend import events as ev
from backend.domain.actors import Principal
from backend.domain.sla.alerts import Alert, ordered
from backend.persistence.tables import WorkOrder
from backend.persistence.tables_sla import SlaBreach, SlaDeadline, SlaEscalation
from backend.services.uow import UnitOfWork

D, B, E = SlaDeadline, SlaBreach, SlaEscalation


async def open_alerts(uow: UnitOfWork, now: datetime, *, margin: timedelta | None = None,
                      region_id: int | None = None) -> list[Alert]:
    """Every open breach, and every open deadline inside its warning margin (each rule's own margin
    from the policy table, or ``margin`` for all) or already due and not yet fired. Render each with
    ``alert.view(now)`` for the time left. This is the hub's SLA snapshot."""
    s = uow.session
    breaches = select(B, WorkOrder.number).join(WorkOrder, WorkOrder.id == B.work_order_id).where(
        B.resolved_at.is_(None))  # type: ignore[union-attr]
    soon = D.warn_at <= now if margin is None else D.due_at <= now + margin
    deadlines = select(D, WorkOrder).join(WorkOrder, WorkOrder.id == D.work_order_id).where(
        D.state == "open", or_(soon, D.warned_at.is_not(None)))  # type: ignore[arg-type, union-attr]
    if region_id is not None:
        breaches = breaches.where(B.region_id == region_id)
        deadlines = deadlines.where(WorkOrder.region_id == region_id)
    alerts = [Alert("breach", b.work_order_id, number, b.rule, b.kind, b.deadline_id, b.due_at, breach_id=b.id,
                    detected_at=b.detected_at, escalation=b.escalation, region_id=b.region_id,
                    provider_id=b.provider_id, engineer_id=b.engineer_id)
              for b, number in (await s.exec(breaches)).all()]
    alerts += [Alert("approaching", d.work_order_id, w.number, d.rule, w.kind, d.id or 0, d.due_at,
                     region_id=w.region_id)
               for d, w in (await s.exec(deadlines)).all()]
    return ordered(alerts)


@dataclass(frozen=True)
class BreachView:
    id: int
    work_order_id: int
    number: str
    rule: str
    kind: str
    due_at: datetime
    detected_at: datetime
    provider_id: int | None
    engineer_id: int | None
    region_id: int | None
    escalation: str
    resolved_at: datetime | None
    resolution: str | None


async def list_breaches(uow: UnitOfWork, *, open_only: bool, rule: str | None, since: datetime | None,
                        limit: int, offset: int) -> tuple[list[BreachView], int]:
    stmt = select(B, WorkOrder.number).join(WorkOrder, WorkOrder.id == B.work_order_id)
    if open_only:
        stmt = stmt.where(B.resolved_at.is_(None))  # type: ignore[union-attr]
    if rule:
        stmt = stmt.where(B.rule == rule)
    if since is not None:
        stmt = stmt.where(B.detected_at >= since)  # type: ignore[arg-type]
    total = (await uow.session.exec(sa_select(func.count()).select_from(stmt.subquery()))).scalar_one()  # type: ignore[call-overload]
    rows = (await uow.session.exec(stmt.order_by(B.detected_at.desc(), B.id.desc())  # type: ignore[union-attr, attr-defined]
                                   .limit(limit).offset(offset))).all()
    return [BreachView(b.id or 0, b.work_order_id, number, b.rule, b.kind, b.due_at, b.detected_at, b.provider_id,
                       b.engineer_id, b.region_id, b.escalation, b.resolved_at, b.resolution)
            for b, number in rows], total


@dataclass(frozen=True)
class EscalationView:
    id: int
    breach_id: int
    work_order_id: int
    number: str
    rule: str
    action: str
    task: bool
    state: str
    urged: bool
    notify_user_ids: list[int]
    note: str
    created_at: datetime
    done_at: datetime | None
    done_by: int | None
    engineer_id: int | None
    contact_phone: str


async def list_escalations(uow: UnitOfWork, *, state: str | None, limit: int,
                           offset: int) -> tuple[list[EscalationView], int]:
    stmt = select(E, WorkOrder).join(WorkOrder, WorkOrder.id == E.work_order_id)
    if state:
        stmt = stmt.where(E.state == state)
    total = (await uow.session.exec(sa_select(func.count()).select_from(stmt.subquery()))).scalar_one()  # type: ignore[call-overload]
    rows = (await uow.session.exec(stmt.order_by(E.created_at, E.id).limit(limit).offset(offset))).all()  # type: ignore[arg-type]
    return [_escalation_view(e, w) for e, w in rows], total


def _escalation_view(e: SlaEscalation, w: WorkOrder) -> EscalationView:
    return EscalationView(e.id or 0, e.breach_id, e.work_order_id, w.number, e.rule, e.action, e.task, e.state,
                          e.urged, list(e.notify_user_ids), e.note, e.created_at, e.done_at, e.done_by,
                          w.engineer_id, w.contact_phone)


async def complete_escalation(uow: UnitOfWork, actor: Principal, escalation_id: int, note: str) -> EscalationView:
    """An agent did what the task asked (phoned the engineer and manager, called the customer back)."""
    s, now = uow.session, uow.now()
    found = (await s.exec(select(E, WorkOrder).join(WorkOrder, WorkOrder.id == E.work_order_id)
                          .where(E.id == escalation_id))).first()
    if found is None:
        raise errors.NotFound("escalation-not-found", f"no escalation {escalation_id}")
    esc, order = found
    if not esc.task or esc.state != "open":
        raise errors.Conflict("escalation-not-open", "this escalation has no open task", state=esc.state)
    result = await s.exec(update(E).where(E.id == escalation_id, E.state == "open").values(  # type: ignore[call-overload, arg-type]
        state="done", done_at=now, done_by=actor.user_id, note=(f"{esc.note} | {note}" if note else esc.note)[:500]))
    if result.rowcount != 1:
        raise errors.Conflict("escalation-not-open", "this escalation was closed meanwhile")
    uow.emit(ev.EscalationTaskDone(work_order_id=esc.work_order_id, number=order.number, rule=esc.rule,
                                   escalation_id=escalation_id, by_user_id=actor.user_id, note=note))
    uow.audit(actor, "sla.escalation_done", "work_order", esc.work_order_id, escalation_id=escalation_id)
    refreshed = await s.get(E, escalation_id, populate_existing=True)
    assert refreshed is not None
    return _escalation_view(refreshed, order)


def alert_views(alerts: list[Alert], now: datetime) -> list[dict[str, Any]]:
    return [a.view(now) for a in alerts]
