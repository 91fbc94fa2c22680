"""Work-order services on SQLite and PostgreSQL: the full lifecycle, the event log as the source of
the projection, outbox and audit rows written with the change, flags, numbers, second dispatch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from backend import errors
from backend.clock import FrozenClock
from backend.domain.work_orders import State, replay
from backend.domain.work_orders import commands as c
from backend.domain.work_orders.creation import NewWorkOrder
from backend.persistence.repositories import work_orders as repo
from backend.persistence.tables import AuditLog, Equipment, Outbox
from backend.persistence.tables import WorkOrder as Row
from backend.services import work_orders as svc
from backend.services.uow import UnitOfWork
from tests.support.factories import Ref, seed

MONDAY_10 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
async def ctx(session):
    clock = FrozenClock(MONDAY_10)
    uow = UnitOfWork(session, clock)
    ref = await seed(session, clock.now())
    return uow, clock, ref


def _report(at: datetime, hours: float = 1300) -> dict:
    return {"arrival_time": at, "completion_time": at + timedelta(hours=1), "fault_description": "leak",
            "faulty_part": "main pump seal", "repair_method": "replaced seal", "running_hours": hours}


async def _repair(uow: UnitOfWork, ref: Ref, **kw) -> object:
    spec = NewWorkOrder(kind="repair", description="hydraulic leak", customer_id=ref.customer, site_id=ref.site,
                        equipment_id=kw.pop("equipment", ref.equipment), **kw)
    return await svc.create_work_order(uow, ref.agent, spec)


async def test_full_field_lifecycle_projection_equals_event_log(ctx) -> None:
    uow, clock, ref = ctx
    order = await _repair(uow, ref)
    assert order.state == State.CREATED and order.number.startswith("WO20261123")
    eng = ref.eng_a
    steps = [
        (ref.agent, c.Dispatch(engineer_id=eng.user_id)), (eng, c.Acknowledge()),
        (eng, c.ContactCustomer(appointment_at=MONDAY_10 + timedelta(hours=3))), (eng, c.Depart()),
        (eng, c.Arrive()), (eng, c.Hold(reason="waiting_for_parts")), (eng, c.Resume()),
        (eng, c.Complete(report=_report(MONDAY_10))), (ref.agent, c.Approve()),
        (ref.agent, c.RecordFollowUp(reachable=True, satisfaction=5, resolved=True)), (ref.agent, c.Close()),
    ]
    for actor, command in steps:
        clock.advance(minutes=5)
        order = await svc.act(uow, actor, order.id, command)
    assert order.state == State.CLOSED and order.version == 12
    await uow.commit()
    stored = await repo.get(uow.session, order.id)
    assert stored == order
    history = await repo.history(uow.session, order.id)
    assert [h.seq for h in history] == list(range(1, 13))
    assert replay(repo.parse_history(history)) == stored
    outbox = (await uow.session.exec(
        select(Outbox).where(Outbox.key == f"work_order:{order.id}").order_by(Outbox.id))).all()
    assert [o.type for o in outbox] == [h.type for h in history]
    audits = (await uow.session.exec(select(AuditLog).where(AuditLog.target_id == str(order.id)))).all()
    assert len(audits) == 12
    equipment = await uow.session.get(Equipment, ref.equipment)
    assert equipment.running_hours == 1300


async def test_refused_command_changes_nothing(ctx) -> None:
    uow, _, ref = ctx
    order = await _repair(uow, ref)
    before = (await uow.session.exec(select(Outbox))).all()
    with pytest.raises(errors.Conflict) as info:
        await svc.act(uow, ref.agent, order.id, c.Approve())
    assert info.value.code == "invalid-transition"
    assert await repo.get(uow.session, order.id) == order
    assert len((await uow.session.exec(select(Outbox))).all()) == len(before)


async def test_other_engineers_order_is_not_found(ctx) -> None:
    uow, _, ref = ctx
    order = await _repair(uow, ref)
    await svc.act(uow, ref.agent, order.id, c.Dispatch(engineer_id=ref.eng_a.user_id))
    with pytest.raises(errors.NotFound):
        await svc.act(uow, ref.eng_b, order.id, c.Acknowledge())
    with pytest.raises(errors.NotFound):
        await svc.get_visible(uow, ref.other_manager, order.id)
    assert (await svc.get_visible(uow, ref.manager, order.id)).id == order.id


async def test_provider_offer_first_engineer_takes_it(ctx) -> None:
    uow, _, ref = ctx
    order = await _repair(uow, ref)
    await svc.act(uow, ref.agent, order.id, c.Dispatch(provider_id=ref.provider))
    taken = await svc.act(uow, ref.eng_b, order.id, c.Acknowledge())
    assert taken.engineer_id == ref.eng_b.user_id
    with pytest.raises(errors.NotFound):  # no longer offered to eng_a
        await svc.act(uow, ref.eng_a, order.id, c.Acknowledge())
    with pytest.raises(errors.NotFound):  # never offered to another provider's engineer
        await svc.get_visible(uow, ref.eng_c, order.id)


async def test_flags_duplicate_warranty_and_late_report(ctx) -> None:
    uow, clock, ref = ctx
    first = await _repair(uow, ref, equipment=ref.old_equipment)
    assert "out_of_warranty" in first.flags and "possible_duplicate" not in first.flags
    clock.set(datetime(2026, 11, 23, 8, 30, tzinfo=UTC))  # 16:30 local
    second = await _repair(uow, ref, equipment=ref.old_equipment)
    assert {"possible_duplicate", "out_of_warranty", "after_cutoff"} <= set(second.flags)
    assert second.scheduled_for == datetime(2026, 11, 24, 0, 30, tzinfo=UTC)  # Tue 08:30 local
    overridden = await svc.create_work_order(uow, ref.supervisor, NewWorkOrder(
        kind="repair", description="urgent", customer_id=ref.customer, site_id=ref.site, schedule_now=True))
    assert "cutoff_overridden" in overridden.flags and overridden.scheduled_for == clock.now()
    with pytest.raises(errors.Forbidden):
        await svc.create_work_order(uow, ref.agent, NewWorkOrder(
            kind="repair", description="urgent", customer_id=ref.customer, site_id=ref.site, schedule_now=True))


async def test_complaint_register_numbers_are_daily_sequences(ctx) -> None:
    uow, _, ref = ctx
    numbers = []
    for _ in range(3):
        item = await svc.create_work_order(uow, ref.agent, NewWorkOrder(
            kind="complaint", description="rude engineer", customer_id=ref.customer, complaint_level="strong"))
        numbers.append(item.register_number)
        assert item.state == State.RECEIVED
    assert numbers == ["20261123-001", "20261123-002", "20261123-003"]


async def test_unresolved_follow_up_opens_linked_second_dispatch(ctx) -> None:
    uow, _, ref = ctx
    order = await _repair(uow, ref)
    eng = ref.eng_a
    for actor, command in [
        (ref.agent, c.Dispatch(engineer_id=eng.user_id)), (eng, c.Acknowledge()),
        (eng, c.ContactCustomer(appointment_at=MONDAY_10)), (eng, c.Depart()), (eng, c.Arrive()),
        (eng, c.Complete(report=_report(MONDAY_10))), (ref.agent, c.Approve()),
    ]:
        order = await svc.act(uow, actor, order.id, command)
    order = await svc.act(uow, ref.agent, order.id,
                          c.RecordFollowUp(reachable=True, satisfaction=2, resolved=False, note="still leaking"))
    child_id = order.extra["second_dispatch"]["id"]
    child = await repo.get(uow.session, child_id)
    assert child.parent_id == order.id and "second_dispatch" in child.flags and child.state == State.CREATED
    row = await uow.session.get(Row, order.id)
    assert row.state == "followed_up"
    assert replay(repo.parse_history(await repo.history(uow.session, order.id))).extra["second_dispatch"]


async def test_running_hours_may_not_decrease(ctx) -> None:
    uow, _, ref = ctx
    order = await _repair(uow, ref)
    eng = ref.eng_a
    for actor, command in [
        (ref.agent, c.Dispatch(engineer_id=eng.user_id)), (eng, c.Acknowledge()),
        (eng, c.ContactCustomer(appointment_at=MONDAY_10)), (eng, c.Depart()), (eng, c.Arrive()),
    ]:
        order = await svc.act(uow, actor, order.id, command)
    with pytest.raises(errors.ValidationFailed) as info:
        await svc.act(uow, eng, order.id, c.Complete(report=_report(MONDAY_10, hours=1000)))
    assert info.value.code == "running-hours-decreased"


async def test_stale_version_is_a_precondition_failure(ctx) -> None:
    uow, _, ref = ctx
    order = await _repair(uow, ref)
    with pytest.raises(errors.PreconditionFailed):
        await svc.act(uow, ref.agent, order.id, c.Urge(), expected_version=order.version + 1)
    urged = await svc.act(uow, ref.agent, order.id, c.Urge(by="customer"), expected_version=order.version)
    assert urged.urge_count == 1 and urged.state == State.CREATED


async def test_an_order_read_to_change_brings_its_deadlines_once(ctx) -> None:
    """``get(with_deadlines=True)``: the same order as a plain read, and its deadlines as a read of
    them would give, taken by the next ``deadlines_of`` in place of a statement; a deadline written
    meanwhile makes that read go to the database."""
    from sqlalchemy import event

    from backend.persistence.repositories import sla as sla_repo

    uow, _clock, ref = ctx
    order = await _repair(uow, ref)
    order = await svc.act(uow, ref.agent, order.id, c.Dispatch(engineer_id=ref.eng_a.user_id))
    stored = await sla_repo.deadlines_of(uow.session, order.id)
    assert len(stored) >= 3  # dispatched: acknowledge, contact, status feedback...
    assert await repo.get(uow.session, order.id, with_deadlines=True) == await repo.get(uow.session, order.id)
    reads: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.startswith("SELECT sla_deadline.id"):
            reads.append(statement)

    engine = uow.session.bind.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert await sla_repo.deadlines_of(uow.session, order.id) == stored and reads == []  # the prefetch
        assert await sla_repo.deadlines_of(uow.session, order.id) == stored and len(reads) == 1  # used once
        await repo.get(uow.session, order.id, with_deadlines=True)
        await sla_repo.transition(uow.session, stored[0].id, "met", MONDAY_10)  # a deadline written
        fresh = await sla_repo.deadlines_of(uow.session, order.id)
        assert len(reads) == 2 and [d.state for d in fresh if d.id == stored[0].id] == ["met"]
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    bare = await _repair(uow, ref)  # only creation's deadlines (none for the engineer yet)
    assert await repo.get(uow.session, bare.id, with_deadlines=True) == await repo.get(uow.session, bare.id)
