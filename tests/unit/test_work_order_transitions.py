"""Every (state, command) pair of the work-order lifecycle, field orders and desk items: the resulting
state of each valid transition (spelled out below, independently of ``decide.SOURCES``) and the error
class and code of each invalid one."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backend import errors
from backend import events as ev
from backend.domain.work_orders import commands as c
from backend.domain.work_orders.decide import SOURCES, Facts
from backend.domain.work_orders.model import FINAL_STATES, LOCKED_STATES, OPEN_STATES, Kind, State
from tests.unit.work_order_builders import (
    AGENT,
    ALL_COMMANDS,
    DESK_LIFECYCLE,
    ENGINEER,
    FIELD_LIFECYCLE,
    actor_for,
    order_in,
    valid_command,
)

S = State

# The lifecycle, written out by hand: (command, from) -> to. Compared with SOURCES below, so a rule
# added to or dropped from the domain without updating this table fails the suite.
FIELD_TARGETS: dict[tuple[type, State], State] = {
    (c.Dispatch, S.CREATED): S.DISPATCHED,
    (c.Dispatch, S.DISPATCHED): S.DISPATCHED,
    (c.Dispatch, S.ACKNOWLEDGED): S.DISPATCHED,
    (c.Dispatch, S.CONTACTED): S.DISPATCHED,
    (c.Dispatch, S.EN_ROUTE): S.DISPATCHED,
    (c.Dispatch, S.ON_HOLD): S.DISPATCHED,
    (c.Acknowledge, S.DISPATCHED): S.ACKNOWLEDGED,
    (c.Decline, S.DISPATCHED): S.CREATED,
    (c.ContactCustomer, S.ACKNOWLEDGED): S.CONTACTED,
    (c.ContactCustomer, S.CONTACTED): S.CONTACTED,
    (c.Depart, S.CONTACTED): S.EN_ROUTE,
    (c.Arrive, S.EN_ROUTE): S.ON_SITE,
    (c.Hold, S.ON_SITE): S.ON_HOLD,
    (c.Resume, S.ON_HOLD): S.ON_SITE,
    (c.Complete, S.ON_SITE): S.COMPLETED,
    (c.Approve, S.COMPLETED): S.APPROVED,
    (c.Void, S.COMPLETED): S.VOIDED,
    (c.RecordFollowUp, S.APPROVED): S.FOLLOWED_UP,
    (c.Close, S.APPROVED): S.CLOSED,
    (c.Close, S.VOIDED): S.CLOSED,
    (c.Close, S.FOLLOWED_UP): S.CLOSED,
    **{(c.Cancel, s): S.CANCELLED for s in (S.CREATED, S.DISPATCHED, S.ACKNOWLEDGED, S.CONTACTED, S.EN_ROUTE,
                                            S.ON_SITE, S.ON_HOLD)},
    # Urges and edits are recorded but leave the state where it is.
    **{(c.Urge, s): s for s in (S.CREATED, S.DISPATCHED, S.ACKNOWLEDGED, S.CONTACTED, S.EN_ROUTE, S.ON_SITE,
                                S.ON_HOLD)},
    **{(c.Edit, s): s for s in (S.CREATED, S.DISPATCHED, S.ACKNOWLEDGED, S.CONTACTED, S.EN_ROUTE, S.ON_SITE,
                                S.ON_HOLD)},
}
DESK_TARGETS: dict[tuple[type, State], State] = {
    (c.Forward, S.RECEIVED): S.FORWARDED,
    (c.Answer, S.RECEIVED): S.ANSWERED,
    (c.Answer, S.FORWARDED): S.ANSWERED,
    (c.CallBack, S.ANSWERED): S.CALLED_BACK,
    (c.Close, S.ANSWERED): S.CLOSED,
    (c.Close, S.CALLED_BACK): S.CLOSED,
    **{(c.Cancel, s): S.CANCELLED for s in (S.RECEIVED, S.FORWARDED, S.ANSWERED)},
    **{(c.Urge, s): s for s in (S.RECEIVED, S.FORWARDED, S.ANSWERED)},
    **{(c.Edit, s): s for s in (S.RECEIVED, S.FORWARDED, S.ANSWERED)},
}

EVENT_OF: dict[type, type[ev.Event]] = {
    c.Dispatch: ev.WorkOrderDispatched, c.Acknowledge: ev.WorkOrderAcknowledged, c.Decline: ev.WorkOrderDeclined,
    c.ContactCustomer: ev.CustomerContacted, c.Depart: ev.EngineerDeparted, c.Arrive: ev.EngineerArrived,
    c.Hold: ev.WorkOrderHeld, c.Resume: ev.WorkOrderResumed, c.Complete: ev.WorkOrderCompleted,
    c.Approve: ev.WorkOrderApproved, c.Void: ev.WorkOrderVoided, c.RecordFollowUp: ev.FollowUpRecorded,
    c.Close: ev.WorkOrderClosed, c.Cancel: ev.WorkOrderCancelled, c.Urge: ev.WorkOrderUrged,
    c.Edit: ev.WorkOrderEdited, c.Forward: ev.DeskItemForwarded, c.Answer: ev.DeskItemAnswered,
    c.CallBack: ev.DeskItemCalledBack,
}

# Close from APPROVED needs no follow-up here (an installation outside the sample); the follow-up
# rule has its own tests in test_work_order_guards.
MATRIX_FACTS = Facts(follow_up_required=False)

FIELD_KIND, DESK_KIND = Kind.REPAIR, Kind.CONSULTATION


def _expected_error(kind: type, state: State, *, desk: bool, arrived: bool) -> tuple[type, str]:
    """The refusal the rules promise for an invalid pair, in the order the rules are checked."""
    if desk and kind in c.FIELD_COMMANDS:
        return errors.Conflict, "not-a-field-order"
    if not desk and kind in c.DESK_COMMANDS:
        return errors.Conflict, "not-a-desk-item"
    if state in FINAL_STATES:
        return errors.Conflict, "work-order-final"
    if state in LOCKED_STATES and (kind is c.Edit or kind in c.ENGINEER_COMMANDS):
        return errors.Conflict, "work-order-locked"
    if kind is c.Complete and state is S.ON_HOLD:
        return errors.Conflict, "work-order-on-hold"
    if kind is c.Complete and not arrived:
        return errors.Conflict, "arrival-required"
    return errors.Conflict, "invalid-transition"


def _matrix() -> list[pytest.ParameterSet]:
    cases = []
    for family, states in (("field", FIELD_LIFECYCLE), ("desk", DESK_LIFECYCLE)):
        for state in states:
            for kind in ALL_COMMANDS:
                cases.append(pytest.param(family, state, kind, id=f"{family}-{state}-{kind.__name__}"))
    return cases


def test_the_matrix_covers_every_state_and_every_command() -> None:
    assert set(FIELD_LIFECYCLE) | set(DESK_LIFECYCLE) == set(State)
    assert set(ALL_COMMANDS) == set(SOURCES) == set(c.ENGINEER_COMMANDS) | set(c.CONSOLE_COMMANDS)
    assert not set(c.ENGINEER_COMMANDS) & set(c.CONSOLE_COMMANDS)


def test_the_explicit_table_agrees_with_the_sources_of_the_domain() -> None:
    """Every pair the domain accepts is in the hand-written table, and nothing else is."""
    field_from_sources = {(k, s) for k, sources in SOURCES.items() for s in sources
                          if s in FIELD_LIFECYCLE and k not in c.DESK_COMMANDS}
    desk_from_sources = {(k, s) for k, sources in SOURCES.items() for s in sources
                         if s in DESK_LIFECYCLE and k not in c.FIELD_COMMANDS}
    assert field_from_sources == set(FIELD_TARGETS)
    assert desk_from_sources == set(DESK_TARGETS)


@pytest.mark.parametrize(("family", "state", "kind"), _matrix())
def test_transition(family: str, state: State, kind: type) -> None:
    desk = family == "desk"
    history = order_in(state, DESK_KIND if desk else FIELD_KIND)
    before = history.order
    targets = DESK_TARGETS if desk else FIELD_TARGETS
    command = valid_command(kind, history.now)

    if (kind, state) in targets:
        events = history.run(command, actor_for(kind), MATRIX_FACTS)
        assert [type(e) for e in events] == [EVENT_OF[kind]]
        assert all(e.work_order_id == before.id for e in events)
        assert history.order.state == targets[(kind, state)]
        assert history.order.version == before.version + 1
        assert history.replayed() == history.order
    else:
        error_class, code = _expected_error(kind, state, desk=desk, arrived=before.arrived_at is not None)
        with pytest.raises(errors.DomainError) as caught:
            history.run(command, actor_for(kind), MATRIX_FACTS)
        assert type(caught.value) is error_class
        assert caught.value.code == code
        assert history.order == before


@pytest.mark.parametrize("state", sorted(OPEN_STATES))
def test_urges_are_counted_and_leave_the_state_alone(state: State) -> None:
    history = order_in(state, DESK_KIND if state in DESK_LIFECYCLE else FIELD_KIND)
    before = history.order
    history.run(c.Urge(by="center", note="4 h without news"), AGENT)
    first_at = history.now
    history.run(c.Urge(by="customer"), AGENT)
    order = history.order
    assert order.state == state
    assert order.urge_count == before.urge_count + 2 == 2
    assert order.last_urged_at == history.now > first_at
    assert order.version == before.version + 2
    assert [e.by for e, _ in history.log[-2:]] == ["center", "customer"]  # type: ignore[attr-defined]


def test_version_grows_by_one_per_event_along_the_whole_lifecycle() -> None:
    history = order_in(S.CLOSED, FIELD_KIND)
    assert [e.type for e, _ in history.log] == [
        "WorkOrderCreated", "WorkOrderDispatched", "WorkOrderAcknowledged", "CustomerContacted",
        "EngineerDeparted", "EngineerArrived", "WorkOrderCompleted", "WorkOrderApproved", "FollowUpRecorded",
        "WorkOrderClosed"]
    assert history.order.version == len(history.log) == 10
    for n in range(1, len(history.log) + 1):
        partial = order_in(S.CLOSED, FIELD_KIND)
        partial.log = history.log[:n]
        replayed = partial.replayed()
        assert replayed is not None and replayed.version == n


def test_an_edit_that_changes_nothing_records_nothing() -> None:
    history = order_in(S.CREATED)
    events = history.run(c.Edit(changes={"description": history.order.description}), AGENT)
    assert events == []
    assert history.order.version == 1


def test_a_redispatch_clears_the_previous_engineers_progress() -> None:
    history = order_in(S.ON_HOLD)
    events = history.run(c.Dispatch(provider_id=9), AGENT)
    assert events == [ev.WorkOrderDispatched(work_order_id=1, provider_id=9, previous_engineer_id=ENGINEER.user_id,
                                             redispatch=True)]
    order = history.order
    assert order.state is S.DISPATCHED
    assert (order.engineer_id, order.provider_id) == (None, 9)
    assert order.acknowledged_at is order.contacted_at is order.departed_at is order.hold_reason is None
    assert order.dispatched_at == history.now


def test_a_decline_returns_the_order_to_the_dispatch_queue() -> None:
    history = order_in(S.DISPATCHED)
    history.run(c.Decline(reason="sick"), ENGINEER)
    assert (history.order.state, history.order.engineer_id, history.order.provider_id) == (S.CREATED, None, None)


def test_the_arrival_time_is_when_the_engineer_reported_it() -> None:
    history = order_in(S.EN_ROUTE)
    history.run(c.Arrive(), ENGINEER)
    assert history.order.arrived_at == history.now


def test_completion_records_the_report_and_its_completion_time() -> None:
    history = order_in(S.ON_SITE)
    done = history.now + timedelta(minutes=30)
    history.run(c.Complete(report={
        "arrival_time": history.order.arrived_at, "completion_time": done, "fault_description": "leak",
        "faulty_part": "seal", "repair_method": "replaced", "running_hours": 10.5}), ENGINEER)
    order = history.order
    assert order.completed_at == done
    assert order.report is not None and order.report["completion_time"] == done.isoformat()
    assert order.report["running_hours"] == 10.5
