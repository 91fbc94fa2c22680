"""The customer's signature on the service report, and the report itself. The customer signs on
site, before completion (DOMAIN.md: "the customer signs the service report, then the engineer
reports completion"); from then on the report is frozen: completion uses the signed report, a hold
or a different report is refused, and ``verify`` recomputes the hash. ``service_report_pdf`` renders
the PDF for the engineer, the manager and the console (call it from a console route). Never commits."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from backend import errors
from backend.domain.actors import Principal, Role
from backend.domain.mobile import signature as sig
from backend.domain.mobile.actions import check_occurred_at
from backend.domain.mobile.geo import Position, check_in, queued_offline
from backend.domain.mobile.idempotency import canonical_json
from backend.domain.work_orders import FINAL_STATES, Facts, State, WorkOrder, decide
from backend.domain.work_orders import commands as c
from backend.events import ServiceReportSigned
from backend.persistence.repositories import mobile as mobile_repo
from backend.persistence.repositories import work_orders as repo
from backend.persistence.tables_mobile import WorkOrderSignature
from backend.services import mobile_views
from backend.services.mobile import MobilePolicy, site_location
from backend.services.mobile_pdf import ReportData, render
from backend.services.uow import UnitOfWork
from backend.services.work_orders import get_visible


@dataclass(frozen=True, slots=True)
class SignatureInput:
    signer_name: str
    signed_at: datetime
    report: dict[str, Any]  # as Complete takes it (timestamps as datetimes)
    strokes: list[list[dict[str, float]]] | None = None
    image_png: bytes | None = None
    signer_role: str = "customer"
    position: Position | None = None
    queued_offline: bool = False


@dataclass(frozen=True)
class SignatureView:
    id: int
    work_order_id: int
    engineer_id: int
    signer_name: str
    signer_role: str
    signed_at: datetime
    received_at: datetime
    report: dict[str, Any]
    report_version: int
    strokes: list[list[dict[str, float]]] | None
    image_png: bytes | None
    image_width: int | None
    image_height: int | None
    image_sha256: str | None
    strokes_sha256: str | None
    latitude: float | None
    longitude: float | None
    accuracy_m: float | None
    distance_m: float | None
    checkin_status: str | None
    sha256: str
    hash_version: int


@dataclass(frozen=True)
class Verification:
    valid: bool
    stored_sha256: str
    computed_sha256: str
    report_matches_order: bool


async def sign(uow: UnitOfWork, policy: MobilePolicy, actor: Principal, work_order_id: int,
               given: SignatureInput) -> SignatureView:
    if actor.role is not Role.ENGINEER or actor.user_id is None:
        raise errors.Forbidden("role-not-allowed", "the engineer on site collects the signature")
    now = uow.now()
    signed_at = check_occurred_at(given.signed_at, now, policy.clock_skew_s)
    order = await get_visible(uow, actor, work_order_id)
    if order.state in FINAL_STATES:
        raise errors.Conflict("work-order-final", f"work order {order.number} is {order.state}", state=order.state)
    if order.engineer_id != actor.user_id:
        raise errors.Forbidden("not-assigned-engineer", "only the assigned engineer acts on this order")
    existing = await mobile_repo.signature(uow.session, order.id)
    if existing is not None:
        raise errors.Conflict("already-signed", "the customer has already signed this report",
                              sha256=existing.sha256)
    if order.state != State.ON_SITE:
        raise errors.Conflict("signature-not-allowed", "the customer signs on site, before completion",
                              state=order.state)
    png = sig.inspect_png(given.image_png) if given.image_png is not None else None
    if given.strokes:
        sig.check_strokes(given.strokes)
    report = await _signable_report(uow, actor, order, given.report, signed_at)
    offline = queued_offline(signed_at, now, policy.offline_after_s, given.queued_offline)
    checked = check_in(given.position, await site_location(uow, order.id), policy.radius_m, offline=offline)
    strokes_json = sig.strokes_text(given.strokes)
    document = sig.SignedDocument(
        work_order_id=order.id, work_order_number=order.number, report=report, signer_name=given.signer_name,
        signer_role=given.signer_role, engineer_id=actor.user_id, signed_at=signed_at, received_at=now,
        strokes_sha256=sig.sha256_text(strokes_json), image_sha256=png.sha256 if png else None,
        position=given.position)
    pos = given.position
    row = WorkOrderSignature(
        work_order_id=order.id, engineer_id=actor.user_id, signer_name=given.signer_name,
        signer_role=given.signer_role, signed_at=signed_at, received_at=now, report_json=canonical_json(report),
        report_version=order.version, strokes_json=strokes_json, strokes_sha256=document.strokes_sha256,
        image=given.image_png, image_sha256=document.image_sha256, image_width=png.width if png else None,
        image_height=png.height if png else None, latitude=pos.lat if pos else None,
        longitude=pos.lon if pos else None, accuracy_m=pos.accuracy_m if pos else None,
        distance_m=checked.distance_m, checkin_status=str(checked.status), hash_version=sig.HASH_VERSION,
        sha256=document.sha256())
    try:
        async with uow.session.begin_nested():
            await mobile_repo.add_signature(uow.session, row)
    except IntegrityError:  # a concurrent signature (another key) won the unique constraint
        raise errors.Conflict("already-signed", "the customer has already signed this report") from None
    assert row.id is not None
    uow.emit(ServiceReportSigned(work_order_id=order.id, signature_id=row.id, engineer_id=actor.user_id,
                                 signer_name=given.signer_name, signed_at=signed_at, sha256=row.sha256,
                                 checkin_status=row.checkin_status))
    uow.audit(actor, "work_order.signed", "work_order", order.id, sha256=row.sha256, signature_id=row.id)
    return view_of(row)


async def _signable_report(uow: UnitOfWork, actor: Principal, order: WorkOrder, report: dict[str, Any],
                           at: datetime) -> dict[str, Any]:
    """The customer signs exactly what completion will accept: run the completion rules on the
    report (nothing is written) and keep their normalised form."""
    equipment = await repo.equipment(uow.session, order.equipment_id)
    facts = Facts(equipment_running_hours=equipment.running_hours if equipment else None,
                  engineer_provider_id=actor.provider_id)
    [completed] = decide(order, c.Complete(report=report), actor, at, facts)
    return dict(completed.report)  # type: ignore[attr-defined]


def view_of(row: WorkOrderSignature) -> SignatureView:
    return SignatureView(
        id=row.id or 0, work_order_id=row.work_order_id, engineer_id=row.engineer_id, signer_name=row.signer_name,
        signer_role=row.signer_role, signed_at=row.signed_at, received_at=row.received_at,
        report=json.loads(row.report_json), report_version=row.report_version,
        strokes=json.loads(row.strokes_json) if row.strokes_json else None, image_png=row.image,
        image_width=row.image_width, image_height=row.image_height, image_sha256=row.image_sha256,
        strokes_sha256=row.strokes_sha256, latitude=row.latitude, longitude=row.longitude,
        accuracy_m=row.accuracy_m, distance_m=row.distance_m, checkin_status=row.checkin_status,
        sha256=row.sha256, hash_version=row.hash_version)


async def _load(uow: UnitOfWork, actor: Principal, work_order_id: int) -> tuple[WorkOrder, WorkOrderSignature]:
    order = await get_visible(uow, actor, work_order_id)
    row = await mobile_repo.signature(uow.session, order.id)
    if row is None:
        raise errors.NotFound("signature-not-found", f"work order {order.number} has no signature")
    return order, row


async def get_signature(uow: UnitOfWork, actor: Principal, work_order_id: int) -> SignatureView:
    return view_of((await _load(uow, actor, work_order_id))[1])


def recompute(order: WorkOrder, row: WorkOrderSignature) -> str:
    """The hash of what is stored now: the report text, the strokes text, the image bytes."""
    position = (Position(row.latitude, row.longitude, row.accuracy_m)
                if row.latitude is not None and row.longitude is not None else None)
    return sig.SignedDocument(
        work_order_id=order.id, work_order_number=order.number, report=json.loads(row.report_json),
        signer_name=row.signer_name, signer_role=row.signer_role, engineer_id=row.engineer_id,
        signed_at=row.signed_at, received_at=row.received_at, strokes_sha256=sig.sha256_text(row.strokes_json),
        image_sha256=sig.sha256_bytes(row.image), position=position).sha256()


async def verify(uow: UnitOfWork, actor: Principal, work_order_id: int) -> Verification:
    order, row = await _load(uow, actor, work_order_id)
    computed = recompute(order, row)
    matches = sig.report_unchanged(json.loads(row.report_json), order.report)
    return Verification(valid=computed == row.sha256 and matches, stored_sha256=row.sha256,
                        computed_sha256=computed, report_matches_order=matches)


async def service_report_pdf(uow: UnitOfWork, actor: Principal, work_order_id: int, tz: tzinfo,
                             font: Path | None = None) -> tuple[str, bytes]:
    """(file name, PDF bytes) of the service report of an order the actor may see. The console's
    route should call this too (console roles see every order)."""
    detail = await mobile_views.detail(uow, actor, work_order_id)
    wo = detail.work_order
    row = await mobile_repo.signature(uow.session, wo.id)
    engineer = await repo.user(uow.session, wo.engineer_id)
    site = detail.site
    data = ReportData(
        number=wo.number, kind=wo.kind, state=wo.state,
        customer=f"{detail.customer.name} ({detail.customer.phone})" if detail.customer else "",
        site=f"{site.name}, {site.address}".strip(", ") if site else "",
        equipment=f"{detail.equipment.model} #{detail.equipment.serial_number}" if detail.equipment else "",
        engineer=engineer.display_name if engineer else "",
        times=[("Dispatched", wo.dispatched_at), ("Acknowledged", wo.acknowledged_at), ("Arrived", wo.arrived_at),
               ("Completed", wo.completed_at)],
        report=wo.report or (json.loads(row.report_json) if row else None),
        signer=row.signer_name if row else None, signed_at=row.signed_at if row else None,
        signature_png=row.image if row else None,
        strokes=json.loads(row.strokes_json) if row and row.strokes_json else None,
        signature_sha256=row.sha256 if row else None, checkin_status=row.checkin_status if row else None,
        history=[(h.seq, h.occurred_at, h.type, h.actor_role) for h in detail.history],
    )
    return f"service-report-{wo.number}.pdf", render(data, tz, font)
