"""Two engineers of one provider race to accept the same provider-level offer, 100 times, on SQLite
and PostgreSQL: exactly one wins each race, the other gets a clear 409 ``work-order-taken``, and
the loser's retry of the same request replays that answer."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from backend.domain.work_orders import commands as c
from backend.domain.work_orders.creation import NewWorkOrder
from backend.persistence.repositories import work_orders as repo
from backend.services import work_orders as svc
from tests.integration.mobile.harness import MobileHarness, key
from tests.support.apptest import error_code

RACES = 100


def _offers(mobile: MobileHarness, count: int) -> list[int]:
    ref = mobile.r

    async def make(uow: Any) -> list[int]:
        ids = []
        for _ in range(count):
            spec = NewWorkOrder(kind="repair", description="crane boom stuck", customer_id=ref.customer,
                                site_id=ref.site)
            order = await svc.create_work_order(uow, ref.agent, spec)
            await svc.act(uow, ref.agent, order.id, c.Dispatch(provider_id=ref.provider))
            ids.append(order.id)
        return ids

    return mobile.run_uow(make)


def test_exactly_one_engineer_wins_each_race(mobile: MobileHarness) -> None:
    ref = mobile.r
    racers = (ref.eng_a, ref.eng_b)
    for who in racers:
        mobile.bearer(who)
    offers = _offers(mobile, RACES)
    winners = {ref.eng_a.user_id: 0, ref.eng_b.user_id: 0}
    with ThreadPoolExecutor(max_workers=2) as pool:
        for order_id in offers:
            start = threading.Barrier(2)
            keys = [key(), key()]

            def accept(i: int, order_id: int = order_id, start: threading.Barrier = start,
                       keys: list[str] = keys) -> Any:
                start.wait()
                return mobile.do(order_id, "acknowledge", {}, who=racers[i], idem=keys[i])

            responses = list(pool.map(accept, (0, 1)))
            statuses = sorted(r.status_code for r in responses)
            assert statuses == [200, 409], [r.text for r in responses]
            won = next(i for i, r in enumerate(responses) if r.status_code == 200)
            lost = responses[1 - won]
            assert error_code(lost) == "work-order-taken"
            accepted = responses[won].json()["work_order"]
            assert accepted["engineer_id"] == racers[won].user_id and accepted["version"] == 3
            winners[racers[won].user_id] += 1
            if order_id in offers[:5]:  # the loser's retry of its request replays the refusal
                retry = mobile.do(order_id, "acknowledge", {}, who=racers[1 - won], idem=keys[1 - won])
                assert retry.status_code == 409 and retry.content == lost.content
    assert sum(winners.values()) == RACES
    stored = [mobile.run(repo.get, order_id) for order_id in offers]
    assert all(o.state == "acknowledged" and o.version == 3 for o in stored)  # created, offered, accepted once
    assert sorted(o.engineer_id for o in stored) == sorted(
        uid for uid, n in winners.items() for _ in range(n))
