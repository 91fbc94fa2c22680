"""Queries for work orders, their event log and the daily counters."""

from __future__ import annotations

import dataclasses
import functools
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from backend import errors
from backend.domain.actors import Principal
from backend.domain.work_orders import FINAL_STATES, Kind, State, WorkOrder
from backend.events import Event, parse_event
from backend.persistence import appends
from backend.persistence.repositories import sla
from backend.persistence.statements import Executor, Statement
from backend.persistence.tables import DailyCounter, Equipment, User
from backend.persistence.tables import WorkOrder as Row
from backend.persistence.tables import WorkOrderEvent as EventRow
from backend.persistence.tables_sla import SlaDeadline

_DOMAIN_FIELDS = tuple(f.name for f in dataclasses.fields(WorkOrder) if f.name != "extra")
_MUTABLE = [f for f in _DOMAIN_FIELDS if f not in ("id", "number", "kind")]
_PLACES = "fieldline.work_order_places"  # session.info: Place by order id, for the unit of work


def to_domain(row: Row) -> WorkOrder:
    return _domain_of({name: getattr(row, name) for name in _DOMAIN_FIELDS})


def _column_values(order: WorkOrder) -> dict[str, Any]:
    values = {name: getattr(order, name) for name in _MUTABLE}
    values["state"] = str(order.state)
    values["flags"] = list(order.flags)
    return values


async def get_row(session: AsyncSession, work_order_id: int) -> Row | None:
    return await session.get(Row, work_order_id)


@dataclasses.dataclass(frozen=True, slots=True)
class Place:
    """Where an order is, beside its domain state: read with it, kept for the unit of work."""

    zone: str | None
    site_id: int | None
    customer_id: int | None


_TABLE = Row.__table__  # type: ignore[attr-defined]
_PLACE_FIELDS = ("zone", "site_id", "customer_id")
# Read by every action on an order: on the driver (``persistence.statements``), no ORM instance.
_GET = Statement(sa_select(*(_TABLE.c[name] for name in (*_DOMAIN_FIELDS, *_PLACE_FIELDS)))
                 .where(_TABLE.c.id == bindparam("id")))


def _domain_of(values: dict[str, Any]) -> WorkOrder:
    values["kind"] = Kind(values["kind"])
    values["state"] = State(values["state"])
    values["flags"] = tuple(values["flags"] or ())
    return WorkOrder(**values)


# The same with the order's SLA deadlines, for a change about to be made: one round trip instead of
# two (the SLA reaction reads them next; ``sla.prefetched``). A row per deadline, or one without; the
# order's columns are taken from the first (``repeated``).
_D = SlaDeadline.__table__  # type: ignore[attr-defined]
_ORDER_WIDTH = len(_DOMAIN_FIELDS) + len(_PLACE_FIELDS)
_GET_WITH_DEADLINES = Statement(
    sa_select(*(_TABLE.c[name] for name in (*_DOMAIN_FIELDS, *_PLACE_FIELDS)), *sla.DEADLINE_COLUMNS)
    .select_from(_TABLE.outerjoin(_D, _D.c.work_order_id == _TABLE.c.id))
    .where(_TABLE.c.id == bindparam("id")).order_by(_D.c.id), repeated=_ORDER_WIDTH)


async def get(session: Executor, work_order_id: int, *, with_deadlines: bool = False) -> WorkOrder | None:
    """The order as the domain sees it. ``with_deadlines``: read its SLA deadlines in the same
    statement, for the SLA reaction of a change about to be made."""
    if with_deadlines:
        rows = await _GET_WITH_DEADLINES.all(session, id=work_order_id)
        if not rows:
            return None
        found = rows[0][:_ORDER_WIDTH]
        sla.prefetched(session, work_order_id,
                       [sla.Deadline(*r[_ORDER_WIDTH:]) for r in rows if r[_ORDER_WIDTH] is not None])
    else:
        found = await _GET.first(session, id=work_order_id)
        if found is None:
            return None
    *domain, zone, site_id, customer_id = found
    session.info.setdefault(_PLACES, {})[work_order_id] = Place(zone, site_id, customer_id)
    return _domain_of(dict(zip(_DOMAIN_FIELDS, domain, strict=True)))


async def place(session: Executor, work_order_id: int) -> Place | None:
    """Zone, site and customer of an order: as ``get`` read them in this unit of work, or read now."""
    known: Place | None = session.info.get(_PLACES, {}).get(work_order_id)
    if known is None and await get(session, work_order_id) is not None:
        known = session.info[_PLACES][work_order_id]
    return known


async def insert(session: AsyncSession, order: WorkOrder, *, customer_id: int | None, site_id: int | None,
                 zone: str | None, channel: str, created_by: int | None, now: datetime) -> int:
    row = Row(**_column_values(order), number=order.number, kind=str(order.kind), customer_id=customer_id,
              site_id=site_id, zone=zone, channel=channel, created_by=created_by, last_agent_id=created_by,
              created_at=now)
    session.add(row)
    await session.flush()
    assert row.id is not None
    return row.id


@functools.lru_cache(maxsize=256)
def _save_statement(columns: tuple[str, ...]) -> Statement:
    """The guarded UPDATE of these columns, built once per set of columns (an action changes a few:
    its state, version, a timestamp or two)."""
    table = Row.__table__
    return Statement(update(table).where(table.c.id == bindparam("b_id"), table.c.version == bindparam("b_version"))
                     .values({name: bindparam(f"v_{name}") for name in columns}))


async def save(session: Executor, before: WorkOrder, after: WorkOrder, **extra: Any) -> None:
    """Write what changed from ``before`` to ``after``, only if nobody else changed the order
    meanwhile (optimistic lock on the version, so the row is ``before`` in every other column).
    ``extra``: other columns to set (only ``last_agent_id``). On the driver: the ORM UPDATE of ~40
    values cost more than the rest of an action's statements together."""
    old = _column_values(before)
    values = {name: value for name, value in _column_values(after).items() if value != old[name]}
    values.setdefault("version", after.version)  # never an UPDATE without a SET
    values.update(extra)
    params = {f"v_{name}": value for name, value in values.items()}
    if await _save_statement(tuple(values)).rowcount(session, b_id=before.id, b_version=before.version,
                                                       **params) != 1:
        raise errors.Conflict("concurrent-update", "the work order changed meanwhile; reload and retry",
                              work_order_id=before.id)
    row = session.identity_map.get(identity_key(Row, before.id)) if isinstance(session, AsyncSession) else None
    if row is not None:  # the loaded row, if any, gets the new values (as committed, not dirty)
        for name, value in values.items():
            set_committed_value(row, name, value)


async def append_events(session: appends.Target, order_id: int, first_seq: int, events: list[Event],
                        actor: Principal, occurred_at: datetime, recorded_at: datetime,
                        payloads: list[dict[str, Any]] | None = None) -> None:
    """The events' rows in the order's log; ``payloads``: their JSON forms, if already made."""
    for offset, event in enumerate(events):
        payload = payloads[offset] if payloads is not None else event.model_dump(mode="json")
        appends.append(session, EventRow, event_id=str(uuid.uuid4()), work_order_id=order_id, seq=first_seq + offset,
                       type=event.type, actor_id=actor.user_id, actor_role=str(actor.role), occurred_at=occurred_at,
                       recorded_at=recorded_at, payload=payload)


async def history(session: AsyncSession, order_id: int) -> list[EventRow]:
    await appends.flush(session)  # this transaction's own events too
    rows = await session.exec(select(EventRow).where(EventRow.work_order_id == order_id).order_by(EventRow.seq))
    return list(rows.all())


def parse_history(rows: list[EventRow]) -> list[tuple[Event, datetime]]:
    return [(parse_event(r.payload), r.occurred_at) for r in rows]


async def has_open_duplicate(session: AsyncSession, equipment_id: int | None, kind: str) -> bool:
    if equipment_id is None:
        return False
    closed = [str(s) for s in (*FINAL_STATES, State.COMPLETED, State.APPROVED, State.VOIDED, State.FOLLOWED_UP)]
    stmt = sa_select(func.count()).select_from(Row).where(
        Row.equipment_id == equipment_id, Row.kind == kind, Row.state.not_in(closed))  # type: ignore[attr-defined]
    return (await session.exec(stmt)).scalar_one() > 0  # type: ignore[call-overload]


async def next_counter(session: AsyncSession, name: str, day: str) -> int:
    """Atomically increments and returns a per-day counter (safe under concurrent creation)."""
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = insert(DailyCounter).values(name=name, day=day, value=1)
    stmt = stmt.on_conflict_do_update(
        index_elements=["name", "day"], set_={"value": DailyCounter.value + 1}
    ).returning(DailyCounter.value)
    return (await session.exec(stmt)).scalar_one()  # type: ignore[call-overload]


async def equipment(session: AsyncSession, equipment_id: int | None) -> Equipment | None:
    return await session.get(Equipment, equipment_id) if equipment_id is not None else None


async def user(session: AsyncSession, user_id: int | None) -> User | None:
    return await session.get(User, user_id) if user_id is not None else None


async def list_rows(session: AsyncSession, *, states: list[str] | None = None, kinds: list[str] | None = None,
                    region_id: int | None = None, engineer_id: int | None = None, provider_id: int | None = None,
                    offered_to_provider: int | None = None, customer_id: int | None = None,
                    limit: int = 50, offset: int = 0) -> tuple[list[Row], int]:
    stmt = select(Row)
    if states:
        stmt = stmt.where(Row.state.in_(states))  # type: ignore[attr-defined]
    if kinds:
        stmt = stmt.where(Row.kind.in_(kinds))  # type: ignore[attr-defined]
    if region_id is not None:
        stmt = stmt.where(Row.region_id == region_id)
    if customer_id is not None:
        stmt = stmt.where(Row.customer_id == customer_id)
    if provider_id is not None:
        stmt = stmt.where(Row.provider_id == provider_id)
    if engineer_id is not None:
        mine = Row.engineer_id == engineer_id
        if offered_to_provider is not None:
            offered = (Row.engineer_id.is_(None) & (Row.provider_id == offered_to_provider)  # type: ignore[union-attr]
                       & (Row.state == str(State.DISPATCHED)))
            mine = or_(mine, offered)
        stmt = stmt.where(mine)
    rows = list((await session.exec(stmt.order_by(Row.id.desc()).limit(limit).offset(offset))).all())  # type: ignore[union-attr]
    total = (await session.exec(sa_select(func.count()).select_from(stmt.subquery()))).scalar_one()  # type: ignore[call-overload]
    return rows, total
