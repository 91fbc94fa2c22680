"""The SLA services on SQLite and PostgreSQL: restarts and at-most-once, breaches found late, breaches
resolved, cancellation, the customer's chosen date, warnings, escalation side effects (urge, push
rows), and the alert snapshot: snapshot + events == fresh snapshot."""

from __future__ import annotations

from datetime import timedelta

from backend import events as ev
from backend.domain.actors import Role
from backend.domain.sla.alerts import apply, index
from backend.domain.work_orders import commands as c
from backend.persistence.tables import WorkOrderEvent
from backend.persistence.tables_mobile import PushNotification
from backend.persistence.tables_sla import SlaDeadline, SlaEscalation
from backend.services import sla_alerts
from backend.services.sla_firing import Outcome, fire_one
from tests.integration.sla.support import MONDAY_10, Env


async def _dispatched(env: Env, kind: str = "repair") -> int:
    order = await env.create(kind)
    await env.act(env.ref.agent, order.id, c.Dispatch(engineer_id=env.ref.eng_a.user_id))
    return order.id


async def test_redispatch_restarts_and_a_breached_rule_never_breaches_again(env: Env) -> None:
    order_id = await _dispatched(env)
    env.clock.advance(minutes=2)
    await env.act(env.ref.agent, order_id, c.Dispatch(engineer_id=env.ref.eng_b.user_id))
    deadline = await env.deadline(order_id, "acknowledge")
    assert deadline.due_at == MONDAY_10 + timedelta(minutes=5)  # type: ignore[union-attr]
    await env.advance(minutes=3)
    assert [b.rule for b in await env.breaches(order_id)] == ["acknowledge"]
    await env.act(env.ref.agent, order_id, c.Dispatch(engineer_id=env.ref.eng_a.user_id))
    assert (await env.deadline(order_id, "acknowledge")).state == "breached"  # type: ignore[union-attr]
    await env.advance(minutes=40)
    assert sorted(e.rule for e in await env.escalations(order_id)) == ["acknowledge", "customer_contact"]


async def test_condition_met_after_the_due_time_but_before_the_timer_is_a_resolved_breach(env: Env) -> None:
    order_id = await _dispatched(env)
    env.clock.advance(minutes=4)  # no pass ran: the timer is late
    await env.act(env.ref.eng_a, order_id, c.Acknowledge())
    [breach] = await env.breaches(order_id)
    assert (breach.rule, breach.resolution, breach.resolved_at) == ("acknowledge", "met_late", env.clock.now())
    assert await env.escalations(order_id) == []  # nothing left to escalate
    [event] = await env.outbox("SlaBreached")
    assert event.payload["resolved"] is True
    await env.tick()
    assert len(await env.breaches(order_id)) == 1


async def test_meeting_a_breached_rule_resolves_the_breach_and_its_task(env: Env) -> None:
    order_id = await _dispatched(env)
    await env.advance(minutes=3)
    [task] = await env.escalations(order_id)
    assert task.task and task.state == "open" and set(task.notify_user_ids) == {
        env.ref.eng_a.user_id, env.ref.manager.user_id}
    pushes = await env.rows(PushNotification, PushNotification.kind == "escalation")
    assert {p.user_id for p in pushes} == {env.ref.eng_a.user_id, env.ref.manager.user_id}
    env.clock.advance(minutes=1)
    await env.act(env.ref.eng_a, order_id, c.Acknowledge())
    [breach] = await env.breaches(order_id)
    assert breach.resolution == "met_late" and breach.resolved_at == env.clock.now()
    [task] = await env.escalations(order_id)
    assert task.state == "resolved"
    assert [o.type for o in await env.outbox("SlaBreachResolved")] == ["SlaBreachResolved"]


async def test_cancellation_ends_every_deadline_and_counts_what_was_already_late(env: Env) -> None:
    order_id = await _dispatched(env)
    env.clock.advance(minutes=5)  # acknowledge is 2 min late, nobody noticed yet
    await env.act(env.ref.agent, order_id, c.Cancel(reason="customer fixed it"))
    states = {d.rule: d.state for d in await env.rows(SlaDeadline, SlaDeadline.work_order_id == order_id)}
    assert states == {"acknowledge": "breached", "customer_contact": "cancelled", "status_feedback": "cancelled",
                      "feedback_urge": "cancelled", "response": "cancelled"}
    [breach] = await env.breaches(order_id)
    assert (breach.rule, breach.resolution) == ("acknowledge", "cancelled")
    await env.advance(hours=100)
    assert len(await env.breaches(order_id)) == 1


async def test_the_customers_later_date_pushes_the_response_deadline(env: Env) -> None:
    order_id = await _dispatched(env)
    await env.act(env.ref.eng_a, order_id, c.Acknowledge())
    chosen = MONDAY_10 + timedelta(days=3)  # Thursday 10:00 local
    await env.act(env.ref.eng_a, order_id, c.ContactCustomer(appointment_at=chosen))
    deadline = await env.deadline(order_id, "response")
    assert deadline.due_at == MONDAY_10 + timedelta(days=3, hours=14)  # type: ignore[union-attr]  # Friday 00:00
    await env.advance(hours=25)
    assert "response" not in [b.rule for b in await env.breaches(order_id)]


async def test_feedback_urge_urges_the_order_as_the_system(env: Env) -> None:
    order = await env.create()
    await env.advance(hours=4)
    [breach] = await env.breaches(order.id)
    assert breach.rule == "feedback_urge"
    [urge] = await env.rows(WorkOrderEvent, WorkOrderEvent.type == "WorkOrderUrged",
                            WorkOrderEvent.work_order_id == order.id)
    assert urge.actor_role == str(Role.SYSTEM) and urge.payload["by"] == "center"
    [escalation] = await env.escalations(order.id)
    assert escalation.urged and escalation.action == "urge" and escalation.state == "done"


async def test_warning_once_then_cleared_when_met(env: Env) -> None:
    order_id = await _dispatched(env)
    await env.advance(minutes=2, seconds=30)  # warning margin of a 3-min rule: 36 s
    await env.tick()
    assert [o.payload["rule"] for o in await env.outbox("DeadlineApproaching")] == ["acknowledge"]
    await env.act(env.ref.eng_a, order_id, c.Acknowledge())
    [cleared] = await env.outbox("DeadlineCleared")
    assert (cleared.payload["rule"], cleared.payload["outcome"]) == ("acknowledge", "met")


async def test_met_inside_its_margin_before_it_was_announced_it_still_leaves_the_alert_list(env: Env) -> None:
    order_id = await _dispatched(env)
    env.clock.advance(minutes=2, seconds=40)  # inside the margin; no pass has announced it yet
    async with env.uows() as uow:
        before = index(await sla_alerts.open_alerts(uow, env.clock.now()))
    assert [k[0] for k in before] == ["deadline"]
    await env.act(env.ref.eng_a, order_id, c.Acknowledge())
    assert await env.outbox("DeadlineApproaching") == []
    [cleared] = await env.outbox("DeadlineCleared")
    after = apply(before, ev.parse_event(cleared.payload))
    async with env.uows() as uow:
        assert after == index(await sla_alerts.open_alerts(uow, env.clock.now())) == {}


async def test_a_deadline_fires_once_however_often_it_is_fired(env: Env) -> None:
    order_id = await _dispatched(env)
    deadline = await env.deadline(order_id, "acknowledge")
    assert (await fire_one(env.uows, deadline.id)).outcome is Outcome.NOT_DUE  # type: ignore[union-attr]
    env.clock.advance(minutes=3)
    outcomes = [(await fire_one(env.uows, deadline.id)).outcome for _ in range(3)]  # type: ignore[union-attr]
    assert outcomes == [Outcome.BREACHED, Outcome.GONE, Outcome.GONE]
    assert len(await env.rows(SlaEscalation)) == 1


async def test_alert_snapshot_plus_events_equals_a_fresh_snapshot(env: Env) -> None:
    async def snapshot() -> dict:
        async with env.uows() as uow:
            return index(await sla_alerts.open_alerts(uow, env.clock.now()))

    a = await _dispatched(env)
    b = await _dispatched(env)
    actions = [
        lambda: env.advance(minutes=2, seconds=40),  # both acknowledge deadlines announced
        lambda: env.act(env.ref.eng_a, a, c.Acknowledge()),  # a: cleared
        lambda: env.advance(seconds=30),  # b: breached
        lambda: env.act(env.ref.eng_a, b, c.Acknowledge()),  # b: breach resolved
        lambda: env.advance(minutes=30),  # contact deadlines: announced and breached
    ]
    for action in actions:
        before = await snapshot()
        seen = {o.id for o in await env.outbox()}
        await action()
        await env.tick()  # the loop runs: warnings due now are announced in both views
        events = [ev.parse_event(o.payload) for o in await env.outbox() if o.id not in seen]
        after = before
        for event in events:
            after = apply(after, event)
        assert after == await snapshot()
    assert {a.alert for a in (await snapshot()).values()} == {"breach"}
