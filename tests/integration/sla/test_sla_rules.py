"""Every rule, table-driven, through the real services on SQLite and PostgreSQL with a FrozenClock:
the deadline opens in the order's transaction, does not fire a second early, fires exactly at its
due time (one breach, one escalation of the rule's kind), and never fires when satisfied in time.
Business-time rules are also run across an evening, a weekend and a holiday, and in another time
zone; the response rule in each zone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from backend.domain.calendar import BusinessCalendar
from backend.domain.work_orders import commands as c
from backend.persistence.tables_sla import SlaEscalation
from tests.integration.sla.support import MONDAY_10, Env, report

Step = Callable[[Env, int], Awaitable[object]]


def dispatch(env: Env, order_id: int) -> Awaitable[object]:
    return env.act(env.ref.agent, order_id, c.Dispatch(engineer_id=env.ref.eng_a.user_id))


def ack(env: Env, order_id: int) -> Awaitable[object]:
    return env.act(env.ref.eng_a, order_id, c.Acknowledge())


def contact(env: Env, order_id: int) -> Awaitable[object]:
    return env.act(env.ref.eng_a, order_id, c.ContactCustomer(appointment_at=env.clock.now() + timedelta(hours=1)))


async def complete(env: Env, order_id: int) -> object:
    for command in (c.Depart(), c.Arrive()):
        await env.act(env.ref.eng_a, order_id, command)
    return await env.act(env.ref.eng_a, order_id, c.Complete(report=report(env.clock.now())))


def forward(env: Env, order_id: int) -> Awaitable[object]:
    return env.act(env.ref.agent, order_id, c.Forward(department="parts"))


def answer(env: Env, order_id: int) -> Awaitable[object]:
    return env.act(env.ref.agent, order_id, c.Answer(answer="the price list is on its way"))


def call_back(env: Env, order_id: int) -> Awaitable[object]:
    return env.act(env.ref.agent, order_id, c.CallBack(satisfaction=4))


def seq(*steps: Step) -> Step:
    async def run(env: Env, order_id: int) -> None:
        for s in steps:
            await s(env, order_id)

    return run


def local(*args: int, tz: str = "Asia/Shanghai") -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(tz)).astimezone(UTC)


def berlin(*args: int) -> datetime:
    return local(*args, tz="Europe/Berlin")


# Tuesday 24 November 2026 a holiday; a service center in Berlin (the same opening hours, its own clock).
HOLIDAY = BusinessCalendar(holidays=frozenset({date(2026, 11, 24)}))
BERLIN = BusinessCalendar(tz=ZoneInfo("Europe/Berlin"))


@dataclass(frozen=True)
class Case:
    rule: str
    kind: str
    before: tuple[Step, ...]  # run at the start, in order
    due: datetime
    satisfy: Step
    escalation: str
    start: datetime = MONDAY_10
    extra: tuple[tuple[str, object], ...] = ()
    remote: bool = False  # at the customer's remote site (zone "remote") instead of the city yard
    calendar: BusinessCalendar | None = None  # the configured calendar, if not the default
    label: str = ""

    @property
    def id(self) -> str:
        return self.label or f"{self.rule}-{self.start.isoformat()[11:16]}"


H, M = timedelta(hours=1), timedelta(minutes=1)
CASES = [
    Case("acknowledge", "repair", (dispatch,), MONDAY_10 + 3 * M, ack, "phone_engineer_and_manager"),
    Case("customer_contact", "repair", (dispatch, ack), MONDAY_10 + 30 * M, contact, "alert"),
    Case("status_feedback", "repair", (dispatch, ack), MONDAY_10 + 3 * H, contact, "alert"),
    Case("feedback_urge", "repair", (), MONDAY_10 + 4 * H, seq(dispatch, ack, contact), "urge"),
    # Reported at 16:30 (after the cut-off): scheduled 08:30 next day, 4 business hours later.
    Case("feedback_urge", "repair", (), local(2026, 11, 24, 12, 30), seq(dispatch, ack, contact), "urge",
         start=local(2026, 11, 23, 16, 30)),
    # Friday 16:50 dispatch: 30 business minutes end Monday 08:50.
    Case("customer_contact", "repair", (dispatch, ack), local(2026, 11, 30, 8, 50), contact, "alert",
         start=local(2026, 11, 27, 16, 50)),
    Case("response", "repair", (), MONDAY_10 + 24 * H, seq(dispatch, ack, contact, complete), "mark_overdue"),
    Case("response", "repair", (), MONDAY_10 + 72 * H, seq(dispatch, ack, contact, complete), "mark_overdue",
         remote=True, label="response-remote-72h"),
    # Monday 16:50 dispatch, Tuesday a holiday: 30 business minutes end Wednesday 08:50.
    Case("customer_contact", "repair", (dispatch, ack), local(2026, 11, 25, 8, 50), contact, "alert",
         start=local(2026, 11, 23, 16, 50), calendar=HOLIDAY, label="customer_contact-over-a-holiday"),
    # Reported Monday 16:30, Tuesday a holiday: scheduled Wednesday 08:30, urged at 12:30.
    Case("feedback_urge", "repair", (), local(2026, 11, 25, 12, 30), seq(dispatch, ack, contact), "urge",
         start=local(2026, 11, 23, 16, 30), calendar=HOLIDAY, label="feedback_urge-late-report-before-a-holiday"),
    # Berlin: Friday 15:00 dispatch, 3 business hours end Monday 09:30 Berlin time (08:30 UTC).
    Case("status_feedback", "repair", (dispatch, ack), berlin(2026, 11, 30, 9, 30), contact, "alert",
         start=berlin(2026, 11, 27, 15, 0), calendar=BERLIN, label="status_feedback-berlin-weekend"),
    Case("department_answer", "consultation", (forward,), berlin(2026, 11, 23, 12, 0), answer, "alert",
         start=berlin(2026, 11, 23, 10, 0), calendar=BERLIN, label="department_answer-berlin"),
    Case("complaint_reply", "complaint", (), MONDAY_10 + 24 * H, answer, "alert",
         extra=(("complaint_level", "medium"),)),
    Case("consultation_handoff", "consultation", (), MONDAY_10 + 30 * M, forward, "alert"),
    Case("consultation_callback", "consultation", (), MONDAY_10 + 30 * M, seq(answer, call_back), "call_back_task"),
    Case("department_answer", "consultation", (forward,), MONDAY_10 + 2 * H, answer, "alert"),
    Case("rescue_notice", "rescue", (), MONDAY_10 + 10 * M, dispatch, "alert"),
    Case("new_fault_notice", "new_fault_mode", (), MONDAY_10 + 60 * M, dispatch, "alert"),
    Case("new_fault_appointment", "new_fault_mode", (dispatch,), MONDAY_10 + 2 * H, seq(ack, contact), "alert"),
]
IDS = [case.id for case in CASES]


async def _open(env: Env, case: Case) -> int:
    env.clock.set(case.start)
    if case.calendar is not None:
        env.uows.calendar = case.calendar
    site = {"site": env.ref.remote_site} if case.remote else {}
    order = await env.create(case.kind, **site, **dict(case.extra))  # type: ignore[arg-type]
    for step in case.before:
        await step(env, order.id)
    deadline = await env.deadline(order.id, case.rule)
    assert deadline is not None and deadline.state == "open"
    assert deadline.due_at == case.due
    return order.id


@pytest.mark.parametrize("case", CASES, ids=IDS)
async def test_fires_at_the_due_time_and_never_when_satisfied(env: Env, case: Case) -> None:
    late = await _open(env, case)
    on_time = await _open(env, case)
    env.clock.set(case.due - timedelta(seconds=1))
    await env.tick()
    assert [b for b in await env.breaches() if b.rule == case.rule] == []
    await case.satisfy(env, on_time)
    assert (await env.deadline(on_time, case.rule)).state == "met"  # type: ignore[union-attr]
    env.clock.set(case.due)
    await env.tick()
    [breach] = [b for b in await env.breaches() if b.rule == case.rule]
    assert breach.work_order_id == late
    assert breach.due_at == case.due and breach.detected_at == case.due and breach.resolved_at is None
    [escalation] = await env.rows(SlaEscalation, SlaEscalation.breach_id == breach.id)
    assert escalation.action == case.escalation
    assert (await env.deadline(late, case.rule)).state == "breached"  # type: ignore[union-attr]
    types = [o.type for o in await env.outbox("SlaBreached", "SlaEscalated") if o.payload["rule"] == case.rule]
    assert types == ["SlaBreached", "SlaEscalated"]
    await env.advance(seconds=1)  # nothing fires twice, the satisfied one never
    assert [b.work_order_id for b in await env.breaches() if b.rule == case.rule] == [late]
