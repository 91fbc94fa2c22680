"""Test helpers: actors, valid commands, and work orders built in any state by running real commands
through ``decide`` and folding the events with ``evolve`` (never by setting fields by hand)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from backend import events as ev
from backend.domain.actors import SYSTEM, Principal, Role
from backend.domain.calendar import BusinessCalendar
from backend.domain.work_orders import commands as c
from backend.domain.work_orders.creation import CreationFacts, NewWorkOrder, plan_creation
from backend.domain.work_orders.decide import Facts, decide
from backend.domain.work_orders.evolve import evolve, replay
from backend.domain.work_orders.model import FIELD_KINDS, Kind, State, WorkOrder

# Monday 2024-05-06 10:00 in Shanghai: inside business hours, before the cut-off.
T0 = datetime(2024, 5, 6, 2, 0, tzinfo=UTC)
CALENDAR = BusinessCalendar()

PROVIDER = 7
OTHER_PROVIDER = 8

ADMIN = Principal(user_id=1, role=Role.ADMIN, username="admin")
AGENT = Principal(user_id=2, role=Role.AGENT, username="agent")
OTHER_AGENT = Principal(user_id=3, role=Role.AGENT, username="agent2")
SUPERVISOR = Principal(user_id=4, role=Role.SUPERVISOR, username="lead")
ENGINEER = Principal(user_id=21, role=Role.ENGINEER, username="eng", provider_id=PROVIDER)
COLLEAGUE = Principal(user_id=22, role=Role.ENGINEER, username="eng2", provider_id=PROVIDER)
STRANGER = Principal(user_id=23, role=Role.ENGINEER, username="eng3", provider_id=OTHER_PROVIDER)
SERVICE_MANAGER = Principal(user_id=30, role=Role.SERVICE_MANAGER, username="manager", region_id=1)
WALLBOARD = Principal(user_id=40, role=Role.WALLBOARD, username="wallboard")

ALL_PRINCIPALS = (ADMIN, AGENT, SUPERVISOR, ENGINEER, SERVICE_MANAGER, WALLBOARD, SYSTEM)

ALL_COMMANDS: tuple[type, ...] = (
    c.Dispatch, c.Acknowledge, c.Decline, c.ContactCustomer, c.Depart, c.Arrive, c.Hold, c.Resume, c.Complete,
    c.Approve, c.Void, c.RecordFollowUp, c.Close, c.Cancel, c.Urge, c.Edit, c.Forward, c.Answer, c.CallBack,
)

FIELD_LIFECYCLE = (State.CREATED, State.DISPATCHED, State.ACKNOWLEDGED, State.CONTACTED, State.EN_ROUTE,
                   State.ON_SITE, State.ON_HOLD, State.COMPLETED, State.APPROVED, State.VOIDED, State.FOLLOWED_UP,
                   State.CLOSED, State.CANCELLED)
DESK_LIFECYCLE = (State.RECEIVED, State.FORWARDED, State.ANSWERED, State.CALLED_BACK, State.CLOSED,
                  State.CANCELLED)


def report(now: datetime, *, arrival: datetime | None = None, **overrides: Any) -> dict[str, Any]:
    """A complete, consistent service report; ``overrides`` replace or (with None) blank fields."""
    base: dict[str, Any] = {
        "arrival_time": arrival or now - timedelta(hours=1),
        "completion_time": now,
        "fault_description": "hydraulic pump leaking",
        "faulty_part": "main pump seal",
        "repair_method": "replaced the seal",
        "running_hours": 1200,
        "customer_opinion": "fine",
    }
    base.update(overrides)
    return base


def valid_command(kind: type, now: datetime) -> c.Command:
    """A well-formed instance of each command class (the payload passes every payload guard)."""
    samples: dict[type, c.Command] = {
        c.Dispatch: c.Dispatch(engineer_id=ENGINEER.user_id),
        c.Acknowledge: c.Acknowledge(),
        c.Decline: c.Decline(reason="too far away"),
        c.ContactCustomer: c.ContactCustomer(appointment_at=now + timedelta(hours=3)),
        c.Depart: c.Depart(),
        c.Arrive: c.Arrive(),
        c.Hold: c.Hold(reason="waiting_for_parts", note="seal ordered"),
        c.Resume: c.Resume(),
        c.Complete: c.Complete(report=report(now)),
        c.Approve: c.Approve(note="ok"),
        c.Void: c.Void(reason="duplicate"),
        c.RecordFollowUp: c.RecordFollowUp(reachable=True, satisfaction=5, resolved=True),
        c.Close: c.Close(),
        c.Cancel: c.Cancel(reason="customer withdrew"),
        c.Urge: c.Urge(by="center", note="no news for 4 h"),
        c.Edit: c.Edit(changes={"description": "pump leaking badly"}),
        c.Forward: c.Forward(department="parts"),
        c.Answer: c.Answer(answer="the part costs 120 yuan"),
        c.CallBack: c.CallBack(reachable=True, satisfaction=4),
    }
    return samples[kind]


def new_spec(kind: Kind | str, /, **overrides: Any) -> NewWorkOrder:
    """A valid creation request for ``kind`` (``overrides`` may replace any field, the kind too)."""
    k = Kind(kind)
    values: dict[str, Any] = {"kind": str(k), "description": "excavator will not start"}
    if k in FIELD_KINDS:
        values.update(customer_id=100, site_id=200, equipment_id=300, region_id=1)
    if k is Kind.PROACTIVE:
        values["subtype"] = "periodic_inspection"
    if k is Kind.COMPLAINT:
        values["complaint_level"] = "medium"
    values.update(overrides)
    return NewWorkOrder(**values)


@dataclass
class OrderHistory:
    """One order and its event log. ``run`` goes through ``decide`` and folds the events; the clock
    moves forward a minute per command."""

    order: WorkOrder
    log: list[tuple[ev.Event, datetime]] = field(default_factory=list)
    now: datetime = T0

    def run(self, command: c.Command, actor: Principal, facts: Facts = Facts()) -> list[ev.Event]:
        self.now += timedelta(minutes=1)
        events = decide(self.order, command, actor, self.now, facts)
        for event in events:
            self.order = evolve(self.order, event, self.now)
            self.log.append((event, self.now))
        return events

    def replayed(self) -> WorkOrder | None:
        return replay(self.log)


def create(kind: Kind | str = Kind.REPAIR, *, order_id: int = 1, now: datetime = T0, **spec: Any) -> OrderHistory:
    event = plan_creation(new_spec(kind, **spec), AGENT, now, CALENDAR, CreationFacts(), work_order_id=order_id,
                          number=f"WO-{order_id:04d}")
    return OrderHistory(order=evolve(None, event, now), log=[(event, now)], now=now)


# The shortest path of commands from creation to each state (field orders, then desk items).
_FIELD_PATHS: dict[State, tuple[type, ...]] = {
    State.CREATED: (),
    State.DISPATCHED: (c.Dispatch,),
    State.ACKNOWLEDGED: (c.Dispatch, c.Acknowledge),
    State.CONTACTED: (c.Dispatch, c.Acknowledge, c.ContactCustomer),
    State.EN_ROUTE: (c.Dispatch, c.Acknowledge, c.ContactCustomer, c.Depart),
    State.ON_SITE: (c.Dispatch, c.Acknowledge, c.ContactCustomer, c.Depart, c.Arrive),
    State.ON_HOLD: (c.Dispatch, c.Acknowledge, c.ContactCustomer, c.Depart, c.Arrive, c.Hold),
    State.COMPLETED: (c.Dispatch, c.Acknowledge, c.ContactCustomer, c.Depart, c.Arrive, c.Complete),
    State.APPROVED: (c.Dispatch, c.Acknowledge, c.ContactCustomer, c.Depart, c.Arrive, c.Complete, c.Approve),
    State.VOIDED: (c.Dispatch, c.Acknowledge, c.ContactCustomer, c.Depart, c.Arrive, c.Complete, c.Void),
    State.FOLLOWED_UP: (c.Dispatch, c.Acknowledge, c.ContactCustomer, c.Depart, c.Arrive, c.Complete, c.Approve,
                        c.RecordFollowUp),
    State.CLOSED: (c.Dispatch, c.Acknowledge, c.ContactCustomer, c.Depart, c.Arrive, c.Complete, c.Approve,
                   c.RecordFollowUp, c.Close),
    State.CANCELLED: (c.Cancel,),
}
_DESK_PATHS: dict[State, tuple[type, ...]] = {
    State.RECEIVED: (),
    State.FORWARDED: (c.Forward,),
    State.ANSWERED: (c.Forward, c.Answer),
    State.CALLED_BACK: (c.Forward, c.Answer, c.CallBack),
    State.CLOSED: (c.Forward, c.Answer, c.CallBack, c.Close),
    State.CANCELLED: (c.Cancel,),
}


def actor_for(kind: type) -> Principal:
    """Who normally issues a command: the engineer on the order, or an agent at the console."""
    return ENGINEER if kind in c.ENGINEER_COMMANDS else AGENT


def order_in(state: State, kind: Kind | str = Kind.REPAIR, *, order_id: int = 1) -> OrderHistory:
    """An order of ``kind`` brought to ``state`` by its real commands (the engineer is ENGINEER)."""
    history = create(kind, order_id=order_id)
    paths = _FIELD_PATHS if history.order.is_field else _DESK_PATHS
    for step in paths[state]:
        history.run(valid_command(step, history.now), actor_for(step))
    assert history.order.state == state, (state, history.order.state)
    return history
