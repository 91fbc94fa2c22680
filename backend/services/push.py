"""Push notifications: ``enqueue_push`` writes one row per (notification, active device) in the
transaction of the change that causes it (the outbox of delivery; SLA timers call it for
escalations), the work-order reaction queues dispatch, reassignment, cancellation and urge pushes
and schedules appointment reminders (rows not due before their time, re-checked when due), and
``claim``/``record`` let a sender deliver each row at most once. Never commits: the worker loop
owns its units of work."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from backend.domain.actors import Principal, Role
from backend.domain.mobile import push as rules
from backend.domain.mobile.deadlines import acknowledge_ttl_s, deadlines
from backend.domain.mobile.push import Outcome, PushKind, PushMessage, PushState, SendResult
from backend.domain.work_orders import WorkOrder
from backend.events import (
    CustomerContacted,
    Event,
    WorkOrderAcknowledged,
    WorkOrderCancelled,
    WorkOrderDispatched,
    WorkOrderEdited,
    WorkOrderUrged,
)
from backend.persistence.repositories import push as repo
from backend.persistence.tables_mobile import PushNotification
from backend.services.uow import UnitOfWork


async def enqueue_push(uow: UnitOfWork, user_id: int, kind: PushKind | str, work_order: WorkOrder, *,
                       extra: dict[str, str] | None = None) -> int:
    """Queues one push about ``work_order`` to every active device of ``user_id`` (or one
    ``no_device`` row, so the push is still on record). Returns how many rows it queued: they are
    written with the transaction's other new rows as it commits (``persistence.appends``)."""
    return await enqueue_many(uow, [user_id], PushKind(kind), work_order, extra=extra)


async def enqueue_many(uow: UnitOfWork, user_ids: list[int], kind: PushKind, order: WorkOrder, *,
                       extra: dict[str, str] | None = None, due: datetime | None = None,
                       ttl_s: int | None = None) -> int:
    """As ``enqueue_push`` for several users; ``due``: not claimable before then (default now)."""
    now = uow.now()
    dispatch = kind is PushKind.DISPATCH
    ack_deadline = deadlines(order, None).acknowledge_by if dispatch else None
    ttl = acknowledge_ttl_s(order, now, rules.MIN_TTL_S) if dispatch else ttl_s or rules.DEFAULT_TTL_S
    devices = await repo.active_devices(uow.db, sorted(set(user_ids)))
    queued = 0
    for user_id in sorted(set(user_ids)):
        key = str(uuid.uuid4())
        body = rules.content(kind, work_order_id=order.id, number=order.number, state=str(order.state),
                             description=order.description, ttl_s=ttl, extra={**(extra or {}), "notification_key": key})
        targets = [d for d in devices if d.user_id == user_id]
        common = dict(notification_key=key, user_id=user_id, kind=str(kind), work_order_id=order.id,
                      title=body.title, body=body.body, data=body.data,
                      collapse_key=body.collapse_key, ttl_s=ttl, high_priority=body.high_priority,
                      ack_deadline=ack_deadline, created_at=now)
        if not targets:
            repo.queue(uow.db, **common, state=str(PushState.NO_DEVICE))
        for device in targets:
            repo.queue(uow.db, **common, device_id=device.id, token=device.token, state=str(PushState.PENDING),
                       next_attempt_at=due or now)
        queued += max(1, len(targets))
    return queued


async def push_reaction(uow: UnitOfWork, actor: Principal, order: WorkOrder, events: list[Event]) -> None:
    """Pushes caused by work-order events, written in the same transaction as the events."""
    for event in events:
        match event:
            case WorkOrderDispatched(engineer_id=engineer, provider_id=provider, previous_engineer_id=previous):
                targets = [engineer] if engineer is not None else await repo.users_in(
                    uow.session, provider_id=provider, role=Role.ENGINEER) if provider is not None else []
                managers = await repo.users_in(uow.session, region_id=order.region_id, role=Role.SERVICE_MANAGER) \
                    if order.region_id is not None else []
                await enqueue_many(uow, [*targets, *managers], PushKind.DISPATCH, order)
                if previous is not None and previous != engineer:
                    await enqueue_many(uow, [previous], PushKind.REASSIGNED, order)
            case WorkOrderCancelled():
                await enqueue_many(uow, await _people_on(uow, order), PushKind.CANCELLED, order)
            case WorkOrderUrged():
                await enqueue_many(uow, await _people_on(uow, order), PushKind.URGE, order)
    if any(_touches_appointment(e, order) for e in events):
        await schedule_reminder(uow, order)


def _touches_appointment(event: Event, order: WorkOrder) -> bool:
    """Events after which the reminder may be due elsewhere: the appointment was set or moved, or
    the order (with an appointment) went to an engineer."""
    match event:
        case CustomerContacted():
            return True
        case WorkOrderEdited(changes=changes):
            return "appointment_at" in changes
        case WorkOrderDispatched() | WorkOrderAcknowledged():
            return order.appointment_at is not None
    return False


async def schedule_reminder(uow: UnitOfWork, order: WorkOrder) -> int:
    """One reminder per order, for its latest appointment and assigned engineer, ``REMINDER_LEAD``
    before the visit (none when the visit is sooner); a pending reminder for anything else is
    dropped as ``obsolete`` in this transaction. Idempotent: an unchanged reminder is kept."""
    appointment, engineer = order.appointment_at, order.engineer_id
    due = rules.reminder_at(appointment, uow.now()) if appointment is not None else None
    wanted = None
    if due is not None and appointment is not None and engineer is not None \
            and str(order.state) in rules.APPOINTMENT_STATES:
        wanted = (engineer, appointment.astimezone(UTC).isoformat())
    kept = False
    superseded = []
    for row in await repo.scheduled(uow.db, order.id, PushKind.APPOINTMENT_REMINDER):
        if wanted is not None and (row.user_id, row.data.get("appointment_at")) == wanted:
            kept = True
        elif row.state == PushState.PENDING:
            superseded.append(row.id)
    for row_id in superseded:
        await repo.supersede(uow.db, row_id)
    if wanted is None or kept or due is None or appointment is None:
        return 0
    return await enqueue_many(uow, [wanted[0]], PushKind.APPOINTMENT_REMINDER, order, due=due,
                              ttl_s=int((appointment - due).total_seconds()),
                              extra={"appointment_at": wanted[1]})


async def _people_on(uow: UnitOfWork, order: WorkOrder) -> list[int]:
    if order.engineer_id is not None:
        return [order.engineer_id]
    if order.provider_id is not None:
        return await repo.users_in(uow.session, provider_id=order.provider_id, role=Role.ENGINEER)
    return []


# --- delivery ---------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    claimed: int = 0
    sent: int = 0
    retried: int = 0
    invalid_tokens: int = 0
    failed: int = 0
    expired: int = 0
    outcomes: dict[int, str] = field(default_factory=dict)


async def claim(uow: UnitOfWork, limit: int = 500) -> list[PushMessage]:
    """Due rows become ``sending`` (committed by the caller BEFORE the send): a row is handed to
    one sender once per attempt, so no (notification, token) is ever sent twice."""
    now = uow.now()
    messages: list[PushMessage] = []
    rows = await repo.claim_due(uow.session, now, limit)
    orders = await repo.appointments(uow.session, [r.work_order_id for r in rows if _reminder_for(r) is not None
                                                   and r.work_order_id is not None])
    for row in rows:
        age = (now - row.created_at).total_seconds()
        expires = row.ack_deadline
        if (appointment := _reminder_for(row)) is not None:  # a reminder lives until its appointment
            expires = appointment
            state, engineer, current = orders.get(row.work_order_id or 0, ("", None, None))
            if now >= appointment:
                row.state, row.last_error = PushState.EXPIRED, "the appointment has passed"
                continue
            if not rules.reminder_stands(state=state, engineer_id=engineer, appointment_at=current,
                                         user_id=row.user_id, reminder_for=appointment, now=now):
                row.state, row.last_error = PushState.OBSOLETE, "the appointment no longer stands"
                continue
        elif age > rules.EXPIRE_AFTER_S:
            row.state, row.last_error = PushState.EXPIRED, "not sent within a day"
            continue
        assert row.id is not None and row.token is not None
        row.state, row.claimed_at, row.attempts = PushState.SENDING, now, row.attempts + 1
        ack_left = (expires - now).total_seconds() if expires else None
        messages.append(PushMessage(
            notification_id=row.id, token=row.token, title=row.title, body=row.body,
            data={k: str(v) for k, v in row.data.items()}, collapse_key=row.collapse_key,
            ttl_s=rules.ttl_at_send(created_age_s=age, ttl_s=row.ttl_s, ack_left_s=ack_left),
            high_priority=row.high_priority))
    await uow.session.flush()
    return messages


def _reminder_for(row: PushNotification) -> datetime | None:
    """The appointment an appointment-reminder row is about (None for other kinds)."""
    if row.kind != PushKind.APPOINTMENT_REMINDER or not row.data.get("appointment_at"):
        return None
    return datetime.fromisoformat(str(row.data["appointment_at"]))


async def record(uow: UnitOfWork, results: list[SendResult], *, max_attempts: int,
                 jitter: Callable[[], float] = lambda: 0.0) -> DeliveryReport:
    """What FCM said, per row: sent; token gone (device deactivated); retry later with backoff
    (never before Retry-After); or failed for good."""
    now, report = uow.now(), DeliveryReport(claimed=len(results))
    rows = {r.id: r for r in await repo.by_ids(uow.session, [x.notification_id for x in results])}
    for result in results:
        row = rows[result.notification_id]
        report.outcomes[result.notification_id] = str(result.outcome)
        row.last_error = result.error_code
        if result.outcome is Outcome.SENT:
            row.state, row.sent_at, row.message_id = PushState.SENT, now, result.message_id
            report.sent += 1
        elif result.outcome is Outcome.INVALID_TOKEN:
            row.state = PushState.TOKEN_INVALID
            if row.device_id is not None:
                await repo.deactivate_device(uow.session, row.device_id, result.error_code or "invalid", now)
            report.invalid_tokens += 1
        elif result.outcome is Outcome.RETRY and row.attempts < max_attempts:
            delay = rules.retry_delay_s(row.attempts, result.retry_after_s, jitter())
            row.state, row.next_attempt_at = PushState.PENDING, now + timedelta(seconds=delay)
            report.retried += 1
        else:
            row.state = PushState.FAILED
            report.failed += 1
    await uow.session.flush()
    return report


async def abandon_stale(uow: UnitOfWork, older_than: timedelta = timedelta(minutes=10)) -> int:
    return await repo.abandon_stale_sends(uow.session, uow.now() - older_than)

