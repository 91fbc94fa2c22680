"""Engineers' actions from the phone: one lifecycle step with the phone's own time, position and
offline flag. A late or repeated action resolves against the order as it is now: applied, already
applied (a no-op success), or refused with a code that says why (``work-order-final``,
``work-order-taken``, ``work-order-reassigned``, ``report-signed``...). Never commits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backend import errors
from backend.domain.actors import Principal, Role
from backend.domain.mobile.actions import POSITIONED, Resolution, check_occurred_at, resolve
from backend.domain.mobile.geo import CheckIn, Position, check_in, queued_offline
from backend.domain.mobile.signature import report_unchanged
from backend.domain.work_orders import FINAL_STATES, WorkOrder
from backend.domain.work_orders import commands as c
from backend.persistence.repositories import mobile as mobile_repo
from backend.persistence.repositories import work_orders as repo
from backend.services import work_orders
from backend.services.uow import UnitOfWork
from backend.settings import Settings


@dataclass(frozen=True, slots=True)
class MobilePolicy:
    clock_skew_s: float = 300
    offline_after_s: float = 120
    radius_m: float = 300

    @classmethod
    def of(cls, settings: Settings) -> MobilePolicy:
        return cls(clock_skew_s=settings.mobile_clock_skew_s, offline_after_s=settings.mobile_offline_after_s,
                   radius_m=settings.mobile_checkin_radius_m)


@dataclass(frozen=True, slots=True)
class ActionRequest:
    name: str  # acknowledge | decline | contact | depart | arrive | hold | resume | complete
    command: c.Command | None  # None only for a complete that takes the signed report
    occurred_at: datetime | None = None
    queued_offline: bool = False
    position: Position | None = None
    idempotency_key: str | None = None
    client_seq: int | None = None
    expected_version: int | None = None


@dataclass(frozen=True, slots=True)
class ActionResult:
    order: WorkOrder
    outcome: Resolution
    check_in: CheckIn | None
    occurred_at: datetime
    received_at: datetime


async def perform(uow: UnitOfWork, policy: MobilePolicy, actor: Principal, work_order_id: int,
                  request: ActionRequest) -> ActionResult:
    if actor.role is not Role.ENGINEER or actor.user_id is None:
        raise errors.Forbidden("role-not-allowed", "only engineers act on work orders from the phone")
    now = uow.now()
    occurred = check_occurred_at(request.occurred_at, now, policy.clock_skew_s)
    try:
        order = await work_orders.get_visible(uow, actor, work_order_id, to_change=True)
        if request.expected_version is not None and request.expected_version != order.version:
            raise errors.PreconditionFailed("version-mismatch", "the work order changed since you read it",
                                            current_version=order.version)
        command = await _command(uow, order, request)
        outcome = resolve(order, request.name, command, actor)
        if outcome is Resolution.APPLY:
            order = await work_orders.act(uow, actor, order.id, command, occurred_at=occurred, loaded=order)
    except (errors.NotFound, errors.Conflict) as exc:
        await _explain(uow, actor, work_order_id, request.name, exc)
        raise
    checked = None
    offline = queued_offline(occurred, now, policy.offline_after_s, request.queued_offline)
    if request.name in POSITIONED:
        checked = check_in(request.position, await site_location(uow, order.id), policy.radius_m, offline=offline)
    pos = request.position
    mobile_repo.add_action(
        uow.db, work_order_id=order.id, user_id=actor.user_id, action=request.name, outcome=str(outcome),
        idempotency_key=request.idempotency_key, client_seq=request.client_seq, occurred_at=occurred,
        received_at=now, queued_offline=offline, latitude=pos.lat if pos else None,
        longitude=pos.lon if pos else None, accuracy_m=pos.accuracy_m if pos else None,
        distance_m=checked.distance_m if checked else None,
        checkin_status=str(checked.status) if checked else None, version_after=order.version)
    return ActionResult(order=order, outcome=outcome, check_in=checked, occurred_at=occurred, received_at=now)


async def site_location(uow: UnitOfWork, work_order_id: int) -> tuple[float, float] | None:
    return await mobile_repo.site_position(uow.db, work_order_id)


def _report_values(report_json: str) -> dict[str, Any]:
    """The stored (wire-form) report back into the values ``Complete`` validates."""
    report = json.loads(report_json)
    for name in ("arrival_time", "completion_time"):
        if isinstance(report.get(name), str):
            report[name] = datetime.fromisoformat(report[name])
    return report


async def _command(uow: UnitOfWork, order: WorkOrder, request: ActionRequest) -> c.Command:
    """The lifecycle command to run; after the customer signed, only a completion with the signed
    report remains possible (the report cannot change after signing)."""
    if request.name not in ("complete", "hold"):
        assert request.command is not None
        return request.command
    signature = await mobile_repo.signed_report(uow.db, order.id)
    if request.name == "hold":
        if signature is not None and order.state not in FINAL_STATES:
            raise errors.Conflict("report-signed", "the customer signed the report: complete the order")
        assert request.command is not None
        return request.command
    if signature is None:
        if request.command is None:
            raise errors.ValidationFailed("report-required", "complete with the report (or sign it first)",
                                          fields=[{"field": "report", "message": "required", "type": "missing"}])
        return request.command
    report_json, sha256 = signature
    if isinstance(request.command, c.Complete) and not report_unchanged(json.loads(report_json),
                                                                        _wire(request.command.report)):
        raise errors.Conflict("report-signed", "the report differs from the one the customer signed",
                              signature_sha256=sha256)
    return c.Complete(report=_report_values(report_json))


def _wire(report: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in report.items()}


async def _explain(uow: UnitOfWork, actor: Principal, work_order_id: int, name: str,
                   exc: errors.DomainError) -> None:
    """Turns a bare 404 or a lost race into the reason an offline phone needs, but only for an
    order this engineer knew (assigned to them once, or offered to their provider): others keep
    their 404 and learn nothing."""
    if not (isinstance(exc, errors.NotFound) or exc.code == "concurrent-update"):
        return
    current = await repo.get(uow.db, work_order_id)
    if current is None:
        return
    offered = current.provider_id is not None and current.provider_id == actor.provider_id
    if not offered and not await _was_assigned(uow, work_order_id, actor):
        return
    if current.state in FINAL_STATES:
        raise errors.Conflict("work-order-final", f"work order {current.number} is {current.state}",
                              state=current.state, action=name) from exc
    if current.engineer_id not in (None, actor.user_id):
        if name == "acknowledge" and offered:
            raise errors.Conflict("work-order-taken", "another engineer accepted this order first") from exc
        raise errors.Conflict("work-order-reassigned", "this order was given to another engineer",
                              action=name) from exc


async def _was_assigned(uow: UnitOfWork, work_order_id: int, actor: Principal) -> bool:
    for row in await repo.history(uow.session, work_order_id):
        if row.type in ("WorkOrderDispatched", "WorkOrderAcknowledged") and \
                row.payload.get("engineer_id") == actor.user_id:
            return True
    return False
