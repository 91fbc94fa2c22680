"""Fresh channel snapshots from the database, for the hub (start-up, reloads, the dispatch board's
cards) and for tests comparing them with what the hub built from events. Read-only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import bindparam
from sqlmodel import col, select

from backend.domain.telephony import dispatch_board as db
from backend.domain.telephony import views
from backend.domain.telephony.board import HORIZON, Board, StatsConfig
from backend.domain.work_orders.model import FINAL_STATES
from backend.persistence.repositories import telephony as repo
from backend.persistence.tables import WorkOrder
from backend.services.uow import UnitOfWork

# The SLA engine's open alerts (``backend.services.sla.open_alerts``), injected by the composition
# root; each item is JSON-able (a dict, dataclass or model) with an ``id``.
AlertsProvider = Callable[[UnitOfWork, datetime], Awaitable[Iterable[Any]]]


async def no_alerts(uow: UnitOfWork, now: datetime) -> list[Any]:
    return []


async def load_board(uow: UnitOfWork, config: StatsConfig, now: datetime) -> Board:
    """The live board as the ledger has it at ``now``."""
    board = Board(config, now)
    session = uow.session
    for queue in (await repo.queues(session)).values():
        board.put_queue(queue)
    for row in (await repo.agent_rows(session)).values():
        board.put_agent(repo.agent_of(row))
    for call in await repo.board_calls(session, min(board.day_start, now - HORIZON)):
        board.put_call(call, now)
    return board


async def telephony_snapshot(uow: UnitOfWork, config: StatsConfig, kind: str, arg: Any,
                             now: datetime) -> dict[str, Any]:
    return views.snapshot(await load_board(uow, config, now), kind, arg, now)


def _facts(row: WorkOrder) -> db.OrderFacts:
    assert row.id is not None
    return db.OrderFacts(
        id=row.id, number=row.number, kind=row.kind, state=row.state, zone=row.zone, region_id=row.region_id,
        engineer_id=row.engineer_id, provider_id=row.provider_id, complaint_level=row.complaint_level,
        special_incident=row.special_incident, flags=tuple(row.flags), urge_count=row.urge_count,
        last_urged_at=row.last_urged_at, reported_at=row.reported_at, scheduled_for=row.scheduled_for,
        dispatched_at=row.dispatched_at, acknowledged_at=row.acknowledged_at, appointment_at=row.appointment_at,
        arrived_at=row.arrived_at)


_CARDS_BY_ID = select(WorkOrder).where(col(WorkOrder.id).in_(bindparam("ids", expanding=True)))


async def order_cards(uow: UnitOfWork, ids: Iterable[int] | None = None) -> dict[str, dict[str, Any] | None]:
    """Dispatch-board cards by id: every order on the board (``ids`` None), or the given orders
    (None for those that left the board or do not exist)."""
    wanted = None if ids is None else sorted(set(ids))
    if wanted is None:
        stmt = select(WorkOrder).where(col(WorkOrder.state).not_in([str(s) for s in FINAL_STATES]))
        rows = (await uow.session.exec(stmt)).all()
    else:  # after nearly every commit (the live board's upkeep): a statement built once
        rows = (await uow.session.exec(_CARDS_BY_ID, params={"ids": wanted})).all()
    cards: dict[str, dict[str, Any] | None] = {str(i): None for i in wanted or []}
    for row in rows:
        cards[str(row.id)] = db.order_card(_facts(row)) if db.on_board(row.state) else None
    return cards


async def work_orders_snapshot(uow: UnitOfWork) -> dict[str, Any]:
    cards = {k: v for k, v in (await order_cards(uow)).items() if v is not None}
    return {"orders": cards, "counts": db.counts(cards)}


async def open_alerts(uow: UnitOfWork, now: datetime, provider: AlertsProvider = no_alerts) -> list[Any]:
    return list(to_jsonable_python(list(await provider(uow, now))))


async def alerts_snapshot(uow: UnitOfWork, now: datetime, provider: AlertsProvider = no_alerts) -> dict[str, Any]:
    return {"open": await open_alerts(uow, now, provider), "notices": []}
