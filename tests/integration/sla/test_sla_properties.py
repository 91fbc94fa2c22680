"""Property: for random histories (commands, clock jumps and timer passes in any order), each rule
breaches at most once per order, never when its condition was met by the due time (checked against
the order's own event log), every breach has one escalation at most, and no due deadline is left."""

from __future__ import annotations

import contextlib
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from backend import errors
from backend.domain.sla.rules import SPECS, Rule
from backend.domain.work_orders import commands as c
from backend.persistence.tables import WorkOrderEvent
from backend.persistence.tables_sla import SlaBreach, SlaDeadline, SlaEscalation
from tests.integration.sla.support import Env, open_env, report

FIELD_OPS = ["dispatch", "redispatch", "ack", "decline", "contact", "depart", "arrive", "hold", "resume",
             "complete", "approve", "urge", "cancel"]
DESK_OPS = ["forward", "answer", "call_back", "close", "urge", "cancel"]
KINDS = ["repair", "rescue", "new_fault_mode", "installation", "consultation", "complaint"]

op = st.one_of(
    st.tuples(st.just("advance"), st.integers(min_value=0, max_value=6 * 60)),
    st.tuples(st.just("tick"), st.just(0)),
    st.tuples(st.sampled_from(sorted(set(FIELD_OPS + DESK_OPS))), st.just(0)),
)


def command(env: Env, name: str) -> tuple[object, c.Command]:
    ref, now = env.ref, env.clock.now()
    eng = ref.eng_a
    return {
        "dispatch": (ref.agent, c.Dispatch(engineer_id=ref.eng_a.user_id)),
        "redispatch": (ref.agent, c.Dispatch(engineer_id=ref.eng_a.user_id)),
        "ack": (eng, c.Acknowledge()),
        "decline": (eng, c.Decline(reason="too far")),
        "contact": (eng, c.ContactCustomer(appointment_at=now + timedelta(days=2))),
        "depart": (eng, c.Depart()), "arrive": (eng, c.Arrive()),
        "hold": (eng, c.Hold(reason="waiting_for_parts")), "resume": (eng, c.Resume()),
        "complete": (eng, c.Complete(report=report(now))),
        "approve": (ref.agent, c.Approve()), "urge": (ref.agent, c.Urge()),
        "cancel": (ref.agent, c.Cancel(reason="customer cancelled")),
        "forward": (ref.agent, c.Forward(department="sales")), "answer": (ref.agent, c.Answer(answer="done")),
        "call_back": (ref.agent, c.CallBack(satisfaction=3)), "close": (ref.agent, c.Close()),
    }[name]


async def check_invariants(env: Env, order_id: int) -> None:
    breaches: list[SlaBreach] = await env.breaches(order_id)
    rules = [b.rule for b in breaches]
    assert len(rules) == len(set(rules)), f"a rule breached twice: {rules}"
    history = await env.rows(WorkOrderEvent, WorkOrderEvent.work_order_id == order_id)
    for breach in breaches:
        [deadline] = await env.rows(SlaDeadline, SlaDeadline.id == breach.deadline_id)
        spec = SPECS[Rule(breach.rule)]
        # Events at the very instant the deadline (re)started count only after what (re)started it: an
        # acknowledgement, then a re-dispatch in the same second, leaves the new dispatch unacknowledged.
        opener = max((h.seq for h in history if h.type in spec.opens_on and h.occurred_at <= deadline.starts_at),
                     default=-1)
        in_time = [h for h in history if h.type in spec.met_by and h.seq > opener
                   and deadline.starts_at <= h.occurred_at <= breach.due_at]
        assert in_time == [], f"{breach.rule} breached although met in time by {[h.type for h in in_time]}"
        escalations = await env.rows(SlaEscalation, SlaEscalation.breach_id == breach.id)
        assert len(escalations) == (1 if breach.escalation else 0)


async def run_history(engine: AsyncEngine, kind: str, ops: list[tuple[str, int]]) -> None:
    async with open_env(engine) as env:
        extra = {"complaint_level": "general"} if kind == "complaint" else {}
        order = await env.create(kind, **extra)
        for name, minutes in ops:
            if name == "advance":
                env.clock.advance(minutes=minutes)
            elif name == "tick":
                await env.tick()
            else:
                actor, cmd = command(env, name)
                with contextlib.suppress(errors.DomainError):  # not allowed in this state: go on
                    await env.act(actor, order.id, cmd)  # type: ignore[arg-type]
        await check_invariants(env, order.id)
        await env.advance(hours=200)
        await check_invariants(env, order.id)
        overdue = await env.rows(SlaDeadline, SlaDeadline.work_order_id == order.id, SlaDeadline.state == "open",
                                 SlaDeadline.due_at <= env.clock.now())
        assert overdue == [], "a due deadline was left open"


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(KINDS), ops=st.lists(op, min_size=1, max_size=12))
async def test_random_histories_keep_the_sla_invariants(engine: AsyncEngine, kind: str,
                                                        ops: list[tuple[str, int]]) -> None:
    await run_history(engine, kind, ops)
