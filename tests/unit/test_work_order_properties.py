"""Random command sequences from random actors against a few orders never break an invariant.

Commands go only through ``decide``; accepted events are folded with ``evolve`` and kept in a log per
order. The clock is injected and only moves forward."""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from backend import errors
from backend import events as ev
from backend.domain.actors import CONSOLE_ROLES, Principal, Role
from backend.domain.work_orders import commands as c
from backend.domain.work_orders.creation import CreationFacts, plan_creation
from backend.domain.work_orders.decide import SOURCES, Facts, decide
from backend.domain.work_orders.evolve import evolve, replay
from backend.domain.work_orders.model import ASSIGNED_STATES, FINAL_STATES, Kind, State, WorkOrder
from tests.unit.work_order_builders import (
    AGENT,
    ALL_COMMANDS,
    CALENDAR,
    COLLEAGUE,
    ENGINEER,
    OTHER_AGENT,
    OTHER_PROVIDER,
    PROVIDER,
    STRANGER,
    SUPERVISOR,
    T0,
    WALLBOARD,
    new_spec,
)

S = State
STEPS = 30
EXAMPLES = 200
# No explain phase: on a 30-step machine it runs for minutes after a failure, hiding the report.
SETTINGS = settings(max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow],
                    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.target, Phase.shrink])

POPULATION = (Kind.REPAIR, Kind.INSTALLATION, Kind.COMPLAINT)
ENGINEERS = {p.user_id: p for p in (ENGINEER, COLLEAGUE, STRANGER)}
PROVIDER_ENGINEERS = {PROVIDER: (ENGINEER, COLLEAGUE), OTHER_PROVIDER: (STRANGER,)}
CONSOLE = (AGENT, OTHER_AGENT, SUPERVISOR)
EVERYONE = (*CONSOLE, ENGINEER, COLLEAGUE, STRANGER, WALLBOARD)

# What a user would most likely try next in each state: the lifecycle's next steps (weighted), and
# the tempting wrong ones (skipping a step, completing without arriving, closing before the follow-up).
# Anything else is still drawn, less often.
NATURAL: dict[State, tuple[type, ...]] = {
    S.CREATED: (c.Dispatch, c.Dispatch, c.Dispatch, c.Acknowledge),
    S.DISPATCHED: (c.Acknowledge, c.Acknowledge, c.Acknowledge, c.Decline, c.Dispatch, c.ContactCustomer),
    S.ACKNOWLEDGED: (c.ContactCustomer, c.ContactCustomer, c.ContactCustomer, c.Dispatch, c.Depart),
    S.CONTACTED: (c.Depart, c.Depart, c.Depart, c.ContactCustomer, c.Arrive),
    S.EN_ROUTE: (c.Arrive, c.Arrive, c.Arrive, c.Complete),
    S.ON_SITE: (c.Complete, c.Complete, c.Hold),
    S.ON_HOLD: (c.Resume, c.Resume, c.Complete, c.Dispatch),
    S.COMPLETED: (c.Approve, c.Approve, c.Void, c.Close, c.Complete),
    S.APPROVED: (c.RecordFollowUp, c.RecordFollowUp, c.Close),
    S.VOIDED: (c.Close, c.Close, c.RecordFollowUp),
    S.FOLLOWED_UP: (c.Close, c.Close, c.RecordFollowUp),
    S.RECEIVED: (c.Forward, c.Answer, c.Answer, c.Close),
    S.FORWARDED: (c.Answer, c.Answer, c.CallBack),
    S.ANSWERED: (c.CallBack, c.CallBack, c.Close),
    S.CALLED_BACK: (c.Close, c.Close, c.Edit),
    S.CLOSED: ALL_COMMANDS,
    S.CANCELLED: ALL_COMMANDS,
}
assert set(NATURAL) == set(State)

# Beside the lifecycle: recorded without moving it on (urges, edits), or ending it (cancel).
ASIDE = (c.Urge, c.Urge, c.Edit, c.Edit, c.Cancel)


def _weighted(usual: tuple[Any, ...], share: float, rest: tuple[Any, ...]) -> tuple[Any, ...]:
    """One menu to draw from (one draw per choice keeps 30-step runs fast): ``usual`` items make up
    about ``share`` of it, the ``rest`` the remainder."""
    copies = max(1, round(share * len(rest) / ((1 - share) * len(usual))))
    return usual * copies + rest


# About 2 commands in 3 follow the lifecycle; the rest are the asides and anything at all.
COMMAND_MENU = {state: _weighted(NATURAL[state], 2 / 3, ASIDE + ALL_COMMANDS) for state in State}
# Which order, and how much later: the first field order gets half the steps, the desk item a sixth.
WHERE_AND_WHEN = tuple((i, minutes) for i in (0, 0, 0, 1, 1, 2) for minutes in (1, 9, 50, 240))
FACTS = tuple((hours, follow_up) for hours in (None, 1000) for follow_up in (True, False))


@dataclass
class Stats:
    """What the runs covered, collected across examples so the test can check the exploration."""

    runs: int = 0
    full_runs: int = 0
    accepted: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    states: Counter[tuple[str, State]] = field(default_factory=Counter)


class WorkOrderMachine(RuleBasedStateMachine):
    stats: Stats = Stats()

    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.steps = 0
        self.orders: list[WorkOrder] = []
        self.logs: list[list[tuple[ev.Event, datetime]]] = []
        self.final: list[State | None] = []
        self.checked: list[WorkOrder | None] = []
        self.visited: set[tuple[str, State]] = set()
        for i, kind in enumerate(POPULATION, start=1):
            created = plan_creation(new_spec(kind), AGENT, self.now, CALENDAR, CreationFacts(), work_order_id=i,
                                    number=f"WO-{i:04d}")
            self.orders.append(evolve(None, created, self.now))
            self.logs.append([(created, self.now)])
            self.final.append(None)
            self.checked.append(None)

    # --- drawing a step ---------------------------------------------------------------------------

    def _actor(self, data: st.DataObject, order: WorkOrder, kind: type) -> Principal:
        """Four times in five someone who may issue the command, else anyone (the wallboard too)."""
        if kind not in c.ENGINEER_COMMANDS:
            usual = CONSOLE
        elif order.engineer_id is not None:
            usual = (ENGINEERS[order.engineer_id],)
        else:
            usual = PROVIDER_ENGINEERS.get(order.provider_id, (ENGINEER,))
        return data.draw(st.sampled_from(_weighted(usual, 0.8, EVERYONE)), label="actor")

    def _command(self, data: st.DataObject, order: WorkOrder, kind: type) -> c.Command:
        now = self.now

        def one(*options: Any) -> Any:
            return data.draw(st.sampled_from(options), label=kind.__name__)

        if kind is c.Dispatch:
            engineer, provider = one((21, None), (22, None), (23, None), (None, PROVIDER), (None, PROVIDER),
                                     (None, OTHER_PROVIDER), (None, None), (21, PROVIDER))
            return c.Dispatch(engineer_id=engineer, provider_id=provider)
        if kind is c.Decline:
            return c.Decline(reason=one("too far", "too far", " "))
        if kind is c.ContactCustomer:
            return c.ContactCustomer(appointment_at=now + timedelta(hours=one(1, 24)))
        if kind is c.Hold:
            return c.Hold(reason=one("waiting_for_parts", "customer_absent", "other", "lunch"))
        if kind is c.Complete:
            arrival = order.arrived_at or now - timedelta(hours=1)
            report = {"arrival_time": arrival, "completion_time": now, "fault_description": "leak",
                      "faulty_part": "seal", "repair_method": "replaced", "running_hours": one(1500, 1500, 800)}
            match one("ok", "ok", "ok", "no part", "backwards", "bad hours"):
                case "no part":
                    report["faulty_part"] = ""
                case "backwards":
                    report["completion_time"] = arrival - timedelta(minutes=1)
                case "bad hours":
                    report["running_hours"] = -3
            return c.Complete(report=report)
        if kind is c.Void:
            return c.Void(reason=one("fake", "duplicate", "bogus"))
        if kind is c.RecordFollowUp:
            reachable, satisfaction, resolved = one((True, 5, True), (True, 2, False), (False, None, None),
                                                    (True, None, None), (True, 9, True))
            return c.RecordFollowUp(reachable=reachable, satisfaction=satisfaction, resolved=resolved)
        if kind is c.Cancel:
            return c.Cancel(reason=one("customer withdrew", ""))
        if kind is c.Urge:
            return c.Urge(by=one("center", "customer", "boss"))
        if kind is c.Edit:
            return c.Edit(changes=one({"description": "worse now"}, {"contact_phone": "13900000000"},
                                      {"appointment_at": now + timedelta(days=1)}, {"number": "X"},
                                      {"complaint_level": "strong"}, {}))
        if kind is c.Forward:
            return c.Forward(department=one("parts", "parts", ""))
        if kind is c.Answer:
            return c.Answer(answer=one("about 120 yuan", "about 120 yuan", ""))
        if kind is c.CallBack:
            reachable, satisfaction = one((True, 4), (False, None), (True, 0))
            return c.CallBack(reachable=reachable, satisfaction=satisfaction)
        return kind()  # Acknowledge, Depart, Arrive, Resume, Approve, Close: no payload

    # --- the one rule -------------------------------------------------------------------------------

    @rule(data=st.data())
    def act(self, data: st.DataObject) -> None:
        self.steps += 1
        i, minutes = data.draw(st.sampled_from(WHERE_AND_WHEN), label="order, minutes later")
        self.now += timedelta(minutes=minutes)
        before = self.orders[i]
        kind = data.draw(st.sampled_from(COMMAND_MENU[before.state]), label="command")
        actor = self._actor(data, before, kind)
        command = self._command(data, before, kind)
        hours, follow_up_required = data.draw(st.sampled_from(FACTS), label="facts: running hours, follow-up")
        facts = Facts(equipment_running_hours=hours, engineer_provider_id=actor.provider_id,
                      follow_up_required=follow_up_required)
        # The record is frozen, but its report, follow-up and extra are dicts decide could still touch.
        snapshot = replace(before, report=copy.deepcopy(before.report), follow_up=copy.deepcopy(before.follow_up),
                           extra=copy.deepcopy(before.extra))

        try:
            events = decide(before, command, actor, self.now, facts)
        except errors.DomainError as error:
            assert before == snapshot, "a refused command changed the order"
            assert self.orders[i] is before
            self._check_refusal(before, kind, actor, error)
            self.stats.refused[error.code] += 1
            return

        assert before == snapshot, "decide changed the order it was given"
        self._check_acceptance(before, command, actor, facts)
        after = before
        for event in events:
            assert isinstance(event, ev.WorkOrderEvent) and event.work_order_id == before.id
            after = evolve(after, event, self.now)
            self.logs[i].append((event, self.now))
        if not events:  # only an edit that changes nothing records nothing
            assert kind is c.Edit and after.state == before.state
        if kind is c.Urge:
            assert (after.state, after.urge_count, after.last_urged_at) == (
                before.state, before.urge_count + 1, self.now)
        if kind is c.Complete:
            assert after.completed_at == command.report["completion_time"]  # type: ignore[union-attr]
        self.orders[i] = after
        self.stats.accepted += 1

    def _check_refusal(self, before: WorkOrder, kind: type, actor: Principal, error: errors.DomainError) -> None:
        if actor.role in (Role.WALLBOARD, Role.SERVICE_MANAGER):
            assert error.code == "role-not-allowed"
        if before.state in FINAL_STATES:
            assert error.code in ("work-order-final", "role-not-allowed", "not-a-field-order", "not-a-desk-item")
        if kind is c.Complete and error.code == "arrival-required":
            assert before.arrived_at is None

    def _check_acceptance(self, before: WorkOrder, command: c.Command, actor: Principal, facts: Facts) -> None:
        kind = type(command)
        assert before.state not in FINAL_STATES, "a closed or cancelled order accepted a command"
        assert before.state in SOURCES[kind]
        if kind in c.ENGINEER_COMMANDS:
            assert actor.role is Role.ENGINEER
            if before.engineer_id is not None:
                assert actor.user_id == before.engineer_id, "an engineer acted on another engineer's order"
            else:  # a provider offer: its engineers may only accept or decline it
                assert kind in (c.Acknowledge, c.Decline)
                assert before.provider_id is not None
                assert (facts.engineer_provider_id or actor.provider_id) == before.provider_id
        else:
            assert actor.role in CONSOLE_ROLES
        if kind is c.Complete:
            assert before.state is S.ON_SITE and before.arrived_at is not None
        if kind is c.Close and before.state is S.APPROVED:
            assert not facts.follow_up_required

    # --- invariants ---------------------------------------------------------------------------------

    @invariant()
    def every_order_is_its_event_log(self) -> None:
        for i, (order, log) in enumerate(zip(self.orders, self.logs, strict=True)):
            if order is self.checked[i]:
                continue  # untouched since its last check
            self.checked[i] = order
            assert replay(log) == order, "the record differs from its folded event log"
            assert isinstance(log[0][0], ev.WorkOrderCreated)
            assert order.version == len(log), "version is not 1 + the events after creation"
            times = [at for _, at in log]
            assert times == sorted(times)
            self.visited.add(("field" if order.is_field else "desk", order.state))
            if self.final[i] is not None:
                assert order.state == self.final[i], "a closed or cancelled order moved"
            elif order.state in FINAL_STATES:
                self.final[i] = order.state

    @invariant()
    def no_completion_without_arrival(self) -> None:
        for order in self.orders:
            if order.state in (S.COMPLETED, S.APPROVED, S.VOIDED, S.FOLLOWED_UP) or order.completed_at is not None:
                assert order.arrived_at is not None and order.report is not None
                assert order.completed_at is not None
            if order.is_field and order.state is S.CLOSED:
                assert order.report is not None, "a field order closed without a completion"

    @invariant()
    def at_most_one_engineer(self) -> None:
        for order in self.orders:
            assert order.engineer_id is None or type(order.engineer_id) is int
            if order.state in ASSIGNED_STATES:
                assert order.engineer_id in ENGINEERS
            if order.is_desk:
                assert order.engineer_id is None and order.arrived_at is None and order.report is None

    def teardown(self) -> None:
        # The outbox carries events as JSON: folding the parsed log gives the same record.
        for order, log in zip(self.orders, self.logs, strict=True):
            parsed = [(ev.parse_event(e.model_dump(mode="json")), at) for e, at in log]
            assert replay(parsed) == order
        self.stats.runs += 1
        self.stats.full_runs += self.steps == STEPS
        self.stats.states.update(self.visited)


# A pass takes about 15 s; a failure may shrink for minutes, and the report must not be lost to the
# suite's default 120 s timeout.
@pytest.mark.timeout(420)
def test_random_command_sequences_keep_every_invariant() -> None:
    stats = Stats()

    class Machine(WorkOrderMachine):
        pass

    Machine.stats = stats
    # Hypothesis otherwise ends some sequences early while exploring; every one runs all its steps
    # (the price: a failure shrinks to fewer commands, not to fewer steps).
    run_state_machine_as_test(Machine, settings=SETTINGS, _min_steps=STEPS - 1)

    assert stats.full_runs >= EXAMPLES, f"only {stats.full_runs} sequences of {STEPS} steps ran"
    assert stats.accepted > 0 and stats.refused
    # The walk went deep enough to matter: states each reached in well over a tenth of the runs.
    for family, state in [("field", S.ON_SITE), ("field", S.COMPLETED), ("field", S.APPROVED),
                          ("field", S.CLOSED), ("field", S.CANCELLED), ("desk", S.ANSWERED), ("desk", S.CLOSED)]:
        assert stats.states[(family, state)] > 0, (family, state, stats.states)
