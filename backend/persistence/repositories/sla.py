"""Queries for the service rules: policy overrides, deadline rows (upsert, guarded state changes,
what is due), breaches (at most one per order and rule) and escalations."""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, event, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, SessionTransaction
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from backend.domain.sla.planner import Open
from backend.domain.sla.policy import PolicyEntry
from backend.persistence.statements import Executor, Statement, dialect_of
from backend.persistence.tables_sla import SlaBreach, SlaDeadline, SlaEscalation, SlaPolicy

D = SlaDeadline
OPEN = "open"


def _insert(session: Executor) -> Any:
    return pg_insert if is_postgres(session) else sqlite_insert


def is_postgres(session: Executor) -> bool:
    return dialect_of(session).name == "postgresql"


# --- policies ----------------------------------------------------------------------------------

_POLICY = SlaPolicy.__table__  # type: ignore[attr-defined]
_POLICY_ENTRIES = Statement(sa_select(*(_POLICY.c[name] for name in (
    "rule", "kind", "zone", "seconds", "warn_seconds", "basis", "enabled", "percent"))).order_by(_POLICY.c.id))


async def policy_entries(session: Executor) -> list[PolicyEntry]:
    return [PolicyEntry(*row) for row in await _POLICY_ENTRIES.all(session)]


async def put_policy(session: AsyncSession, entry: PolicyEntry, now: datetime, by: int | None) -> None:
    values = {"seconds": entry.seconds, "warn_seconds": entry.warn_seconds, "basis": entry.basis,
              "enabled": entry.enabled, "percent": entry.percent, "updated_at": now, "updated_by": by}
    stmt = _insert(session)(SlaPolicy).values(rule=entry.rule, kind=entry.kind, zone=entry.zone, **values)
    stmt = stmt.on_conflict_do_update(index_elements=["rule", "kind", "zone"], set_=values)
    await session.exec(stmt)


async def delete_policy(session: AsyncSession, rule: str, kind: str, zone: str) -> bool:
    result = await session.exec(delete(SlaPolicy).where(  # type: ignore[call-overload]
        SlaPolicy.rule == rule, SlaPolicy.kind == kind, SlaPolicy.zone == zone))
    return bool(result.rowcount)


# --- deadlines ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Deadline:
    """A deadline row as read (plain values, not an ORM instance)."""

    id: int
    work_order_id: int
    rule: str
    state: str
    basis: str
    starts_at: datetime
    due_at: datetime
    warn_at: datetime
    opened_at: datetime
    closed_at: datetime | None
    warned_at: datetime | None
    enqueued_at: datetime | None


_T = D.__table__  # type: ignore[attr-defined]
# Read and moved by most work-order actions: on the driver (``persistence.statements``).
DEADLINE_COLUMNS = tuple(_T.c[f.name] for f in fields(Deadline))
_DEADLINES_OF = Statement(sa_select(*DEADLINE_COLUMNS)
                          .where(_T.c.work_order_id == bindparam("work_order_id")).order_by(_T.c.id))
_TRANSITION = Statement(update(_T).where(_T.c.id == bindparam("b_id"), _T.c.state == OPEN)
                        .values(state=bindparam("to"), closed_at=bindparam("at")))
_TRANSITION_IF_DUE = Statement(update(_T).where(_T.c.id == bindparam("b_id"), _T.c.state == OPEN,
                                                _T.c.due_at <= bindparam("due_by"))
                               .values(state=bindparam("to"), closed_at=bindparam("at")))


_PREFETCHED = "fieldline.sla.prefetched"  # session.info: deadlines read with their order, not yet used


def prefetched(session: Executor, work_order_id: int, deadlines: list[Deadline]) -> None:
    """The order's deadlines, read together with the order (``work_orders.get``): the next
    ``deadlines_of`` of that order in this session takes them instead of reading, unless a deadline
    was written meanwhile."""
    session.info.setdefault(_PREFETCHED, {})[work_order_id] = deadlines


def _written(session: Executor) -> None:
    session.info.pop(_PREFETCHED, None)


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, _transaction: SessionTransaction) -> None:
    session.info.pop(_PREFETCHED, None)  # read in a transaction, good for that transaction only


async def deadlines_of(session: Executor, work_order_id: int) -> list[Deadline]:
    early = session.info.get(_PREFETCHED, {}).pop(work_order_id, None)
    if early is not None:
        return early
    return [Deadline(*row) for row in await _DEADLINES_OF.all(session, work_order_id=work_order_id)]


async def get(session: AsyncSession, deadline_id: int) -> SlaDeadline | None:
    return await session.get(D, deadline_id, populate_existing=True)


def _upsert(insert: Any) -> Statement:
    stmt = insert(_T).values({name: bindparam(name) for name in _UPSERTED})
    return Statement(stmt.on_conflict_do_update(
        index_elements=["work_order_id", "rule"], set_={name: stmt.excluded[name] for name in _UPSERTED[2:]},
        where=_T.c.state != "breached"))


_UPSERTED = ("work_order_id", "rule", "state", "basis", "starts_at", "due_at", "warn_at", "opened_at", "closed_at",
             "warned_at", "enqueued_at")
_UPSERT = {"postgresql": _upsert(pg_insert), "sqlite": _upsert(sqlite_insert)}


async def upsert_deadline(session: Executor, work_order_id: int, change: Open, now: datetime) -> None:
    """Open the (order, rule) deadline, or restart it; a breached one stays breached (at most once)."""
    _written(session)
    await _UPSERT["postgresql" if is_postgres(session) else "sqlite"].rowcount(
        session, work_order_id=work_order_id, rule=str(change.rule), state=OPEN, basis=str(change.basis),
        starts_at=change.starts_at, due_at=change.due_at, warn_at=change.warn_at, opened_at=now, closed_at=None,
        warned_at=None, enqueued_at=None)


async def transition(session: Executor, deadline_id: int, to: str, at: datetime, *,
                     due_by: datetime | None = None) -> bool:
    """Move an open deadline to ``to``; False if it was no longer open (or not yet due by ``due_by``).
    On PostgreSQL the UPDATE waits for a concurrent firing and re-checks: exactly one of them wins."""
    _written(session)
    if due_by is None:
        return await _TRANSITION.rowcount(session, b_id=deadline_id, to=to, at=at) == 1
    return await _TRANSITION_IF_DUE.rowcount(session, b_id=deadline_id, to=to, at=at, due_by=due_by) == 1


_EXTEND = Statement(update(_T).where(_T.c.id == bindparam("b_id"), _T.c.state == OPEN).values(
    due_at=bindparam("due_at"), warn_at=bindparam("warn_at"), warned_at=None, enqueued_at=None))


async def extend(session: Executor, deadline_id: int, due_at: datetime, warn_at: datetime) -> None:
    _written(session)
    await _EXTEND.rowcount(session, b_id=deadline_id, due_at=due_at, warn_at=warn_at)


async def due_ids(session: AsyncSession, now: datetime, limit: int) -> list[int]:
    stmt = (sa_select(D.id).where(D.state == OPEN, D.due_at <= now)  # type: ignore[arg-type]
            .order_by(D.due_at).limit(limit))
    return list((await session.exec(stmt)).scalars().all())  # type: ignore[call-overload]


async def warn_ids(session: AsyncSession, now: datetime, limit: int) -> list[int]:
    stmt = (sa_select(D.id).where(D.state == OPEN, D.warn_at <= now, D.warned_at.is_(None),  # type: ignore[arg-type, union-attr]
                                  D.due_at > now).order_by(D.warn_at).limit(limit))
    return list((await session.exec(stmt)).scalars().all())  # type: ignore[call-overload]


async def mark_warned(session: AsyncSession, deadline_id: int, at: datetime) -> bool:
    _written(session)
    result = await session.exec(update(D).where(  # type: ignore[call-overload]
        D.id == deadline_id, D.state == OPEN, D.warned_at.is_(None)).values(warned_at=at))  # type: ignore[arg-type, union-attr]
    return result.rowcount == 1


async def next_instant(session: AsyncSession) -> datetime | None:
    """The earliest pending due or warning time (for the embedded loop's wake-up)."""
    due = (await session.exec(sa_select(func.min(D.due_at)).where(D.state == OPEN))).scalar_one()  # type: ignore[call-overload, arg-type]
    warn = (await session.exec(sa_select(func.min(D.warn_at)).where(  # type: ignore[call-overload]
        D.state == OPEN, D.warned_at.is_(None)))).scalar_one()  # type: ignore[arg-type, union-attr]
    candidates = [t for t in (due, warn) if t is not None]
    return min(candidates) if candidates else None


async def to_enqueue(session: AsyncSession, until: datetime, *, only_new: bool,
                     limit: int) -> list[tuple[int, datetime, datetime, bool]]:
    """(id, due_at, warn_at, warned) of open deadlines due by ``until``; ``only_new``: not yet enqueued."""
    stmt = sa_select(D.id, D.due_at, D.warn_at, D.warned_at.is_not(None)).where(  # type: ignore[union-attr]
        D.state == OPEN, D.due_at <= until)  # type: ignore[arg-type]
    if only_new:
        stmt = stmt.where(D.enqueued_at.is_(None))  # type: ignore[union-attr]
    rows = (await session.exec(stmt.order_by(D.due_at).limit(limit))).all()  # type: ignore[call-overload]
    return [(r[0], r[1], r[2], bool(r[3])) for r in rows]


async def mark_enqueued(session: AsyncSession, ids: list[int], at: datetime) -> None:
    if ids:
        await session.exec(update(D).where(D.id.in_(ids)).values(enqueued_at=at))  # type: ignore[call-overload, union-attr]


# --- breaches and escalations ------------------------------------------------------------------

async def insert_breach(session: AsyncSession, **values: Any) -> int | None:
    """The new breach's id, or None if the (order, rule) has already breached."""
    stmt = _insert(session)(SlaBreach).values(**values).on_conflict_do_nothing(
        index_elements=["work_order_id", "rule"]).returning(SlaBreach.id)
    return (await session.exec(stmt)).scalar_one_or_none()  # type: ignore[call-overload]


async def open_breaches_of(session: AsyncSession, work_order_id: int) -> list[SlaBreach]:
    stmt = select(SlaBreach).where(SlaBreach.work_order_id == work_order_id,
                                   SlaBreach.resolved_at.is_(None))  # type: ignore[union-attr]
    return list((await session.exec(stmt.execution_options(populate_existing=True))).all())


async def resolve_breach(session: AsyncSession, breach_id: int, at: datetime, resolution: str) -> bool:
    result = await session.exec(update(SlaBreach).where(  # type: ignore[call-overload]
        SlaBreach.id == breach_id, SlaBreach.resolved_at.is_(None)).values(  # type: ignore[arg-type, union-attr]
        resolved_at=at, resolution=resolution))
    if result.rowcount == 1:
        await session.exec(update(SlaEscalation).where(  # type: ignore[call-overload]
            SlaEscalation.breach_id == breach_id, SlaEscalation.state == "open").values(  # type: ignore[arg-type]
            state="resolved", done_at=at))
    return result.rowcount == 1


async def add_escalation(session: AsyncSession, escalation: SlaEscalation) -> int:
    session.add(escalation)
    await session.flush()
    assert escalation.id is not None
    return escalation.id
