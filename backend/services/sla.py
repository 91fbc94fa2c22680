"""The SLA reaction: in the work order's own transaction, open, restart, meet, cancel and push back
its deadlines (rows), and record a breach the moment a condition is met too late. Also creates and
closes follow-up tasks. Must not import ``services.work_orders`` (it runs inside it)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from backend import events as ev
from backend.domain.actors import Principal
from backend.domain.sla.planner import Cancel, Change, Context, Extend, Open, Satisfy, opens_any, plan
from backend.domain.sla.policy import PolicyTable
from backend.domain.sla.rules import Rule
from backend.domain.work_orders import WorkOrder
from backend.persistence.repositories import sla as repo
from backend.persistence.repositories import work_orders as wo_repo
from backend.services import sla_follow_ups as follow_ups
from backend.services.uow import UnitOfWork


async def load_policies(uow: UnitOfWork) -> PolicyTable:
    return PolicyTable(await repo.policy_entries(uow.db))


async def sla_reaction(uow: UnitOfWork, actor: Principal, order: WorkOrder, events: list[ev.Event]) -> None:
    """The reaction registered in ``services.reactions``: deadlines first, then follow-up tasks."""
    created = next((e for e in events if isinstance(e, ev.WorkOrderCreated)), None)
    policies: PolicyTable | None = None
    zone = created.zone if created else None
    if opens_any(events) or follow_ups.may_open(events):
        policies = await load_policies(uow)
        if created is None:
            place = await wo_repo.place(uow.db, order.id)
            zone = place.zone if place else None
    at = order.updated_at or uow.now()
    changes = plan(order, events, at, policies, uow.calendar, Context(zone=zone))
    if changes:
        await _Applier(uow, order, fresh=created is not None).apply(changes)
    await follow_ups.on_events(uow, actor, order, events, policies)


@dataclass
class _Applier:
    uow: UnitOfWork
    order: WorkOrder
    fresh: bool  # a new order has no deadline rows yet
    _rows: dict[str, repo.Deadline] | None = None
    _stale: bool = False
    _opened: list[Rule] = field(default_factory=list)

    async def rows(self) -> dict[str, repo.Deadline]:
        if self._rows is None or self._stale:
            found = [] if self.fresh and not self._stale else await repo.deadlines_of(self.uow.db, self.order.id)
            self._rows = {d.rule: d for d in found}
            self._stale = False
        return self._rows

    async def apply(self, changes: list[Change]) -> None:
        for change in changes:
            match change:
                case Open(rule=rule):
                    existing = None if self.fresh else (await self.rows()).get(str(rule))
                    if existing is not None and existing.state == repo.OPEN:
                        self._cleared(existing, "restarted")
                    await repo.upsert_deadline(self.uow.db, self.order.id, change, self.uow.now())
                    self.uow.timer_set(min(change.warn_at, change.due_at))
                    self._stale = True
                case Satisfy(rule=rule, at=at):
                    await self._satisfy(str(rule), at)
                case Cancel(rule=rule, at=at, reason=reason):
                    rows = await self.rows()
                    for name in ([str(rule)] if rule is not None else list(rows)):
                        await self._cancel(name, at, reason)
                case Extend(rule=rule, not_before=not_before):
                    await self._extend(str(rule), not_before)

    async def _satisfy(self, rule: str, at: datetime) -> None:
        row = (await self.rows()).get(rule)
        if row is None:
            return
        if row.state == repo.OPEN:
            if at <= row.due_at:
                if await repo.transition(self.uow.db, _id(row), "met", at):
                    self._cleared(row, "met")
                    self._moved(row, state="met", closed_at=at)
                    return
            elif await repo.transition(self.uow.db, _id(row), "breached", at):
                await self._late_breach(row, "met_late")
                self._moved(row, state="breached", closed_at=at)
                return
            self._stale = True  # a concurrent firing won: it breached, resolve that below
            row = (await self.rows()).get(rule, row)
        if row.state == "breached":
            await self._resolve(rule, at, "met_late")

    async def _cancel(self, rule: str, at: datetime, reason: str) -> None:
        row = (await self.rows()).get(rule)
        if row is None:
            return
        if row.state == repo.OPEN:
            if at <= row.due_at:
                if await repo.transition(self.uow.db, _id(row), "cancelled", at):
                    self._cleared(row, "cancelled")
                    self._moved(row, state="cancelled", closed_at=at)
                    return
            elif await repo.transition(self.uow.db, _id(row), "breached", at):
                # The deadline had passed unmet before the order ended: still a breach.
                await self._late_breach(row, "cancelled")
                self._moved(row, state="breached", closed_at=at)
                return
            self._stale = True
            row = (await self.rows()).get(rule, row)
        if row.state == "breached":
            await self._resolve(rule, at, "cancelled")

    async def _extend(self, rule: str, not_before: datetime) -> None:
        row = (await self.rows()).get(rule)
        if row is None or row.state != repo.OPEN or row.due_at >= not_before:
            return
        margin = row.due_at - row.warn_at
        await repo.extend(self.uow.db, _id(row), not_before, not_before - margin)
        self.uow.timer_set(not_before - margin)
        self._moved(row, due_at=not_before, warn_at=not_before - margin, warned_at=None, enqueued_at=None)

    def _moved(self, row: repo.Deadline, **written: Any) -> None:
        """Our own guarded UPDATE of ``row`` succeeded (we hold its row lock): the row is now what it
        was with ``written``; no need to read it again."""
        if self._rows is not None and not self._stale:
            self._rows[row.rule] = replace(row, **written)

    def _cleared(self, row: repo.Deadline, outcome: str) -> None:
        # Supervisors were told it was close, or it is inside its margin and so already on their
        # alert list (announced or not): tell them it is over.
        if row.warned_at is not None or row.warn_at <= self.uow.now():
            self.uow.emit(ev.DeadlineCleared(work_order_id=self.order.id, number=self.order.number, rule=row.rule,
                                             deadline_id=_id(row), outcome=outcome))

    async def _late_breach(self, row: repo.Deadline, resolution: str) -> None:
        """The condition came (or the order ended) after the due time, before any timer fired."""
        now, o = self.uow.now(), self.order
        breach_id = await repo.insert_breach(
            self.uow.session, deadline_id=_id(row), work_order_id=o.id, rule=row.rule, kind=str(o.kind),
            due_at=row.due_at, detected_at=now, provider_id=o.provider_id, engineer_id=o.engineer_id,
            region_id=o.region_id, escalation="", resolved_at=now, resolution=resolution)
        if breach_id is not None:
            self.uow.emit(ev.SlaBreached(
                work_order_id=o.id, number=o.number, rule=row.rule, breach_id=breach_id, deadline_id=_id(row),
                kind=str(o.kind), due_at=row.due_at, detected_at=now, escalation="", region_id=o.region_id,
                provider_id=o.provider_id, engineer_id=o.engineer_id, resolved=True))

    async def _resolve(self, rule: str, at: datetime, resolution: str) -> None:
        for breach in await repo.open_breaches_of(self.uow.session, self.order.id):
            if breach.rule == rule and breach.id is not None and await repo.resolve_breach(
                    self.uow.session, breach.id, at, resolution):
                self.uow.emit(ev.SlaBreachResolved(work_order_id=self.order.id, number=self.order.number,
                                                   rule=rule, breach_id=breach.id, resolution=resolution))


def _id(row: repo.Deadline) -> int:
    assert row.id is not None
    return row.id
