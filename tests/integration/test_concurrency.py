"""Races between real, separate sessions on committed data, on SQLite and PostgreSQL: two clients
taking the same transition (exactly one wins, the loser's error is the one its read implies, no
update is lost), complaint register numbers under concurrent creation, and the HTTP status of a loser.

SQLite serializes writers (``BEGIN IMMEDIATE`` on the first statement), so its loser always reads the
winner's commit. PostgreSQL lets both read the old version; the loser then fails the optimistic lock."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlmodel import select

from backend import errors
from backend.clock import FrozenClock
from backend.domain.actors import Principal
from backend.domain.work_orders import WorkOrder, replay
from backend.domain.work_orders import commands as c
from backend.domain.work_orders.creation import NewWorkOrder
from backend.persistence.db import session_factory
from backend.persistence.repositories import work_orders as repo
from backend.persistence.tables import AuditLog, Outbox
from backend.persistence.tables import WorkOrder as Row
from backend.services import work_orders as svc
from backend.services.uow import UnitOfWork, UnitOfWorkFactory
from backend.settings import Settings
from tests.conftest import BACKENDS
from tests.support.apptest import START, AppHarness, error_code, fresh_database, migrated_settings, open_app
from tests.support.factories import Ref, seed

TRIALS = 100
DEADLINE_S = 60.0  # for one gather: a deadlock fails the test instead of hanging it
DAY = "20260302"  # START in Shanghai


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A fresh database per test (overrides conftest's shared one): these tests commit for real."""
    with fresh_database(request, request.param, tmp_path / "race.db") as url:
        yield url


@dataclass
class World:
    uows: UnitOfWorkFactory
    ref: Ref
    backend: str


@pytest.fixture
async def world(engine: AsyncEngine) -> AsyncIterator[World]:
    clock = FrozenClock(START)
    uows = UnitOfWorkFactory(session_factory(engine), clock)
    async with uows() as uow:
        ref = await seed(uow.session, clock.now())
        await uow.commit()
    yield World(uows, ref, engine.dialect.name)


async def committed(uows: UnitOfWorkFactory, work: Callable[[UnitOfWork], Awaitable[Any]]) -> Any:
    """``work`` in its own unit of work and session, committed; a domain refusal is returned, not raised."""
    async with uows() as uow:
        try:
            result = await work(uow)
        except errors.DomainError as exc:
            return exc
        await uow.commit()
        return result


async def repairs(w: World, count: int, then: c.Command | None = None) -> list[int]:
    """``count`` fresh repairs (one per trial), each taken through ``then``, committed."""
    async def create(uow: UnitOfWork) -> list[int]:
        ids = []
        for _ in range(count):
            order = await svc.create_work_order(uow, w.ref.agent, NewWorkOrder(
                kind="repair", description="leak", customer_id=w.ref.customer, site_id=w.ref.site))
            if then is not None:
                await svc.act(uow, w.ref.agent, order.id, then)
            ids.append(order.id)
        return ids

    return await committed(w.uows, create)


async def gather(*aws: Awaitable[Any]) -> list[Any]:
    return await asyncio.wait_for(asyncio.gather(*aws), DEADLINE_S)


class ReadLog:
    """Which version of the order each racer (task) read first: it decides the loser's error."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.seen: dict[str, int] = {}
        original = repo.get

        async def get(session: Any, work_order_id: int, **kw: Any) -> WorkOrder | None:
            order = await original(session, work_order_id, **kw)
            task = asyncio.current_task()
            if order is not None and task is not None:
                self.seen.setdefault(task.get_name(), order.version)
            return order

        monkeypatch.setattr(repo, "get", get)


@dataclass(frozen=True)
class Race:
    setup: Callable[[Ref], c.Command | None]  # after creation, before the race
    racers: Callable[[Ref], tuple[tuple[Principal, c.Command], tuple[Principal, c.Command]]]
    expected_version: bool  # the racers send the version they read (If-Match)
    event: str  # the one event the race may write
    after_commit: tuple[type[errors.DomainError], str]  # the loser's error when it read the winner's commit


RACES = {
    # Both saw version 1 on screen; re-dispatch is legal, so If-Match is what makes it exclusive.
    "agent and supervisor dispatch": Race(
        lambda r: None,
        lambda r: ((r.agent, c.Dispatch(engineer_id=r.eng_a.user_id)),
                   (r.supervisor, c.Dispatch(engineer_id=r.eng_b.user_id))),
        True, "WorkOrderDispatched", (errors.PreconditionFailed, "version-mismatch")),
    # Offered to the provider: the first engineer takes it; the other can no longer see it.
    "two engineers acknowledge an offer": Race(
        lambda r: c.Dispatch(provider_id=r.provider),
        lambda r: ((r.eng_a, c.Acknowledge()), (r.eng_b, c.Acknowledge())),
        False, "WorkOrderAcknowledged", (errors.NotFound, "work-order-not-found")),
}


@pytest.mark.parametrize("race", list(RACES))
async def test_two_clients_racing_one_transition_exactly_one_wins(world: World, race: str,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    spec, ref = RACES[race], world.ref
    setup = spec.setup(ref)
    reads, losses, winners = ReadLog(monkeypatch), Counter[str](), {}
    base = 2 if setup else 1  # the version both racers start from
    for trial, order_id in enumerate(await repairs(world, TRIALS, setup)):
        reads.seen.clear()

        def run(actor: Principal, command: c.Command, oid: int = order_id, read: int = base) -> Awaitable[Any]:
            return committed(world.uows, lambda uow: svc.act(
                uow, actor, oid, command, expected_version=read if spec.expected_version else None))

        (a, cmd_a), (b, cmd_b) = spec.racers(ref)
        tasks = [asyncio.create_task(run(a, cmd_a), name="a"), asyncio.create_task(run(b, cmd_b), name="b")]
        results = dict(zip("ab", await gather(*tasks), strict=True))
        won = [name for name, result in results.items() if isinstance(result, WorkOrder)]
        assert len(won) == 1, f"trial {trial}: {results}"
        winner, loser = won[0], "b" if won[0] == "a" else "a"
        assert results[winner].version == base + 1
        winners[order_id] = (a, cmd_a) if winner == "a" else (b, cmd_b)
        error = results[loser]
        # The loser read either the version before the race (then its write lost the optimistic
        # lock) or the winner's commit (then the rules refused it): nothing else may happen.
        if reads.seen[loser] == base:
            assert (type(error), error.code) == (errors.Conflict, "concurrent-update"), error
            losses["concurrent-update"] += 1
        else:
            assert reads.seen[loser] == base + 1
            assert (type(error), error.code) == spec.after_commit, error
            losses[error.code] += 1
    assert sum(losses.values()) == TRIALS
    if world.backend == "sqlite":  # serialized writers: the loser always reads the winner's commit
        assert losses == Counter({spec.after_commit[1]: TRIALS})
    else:  # both read before either commits (all 100 in practice): the optimistic lock decides
        assert losses["concurrent-update"] > 0
    await assert_no_lost_update(world, spec.event, base + 1, winners)


async def assert_no_lost_update(world: World, race_event: str, version: int,
                                winners: dict[int, tuple[Principal, c.Command]]) -> None:
    """Each order's projection is its gap-free event log folded; exactly one race event per order,
    by the winner; the outbox and the audit trail hold the winner's rows only."""
    async with world.uows() as uow:
        session = uow.session
        outbox = Counter(o.key for o in (await session.exec(select(Outbox))).all())
        audits = Counter(a.target_id for a in (await session.exec(select(AuditLog))).all())
        for order_id, (actor, command) in winners.items():
            stored = await repo.get(session, order_id)
            history = await repo.history(session, order_id)
            assert stored is not None and stored.version == version
            assert [h.seq for h in history] == list(range(1, version + 1))  # version == number of events
            assert replay(repo.parse_history(history)) == stored
            [event] = [h for h in history if h.type == race_event]
            assert event.actor_id == actor.user_id
            expected = getattr(command, "engineer_id", None) or actor.user_id
            assert stored.engineer_id == expected
            assert outbox[f"work_order:{order_id}"] == audits[str(order_id)] == len(history)


async def test_concurrent_dispatches_without_if_match_lose_no_update(world: World) -> None:
    """Without If-Match a second dispatch is a legal re-dispatch: both may succeed, one after the other,
    or one loses the optimistic lock. Either way every success is in the log, in order."""
    ref, outcomes = world.ref, Counter[str]()
    for order_id in await repairs(world, TRIALS // 4):
        results = await gather(*[committed(world.uows, lambda uow, e=eng, oid=order_id: svc.act(
            uow, ref.agent, oid, c.Dispatch(engineer_id=e.user_id))) for eng in (ref.eng_a, ref.eng_b)])
        wins = [r for r in results if isinstance(r, WorkOrder)]
        assert all(isinstance(r, errors.Conflict) and r.code == "concurrent-update"
                   for r in results if not isinstance(r, WorkOrder))
        async with world.uows() as uow:
            stored = await repo.get(uow.session, order_id)
            history = await repo.history(uow.session, order_id)
            assert stored is not None and stored.version == 1 + len(wins) == len(history)
            assert replay(repo.parse_history(history)) == stored
            assert stored.engineer_id == history[-1].payload["engineer_id"]
        outcomes["both" if len(wins) == 2 else "one"] += 1
    if world.backend == "sqlite":
        assert outcomes == Counter(both=TRIALS // 4)


async def test_concurrent_complaints_get_distinct_consecutive_register_numbers(world: World) -> None:
    ref = world.ref

    async def complain(uow: UnitOfWork) -> WorkOrder:
        return await svc.create_work_order(uow, ref.agent, NewWorkOrder(
            kind="complaint", description="rude engineer", customer_id=ref.customer, complaint_level="medium"))

    created = await gather(*[committed(world.uows, complain) for _ in range(20)])
    assert all(isinstance(o, WorkOrder) for o in created), created
    assert sorted(o.register_number for o in created) == [f"{DAY}-{n:03d}" for n in range(1, 21)]
    assert sorted(o.number for o in created) == [f"WO{DAY}{n:04d}" for n in range(1, 21)]
    async with world.uows() as uow:
        stored = sorted(r.register_number for r in (await uow.session.exec(select(Row))).all())
    assert stored == sorted(o.register_number for o in created)


# --- the loser over HTTP ------------------------------------------------------------------------

@pytest.fixture(params=BACKENDS)
def app(request: pytest.FixtureRequest, settings: Settings) -> Iterator[tuple[AppHarness, Ref]]:
    with migrated_settings(request, settings) as migrated, open_app(migrated) as harness:
        yield harness, harness.seed()


def test_the_loser_of_a_transition_gets_409_over_http(app: tuple[AppHarness, Ref]) -> None:
    h, ref = app
    headers = h.bearer(ref.agent)

    def post(path: str, body: Any, **extra: str) -> Any:
        return h.client.post(f"/api/console/v1{path}", json=body, headers={**headers, **extra})

    item = post("/work-orders", {"kind": "consultation", "description": "price of a seal"}).json()["id"]
    assert post(f"/work-orders/{item}/forward", {"department": "parts"}).status_code == 200
    again = post(f"/work-orders/{item}/forward", {"department": "parts"})
    assert (again.status_code, error_code(again)) == (409, "invalid-transition")
    # With the version the client read, the second of two dispatches is refused before any rule runs.
    order = post("/work-orders", {"kind": "repair", "description": "leak", "customer_id": ref.customer,
                                  "site_id": ref.site}).json()["id"]
    first = post(f"/work-orders/{order}/dispatch", {"engineer_id": ref.eng_a.user_id}, **{"If-Match": '"1"'})
    second = post(f"/work-orders/{order}/dispatch", {"engineer_id": ref.eng_b.user_id}, **{"If-Match": '"1"'})
    assert (first.status_code, second.status_code, error_code(second)) == (200, 412, "version-mismatch")
    # Two requests at once (two threads, one app): one 200, one 409, whichever way the race went.
    with ThreadPoolExecutor(2) as pool:
        for _ in range(10):
            desk = post("/work-orders", {"kind": "consultation", "description": "opening hours"}).json()["id"]
            both = list(pool.map(lambda oid: post(f"/work-orders/{oid}/forward", {"department": "hr"}), [desk] * 2))
            assert sorted(r.status_code for r in both) == [200, 409]
            [lost] = [r for r in both if r.status_code == 409]
            assert error_code(lost) in ("invalid-transition", "concurrent-update")
