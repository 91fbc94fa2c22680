"""Work-order use cases: create, act (every lifecycle command), read. Each call loads through the
repository, asks the domain, saves with an optimistic lock, appends the event log, the outbox and
the audit trail, all in the caller's unit of work."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from backend import errors
from backend import events as ev
from backend.domain.actors import Principal, Role
from backend.domain.work_orders import FOLLOW_UP_KINDS, Facts, WorkOrder, decide, evolve
from backend.domain.work_orders import commands as c
from backend.domain.work_orders.access import can_see
from backend.domain.work_orders.creation import CreationFacts, NewWorkOrder, plan_creation, validate_new
from backend.domain.work_orders.model import Kind
from backend.persistence.repositories import follow_ups as follow_up_tasks
from backend.persistence.repositories import work_orders as repo
from backend.persistence.tables import Customer, Provider, Site
from backend.services.reactions import react
from backend.services.uow import UnitOfWork


async def create_work_order(uow: UnitOfWork, actor: Principal, spec: NewWorkOrder) -> WorkOrder:
    """Create a work order or desk item, with its flags, number and (complaints) register number."""
    kind = validate_new(spec, actor)
    session, now, calendar = uow.session, uow.now(), uow.calendar
    site = await session.get(Site, spec.site_id) if spec.site_id is not None else None
    if spec.site_id is not None and site is None:
        raise errors.ValidationFailed("site-unknown", f"no site {spec.site_id}")
    if spec.customer_id is not None and await session.get(Customer, spec.customer_id) is None:
        raise errors.ValidationFailed("customer-unknown", f"no customer {spec.customer_id}")
    if site is not None and site.customer_id != spec.customer_id:
        raise errors.ValidationFailed("site-not-customers", "the site belongs to another customer")
    equipment = await repo.equipment(session, spec.equipment_id)
    if spec.equipment_id is not None and (equipment is None or equipment.customer_id != spec.customer_id):
        raise errors.ValidationFailed("equipment-unknown", "no such equipment for this customer")
    spec = replace(spec, region_id=spec.region_id or (site.region_id if site else None),
                   zone=spec.zone or (site.zone if site else None))
    facts = CreationFacts(
        warranty_end=equipment.warranty_end if equipment else None,
        has_open_duplicate=await repo.has_open_duplicate(session, spec.equipment_id, kind),
    )
    day = calendar.local(now).strftime("%Y%m%d")
    number = f"WO{day}{await repo.next_counter(session, 'work_order', day):04d}"
    register = None
    if kind is Kind.COMPLAINT:
        register = f"{day}-{await repo.next_counter(session, 'complaint', day):03d}"
    event = plan_creation(spec, actor, now, calendar, facts, work_order_id=0, number=number,
                          register_number=register)
    draft = evolve(None, event, now)
    order_id = await repo.insert(session, draft, customer_id=spec.customer_id, site_id=spec.site_id,
                                 zone=spec.zone, channel=spec.channel, created_by=actor.user_id, now=now)
    event = event.model_copy(update={"work_order_id": order_id})
    await _logged(uow, order_id, 1, [event], actor, now, now)
    uow.audit(actor, "work_order.created", "work_order", order_id, number=number, kind=kind,
              flags=event.flags, register_number=register)
    created = replace(draft, id=order_id)
    await react(uow, actor, created, [event])
    return created


async def get_visible(uow: UnitOfWork, actor: Principal, work_order_id: int, *,
                      to_change: bool = False) -> WorkOrder:
    """The order if this principal may see it; otherwise 404 (never reveal that it exists).
    ``to_change``: a command is about to run on it (its SLA deadlines are read along)."""
    order = await repo.get(uow.db, work_order_id, with_deadlines=to_change)
    if order is None or not can_see(order, actor):
        raise errors.NotFound("work-order-not-found", f"no work order {work_order_id}")
    return order


async def act(uow: UnitOfWork, actor: Principal, work_order_id: int, command: c.Command, *,
              occurred_at: datetime | None = None, expected_version: int | None = None,
              loaded: WorkOrder | None = None) -> WorkOrder:
    """Run one lifecycle command. ``occurred_at`` is the phone's time for field actions. ``loaded``:
    the order as ``get_visible`` returned it in this unit of work (saves reading it again; the save
    is guarded by its version all the same)."""
    now = uow.now()
    order = loaded if loaded is not None and loaded.id == work_order_id else \
        await get_visible(uow, actor, work_order_id, to_change=True)
    if expected_version is not None and expected_version != order.version:
        raise errors.PreconditionFailed("version-mismatch", "the work order changed since you read it",
                                        current_version=order.version)
    facts = await _facts(uow, actor, order, command)
    at = occurred_at or now
    events = decide(order, command, actor, at, facts)
    if not events:
        return order
    after = order
    for event in events:
        after = evolve(after, event, at)
    extra = {"last_agent_id": actor.user_id} if actor.role is Role.AGENT else {}
    await repo.save(uow.db, order, after, **extra)
    await _logged(uow, order.id, order.version + 1, events, actor, at, now)
    uow.audit(actor, f"work_order.{events[0].type}", "work_order", order.id, version=after.version,
              **({"occurred_at": occurred_at.isoformat()} if occurred_at else {}))
    await react(uow, actor, after, events)
    return await _after_effects(uow, actor, after, events)


async def _logged(uow: UnitOfWork, order_id: int, first_seq: int, events: list[ev.Event], actor: Principal,
                  occurred_at: datetime, recorded_at: datetime) -> None:
    """The events into the order's log and the outbox, each serialised once for both."""
    payloads = [event.model_dump(mode="json") for event in events]
    await repo.append_events(uow.db, order_id, first_seq, events, actor, occurred_at, recorded_at, payloads)
    for event, payload in zip(events, payloads, strict=True):
        uow.emit(event, payload)


async def _facts(uow: UnitOfWork, actor: Principal, order: WorkOrder, command: c.Command) -> Facts:
    hours = None
    if isinstance(command, c.Complete):
        equipment = await repo.equipment(uow.session, order.equipment_id)
        hours = equipment.running_hours if equipment else None
    if isinstance(command, c.Dispatch):
        await _check_dispatch_target(uow, command)
    return Facts(equipment_running_hours=hours, engineer_provider_id=actor.provider_id,
                 # Sampled installations owe their follow-up call too (an open follow-up task).
                 follow_up_required=order.kind in FOLLOW_UP_KINDS or (
                     isinstance(command, c.Close) and await follow_up_tasks.is_open(uow.session, order.id)))


async def _check_dispatch_target(uow: UnitOfWork, command: c.Dispatch) -> None:
    if command.engineer_id is not None:
        engineer = await repo.user(uow.session, command.engineer_id)
        if engineer is None or engineer.role != Role.ENGINEER or not engineer.active:
            raise errors.ValidationFailed("engineer-unknown", f"no active engineer {command.engineer_id}")
    if command.provider_id is not None and await uow.session.get(Provider, command.provider_id) is None:
        raise errors.ValidationFailed("provider-unknown", f"no provider {command.provider_id}")


async def _after_effects(uow: UnitOfWork, actor: Principal, order: WorkOrder,
                         events: list[ev.Event]) -> WorkOrder:
    for event in events:
        if isinstance(event, ev.WorkOrderCompleted):
            equipment = await repo.equipment(uow.session, order.equipment_id)
            if equipment is not None:
                equipment.running_hours = float(event.report["running_hours"])
                uow.session.add(equipment)
        if isinstance(event, ev.FollowUpRecorded) and event.reachable and event.resolved is False:
            order = await _open_second_dispatch(uow, actor, order, event.note)
    return order


async def _open_second_dispatch(uow: UnitOfWork, actor: Principal, parent: WorkOrder, note: str) -> WorkOrder:
    """Unresolved after follow-up: a new order linked to the first (二次派工)."""
    row = await repo.get_row(uow.session, parent.id)
    assert row is not None
    spec = NewWorkOrder(
        kind=parent.kind, subtype=parent.subtype, channel="internal", customer_id=row.customer_id,
        site_id=row.site_id, equipment_id=parent.equipment_id, region_id=parent.region_id, zone=row.zone,
        contact_name=parent.contact_name, contact_phone=parent.contact_phone, parent_id=parent.id,
        description=f"Second dispatch of {parent.number}: {note or parent.description}",
    )
    child = await create_work_order(uow, actor, spec)
    opened = ev.SecondDispatchOpened(work_order_id=parent.id, child_id=child.id, child_number=child.number)
    now = uow.now()
    after = evolve(parent, opened, now)
    await repo.save(uow.db, parent, after)
    await _logged(uow, parent.id, parent.version + 1, [opened], actor, now, now)
    await react(uow, actor, after, [opened])
    return after
