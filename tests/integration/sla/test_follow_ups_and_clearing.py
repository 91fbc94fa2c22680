"""Follow-up tasks (every approved repair, a reproducible sample of installations, the work list, the
result through RecordFollowUp, an unresolved result's second dispatch) and the daily clearing (the
unfinished orders per provider and engineer at the configured time, each urged once, on business
days only, resumable), on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend import errors
from backend.domain.sla import PolicyEntry
from backend.domain.sla.sampling import sampled
from backend.domain.work_orders import commands as c
from backend.persistence.tables import WorkOrder, WorkOrderEvent
from backend.persistence.tables_sla import DailyClearing, FollowUpTask
from backend.services import clearing, follow_ups, sla_policies
from tests.integration.sla.support import CLEARING_AT, Env, report


async def _approved(env: Env, kind: str = "repair") -> int:
    order = await env.create(kind)
    eng = env.ref.eng_a
    await env.act(env.ref.agent, order.id, c.Dispatch(engineer_id=eng.user_id))
    for command in (c.Acknowledge(), c.ContactCustomer(appointment_at=env.clock.now() + timedelta(hours=1)),
                    c.Depart(), c.Arrive(), c.Complete(report=report(env.clock.now()))):
        await env.act(eng, order.id, command)
    await env.act(env.ref.agent, order.id, c.Approve())
    return order.id


async def test_every_approved_repair_gets_a_follow_up_task(env: Env) -> None:
    order_id = await _approved(env)
    [task] = await env.rows(FollowUpTask)
    assert (task.work_order_id, task.state, task.sampled) == (order_id, "open", False)
    [created] = await env.outbox("FollowUpTaskCreated")
    assert created.payload["task_id"] == task.id
    async with env.uows() as uow:
        items, total = await follow_ups.work_list(uow, state="open", region_id=None, limit=10, offset=0)
    assert total == 1 and items[0].number and items[0].contact_phone == ""


async def test_installations_are_sampled_reproducibly_and_a_sampled_one_needs_its_call(env: Env) -> None:
    async with env.uow() as uow:
        await sla_policies.put_override(uow, env.ref.supervisor, PolicyEntry("follow_up", kind="installation",
                                                                               percent=50))
    ids = [await _approved(env, "installation") for _ in range(6)]
    tasks = {t.work_order_id for t in await env.rows(FollowUpTask)}
    assert tasks == {i for i in ids if sampled(i, 50)}
    assert all(t.sampled for t in await env.rows(FollowUpTask))
    picked = next((i for i in ids if i in tasks), None)
    skipped = next((i for i in ids if i not in tasks), None)
    if picked is not None:
        with pytest.raises(errors.Conflict) as info:
            await env.act(env.ref.agent, picked, c.Close())
        assert info.value.code == "follow-up-required"
    if skipped is not None:
        assert (await env.act(env.ref.agent, skipped, c.Close())).state == "closed"


async def test_recording_the_result_closes_the_task_and_unresolved_opens_a_second_dispatch(env: Env) -> None:
    first, second = await _approved(env), await _approved(env)
    [t1, t2] = sorted(await env.rows(FollowUpTask), key=lambda t: t.id)
    async with env.uow() as uow:
        done = await follow_ups.record_result(uow, env.ref.agent, t1.id, reachable=True, satisfaction=5,
                                              resolved=True, note="")
    assert done.state == "done" and done.result["satisfaction"] == 5 and done.second_dispatch_id is None
    async with env.uow() as uow:
        done = await follow_ups.record_result(uow, env.ref.agent, t2.id, reachable=True, satisfaction=2,
                                              resolved=False, note="still leaking")
    [child] = await env.rows(WorkOrder, WorkOrder.parent_id == second)
    assert done.second_dispatch_id == child.id and "second_dispatch" in child.flags
    with pytest.raises(errors.Conflict) as info:
        async with env.uow() as uow:
            await follow_ups.record_result(uow, env.ref.agent, t1.id, reachable=False, satisfaction=None,
                                           resolved=None, note="")
    assert info.value.code == "follow-up-task-closed"
    assert [o.payload["task_id"] for o in await env.outbox("FollowUpTaskDone")] == [t1.id, t2.id]
    assert first != second


async def test_daily_clearing_lists_and_urges_the_unfinished_orders_once(env: Env) -> None:
    a = await env.create()
    await env.act(env.ref.agent, a.id, c.Dispatch(engineer_id=env.ref.eng_a.user_id))
    b = await env.create(site=env.ref.remote_site)
    desk = await env.create("consultation")
    done = await _approved(env)
    env.clock.set(env.clock.now().replace(hour=8, minute=29))  # 16:29 local: not yet
    assert await clearing.step(env.uows, CLEARING_AT) == 0
    env.clock.advance(minutes=1)
    assert await clearing.step(env.uows, CLEARING_AT, batch=1) == 2  # in batches of one
    async with env.uows() as uow:
        view = await clearing.view(uow, None)
    assert (view.state, view.unfinished, view.urged) == ("done", 2, 2)
    assert {i["work_order_id"] for i in view.items} == {a.id, b.id}
    assert {(g["engineer_id"], g["unfinished"]) for g in view.by_engineer} == {(env.ref.eng_a.user_id, 1), (None, 1)}
    urges = await env.rows(WorkOrderEvent, WorkOrderEvent.type == "WorkOrderUrged")
    assert sorted(u.work_order_id for u in urges if u.payload["note"] == "daily clearing") == sorted([a.id, b.id])
    [completed] = await env.outbox("DailyClearingCompleted")
    assert completed.payload["unfinished"] == 2
    env.clock.advance(hours=2)
    assert await clearing.step(env.uows, CLEARING_AT) == 0  # once a day
    assert await env.count(DailyClearing) == 1
    listed = {i["work_order_id"] for i in view.items}
    assert desk.id not in listed and done not in listed


async def test_no_clearing_on_a_weekend(env: Env) -> None:
    await env.create()
    env.clock.set(env.clock.now() + timedelta(days=5, hours=7))  # Saturday 17:00 local
    assert await clearing.step(env.uows, CLEARING_AT) == 0
    assert await env.count(DailyClearing) == 0
