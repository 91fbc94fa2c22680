"""Fresh channel snapshots from the database, for the hub (start-up, reloads, the dispatch board's
cards) and for tests comparing them with what the hub built from events. Read-only."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import fields
from datetime import datetime
from typing import Any

from pydantic_core import to_jsonable_python
from sqlalchemy import and_
from sqlalchemy import select as sa_select

from backend.domain.telephony import dispatch_board as db
from backend.domain.telephony import views
from backend.domain.telephony.board import HORIZON, Board, StatsConfig
from backend.domain.work_orders.model import FINAL_STATES
from backend.persistence.repositories import telephony as repo
from backend.persistence.statements import AnyOf, Executor, Statement
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


_T = WorkOrder.__table__  # type: ignore[attr-defined]
_FACTS = [f.name for f in fields(db.OrderFacts)]
# Plain rows of just the card's columns (no ORM instances): read after nearly every commit by the
# live board's upkeep, on the driver (``persistence.statements``), built once.
_CARDS = sa_select(*(_T.c[name] for name in _FACTS))
_CARDS_ON_BOARD = Statement(_CARDS.where(and_(*(_T.c.state != str(s) for s in FINAL_STATES))))  # no IN: see Statement
_CARDS_BY_ID = AnyOf(_CARDS, _T.c.id)


async def order_cards(executor: Executor, ids: Iterable[int] | None = None) -> dict[str, dict[str, Any] | None]:
    """Dispatch-board cards by id: every order on the board (``ids`` None), or the given orders
    (None for those that left the board or do not exist). ``executor``: a unit of work's, or a
    connection for lone reads (``UnitOfWorkFactory.reads``)."""
    wanted = None if ids is None else sorted(set(ids))
    rows = await (_CARDS_ON_BOARD.all(executor) if wanted is None else _CARDS_BY_ID.all(executor, wanted))
    cards: dict[str, dict[str, Any] | None] = {str(i): None for i in wanted or []}
    for row in rows:
        values = dict(zip(_FACTS, row, strict=True))
        facts = db.OrderFacts(**{**values, "flags": tuple(values["flags"] or ())})
        cards[str(values["id"])] = db.order_card(facts) if db.on_board(values["state"]) else None
    return cards


async def work_orders_snapshot(uow: UnitOfWork) -> dict[str, Any]:
    cards = {k: v for k, v in (await order_cards(uow.db)).items() if v is not None}
    return {"orders": cards, "counts": db.counts(cards)}


async def open_alerts(uow: UnitOfWork, now: datetime, provider: AlertsProvider = no_alerts) -> list[Any]:
    return list(to_jsonable_python(list(await provider(uow, now))))


async def alerts_snapshot(uow: UnitOfWork, now: datetime, provider: AlertsProvider = no_alerts) -> dict[str, Any]:
    return {"open": await open_alerts(uow, now, provider), "notices": []}
