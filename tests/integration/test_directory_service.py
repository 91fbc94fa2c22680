"""Screen pop and engineer suggestions on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from backend.clock import FrozenClock
from backend.domain.work_orders import commands as c
from backend.domain.work_orders.creation import NewWorkOrder
from backend.services import directory, work_orders
from backend.services.uow import UnitOfWork
from tests.support.factories import seed

NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


@pytest.fixture
async def ctx(session):
    uow = UnitOfWork(session, FrozenClock(NOW))
    return uow, await seed(session, NOW)


async def test_screen_pop_finds_customer_equipment_open_orders_and_last_agent(ctx) -> None:
    uow, ref = ctx
    order = await work_orders.create_work_order(uow, ref.agent, NewWorkOrder(
        kind="repair", description="no start", customer_id=ref.customer, site_id=ref.site, equipment_id=ref.equipment))
    await work_orders.act(uow, ref.agent, order.id, c.Urge())
    pop = await directory.screen_pop(uow, f"+{ref.customer_phone}"[1:])
    assert len(pop.customers) == 1
    found = pop.customers[0]
    assert found["customer"]["id"] == ref.customer
    assert {s["zone"] for s in found["sites"]} == {"city", "remote"}
    assert {e["id"] for e in found["equipment"]} == {ref.equipment, ref.old_equipment}
    assert [o["number"] for o in found["open_orders"]] == [order.number]
    assert found["last_agent"]["id"] == ref.agent.user_id


async def test_screen_pop_unknown_number_is_empty(ctx) -> None:
    uow, _ = ctx
    assert (await directory.screen_pop(uow, "000")).customers == []
    assert (await directory.screen_pop(uow, "abc")).customers == []


async def test_suggestions_rank_region_then_skill_then_load(ctx) -> None:
    uow, ref = ctx
    order = await work_orders.create_work_order(uow, ref.agent, NewWorkOrder(
        kind="repair", description="leak", customer_id=ref.customer, site_id=ref.site, equipment_id=ref.equipment))
    ranked = await directory.suggest_engineers(uow, ref.agent, order.id)
    ids = [s.candidate.engineer_id for s in ranked]
    # eng_a: same region + excavator skill; eng_b: same region; eng_c: other region with the skill
    assert ids.index(ref.eng_a.user_id) < ids.index(ref.eng_b.user_id) < ids.index(ref.eng_c.user_id)
    # load pushes eng_a down once busy with enough orders
    for _ in range(14):
        busy = await work_orders.create_work_order(uow, ref.agent, NewWorkOrder(
            kind="repair", description="x", customer_id=ref.customer, site_id=ref.site))
        await work_orders.act(uow, ref.agent, busy.id, c.Dispatch(engineer_id=ref.eng_a.user_id))
    ranked = await directory.suggest_engineers(uow, ref.agent, order.id)
    top = ranked[0]
    assert top.candidate.engineer_id == ref.eng_b.user_id and "same region" in top.reasons
