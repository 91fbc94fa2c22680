"""Firing deadlines: each firing re-reads the deadline and the order in its own transaction and acts
only if the state still calls for it (a met deadline never breaches; a lost race does nothing).
A breach records the breach and one escalation, urges the order if the rule says so, and emits
the events supervisors (and, through the push hook, the engineer and manager) receive."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select as sa_select

from backend import errors
from backend import events as ev
from backend.domain.actors import SYSTEM, Role
from backend.domain.sla.firing import Verdict, escalation_for, verdict
from backend.domain.sla.rules import Notify, Rule
from backend.domain.work_orders import WorkOrder
from backend.domain.work_orders import commands as c
from backend.persistence.repositories import sla as repo
from backend.persistence.repositories import work_orders as wo_repo
from backend.persistence.tables import User
from backend.persistence.tables_sla import SlaDeadline, SlaEscalation
from backend.services import sla_notify
from backend.services import work_orders as wo
from backend.services.uow import UnitOfWork, UnitOfWorkFactory

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    BREACHED = "breached"
    MET = "met"
    VOID = "void"
    NOT_DUE = "not_due"
    GONE = "gone"  # no longer open: met, cancelled, or fired by someone else


@dataclass(frozen=True, slots=True)
class Fired:
    outcome: Outcome
    due_at: datetime | None = None
    breach_id: int | None = None


async def fire(uow: UnitOfWork, deadline_id: int) -> Fired:
    """Fire one deadline if it is due and still open. The caller commits."""
    now, session = uow.now(), uow.session
    row = await repo.get(session, deadline_id)
    if row is None or row.state != repo.OPEN:
        return Fired(Outcome.GONE)
    if row.due_at > now:
        return Fired(Outcome.NOT_DUE, row.due_at)
    order = await wo_repo.get(session, row.work_order_id)
    assert order is not None
    found = verdict(Rule(row.rule), order, row.starts_at)
    if found is not Verdict.BREACH:
        to = "met" if found is Verdict.MET else "cancelled"
        if not await repo.transition(session, deadline_id, to, now):
            return Fired(Outcome.GONE)
        if row.warned_at is not None or row.warn_at <= now:  # it is on the alert list: take it off
            uow.emit(ev.DeadlineCleared(work_order_id=order.id, number=order.number, rule=row.rule,
                                        deadline_id=deadline_id, outcome=to))
        return Fired(Outcome.MET if found is Verdict.MET else Outcome.VOID)
    if not await repo.transition(session, deadline_id, "breached", now, due_by=now):
        return Fired(Outcome.GONE)
    breach_id = await _breach(uow, row, order, now)
    return Fired(Outcome.BREACHED, row.due_at, breach_id)


async def _breach(uow: UnitOfWork, row: SlaDeadline, order: WorkOrder, now: datetime) -> int | None:
    session, rule = uow.session, Rule(row.rule)
    plan = escalation_for(rule)
    breach_id = await repo.insert_breach(
        session, deadline_id=row.id, work_order_id=order.id, rule=row.rule, kind=str(order.kind), due_at=row.due_at,
        detected_at=now, provider_id=order.provider_id, engineer_id=order.engineer_id, region_id=order.region_id,
        escalation=str(plan.action))
    if breach_id is None:  # this (order, rule) breached before a restart: at most once
        return None
    notify = await _recipients(uow, order, plan.notify)
    urged, note = False, plan.note
    if plan.urge:
        try:
            await wo.act(uow, SYSTEM, order.id, c.Urge(by="center", note=f"automatic: {plan.note}"))
            urged = True
        except errors.DomainError as exc:  # e.g. the order moved to a state that cannot be urged
            note = f"{plan.note} (not urged: {exc.code})"
    escalation_id = await repo.add_escalation(session, SlaEscalation(
        breach_id=breach_id, work_order_id=order.id, rule=row.rule, action=str(plan.action), task=plan.task,
        state="open" if plan.task else "done", urged=urged, notify_user_ids=notify, note=note[:500],
        created_at=now, done_at=None if plan.task else now))
    uow.emit(ev.SlaBreached(
        work_order_id=order.id, number=order.number, rule=row.rule, breach_id=breach_id, deadline_id=row.id or 0,
        kind=str(order.kind), due_at=row.due_at, detected_at=now, escalation=str(plan.action),
        region_id=order.region_id, provider_id=order.provider_id, engineer_id=order.engineer_id))
    uow.emit(ev.SlaEscalated(
        work_order_id=order.id, number=order.number, rule=row.rule, breach_id=breach_id,
        escalation_id=escalation_id, action=str(plan.action), task=plan.task, urged=urged, notify_user_ids=notify))
    uow.audit(SYSTEM, "sla.breached", "work_order", order.id, rule=row.rule, breach_id=breach_id,
              due_at=row.due_at.isoformat(), escalation=str(plan.action), urged=urged)
    await sla_notify.notify_escalation(uow, order, row.rule, escalation_id, notify, note)
    return breach_id


async def _recipients(uow: UnitOfWork, order: WorkOrder, who: frozenset[Notify]) -> list[int]:
    ids: list[int] = []
    if Notify.ENGINEER in who and order.engineer_id is not None:
        ids.append(order.engineer_id)
    if Notify.MANAGER in who and order.region_id is not None:
        stmt = sa_select(User.id).where(User.role == str(Role.SERVICE_MANAGER), User.region_id == order.region_id,
                                        User.active.is_(True)).order_by(User.id)  # type: ignore[attr-defined]
        ids += [i for i in (await uow.session.exec(stmt)).scalars().all() if i not in ids]  # type: ignore[call-overload]
    return ids


async def warn(uow: UnitOfWork, deadline_id: int) -> bool:
    """Announce a deadline entering its warning margin (once). The caller commits."""
    now = uow.now()
    row = await repo.get(uow.session, deadline_id)
    if row is None or row.state != repo.OPEN or row.warned_at is not None or row.warn_at > now or row.due_at <= now:
        return False
    if not await repo.mark_warned(uow.session, deadline_id, now):
        return False
    order = await wo_repo.get(uow.session, row.work_order_id)
    assert order is not None
    uow.emit(ev.DeadlineApproaching(
        work_order_id=order.id, number=order.number, rule=row.rule, deadline_id=deadline_id, kind=str(order.kind),
        due_at=row.due_at, region_id=order.region_id, provider_id=order.provider_id, engineer_id=order.engineer_id))
    return True


async def fire_one(uows: UnitOfWorkFactory, deadline_id: int) -> Fired:
    """Fire in a unit of work of its own, committed."""
    async with uows() as uow:
        fired = await fire(uow, deadline_id)
        await uow.commit()
        return fired


async def warn_one(uows: UnitOfWorkFactory, deadline_id: int) -> bool:
    async with uows() as uow:
        warned = await warn(uow, deadline_id)
        await uow.commit()
        return warned


async def fire_due(uows: UnitOfWorkFactory, limit: int = 500, *, overdue_by: timedelta = timedelta(0)) -> list[Fired]:
    """Fire every deadline due ``overdue_by`` ago or earlier (up to ``limit``), one transaction each;
    a failure is logged and the deadline stays open for the next pass."""
    async with uows() as uow:
        ids = await repo.due_ids(uow.session, uow.now() - overdue_by, limit)
    results: list[Fired] = []
    for deadline_id in ids:
        try:
            results.append(await fire_one(uows, deadline_id))
        except Exception:
            log.exception("firing deadline %s failed; it stays due", deadline_id)
    return results


async def warn_due(uows: UnitOfWorkFactory, limit: int = 500) -> int:
    async with uows() as uow:
        ids = await repo.warn_ids(uow.session, uow.now(), limit)
    warned = 0
    for deadline_id in ids:
        try:
            warned += await warn_one(uows, deadline_id)
        except Exception:
            log.exception("warning for deadline %s failed", deadline_id)
    return warned


async def next_instant(uows: UnitOfWorkFactory) -> datetime | None:
    async with uows() as uow:
        return await repo.next_instant(uow.session)
