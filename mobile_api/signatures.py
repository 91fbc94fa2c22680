"""Signature, service report PDF and photo routes of the mobile API. Thin: parse, call one
service, render. Uploads carry an Idempotency-Key like every change."""

from __future__ import annotations

import base64
import binascii

from starlette.requests import Request
from starlette.responses import Response

from backend import errors
from backend.domain.actors import Principal, Role
from backend.domain.mobile.idempotency import StoredResponse
from backend.services import mobile_photos, signatures
from backend.services.mobile import MobilePolicy
from backend.services.uow import UnitOfWork
from backend.web.auth import require_principal
from mobile_api import idempotent
from mobile_api import responses as r
from mobile_api import schemas as s
from mobile_api.body import read_model
from mobile_api.render import dump
from mobile_api.work_orders import FIELD, json_text, path_id, position


def decode(data: str, field: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise errors.ValidationFailed(message=f"invalid fields: {field}", fields=[
            {"field": field, "message": "not valid base64", "type": "base64"}]) from None


def signature_out(view: signatures.SignatureView) -> r.SignatureOut:
    data = {k: v for k, v in vars(view).items() if k != "image_png"}
    png = base64.b64encode(view.image_png).decode() if view.image_png is not None else None
    return r.SignatureOut(**data, image_png_base64=png)


@idempotent.mutating(Role.ENGINEER)
async def sign(request: Request, principal: Principal) -> Response:
    key = idempotent.request_key(request)
    body = await read_model(request, s.SignatureIn)
    order_id = path_id(request)
    image = decode(body.image_png_base64, "image_png_base64") if body.image_png_base64 is not None else None
    given = signatures.SignatureInput(
        signer_name=body.signer_name, signer_role=body.signer_role, signed_at=body.signed_at,
        report=body.report.model_dump(), strokes=[[p.model_dump() for p in st] for st in body.strokes]
        if body.strokes else None, image_png=image, position=position(body.position),
        queued_offline=body.queued_offline)
    policy = MobilePolicy.of(request.app.state.settings)

    async def perform(uow: UnitOfWork) -> StoredResponse:
        view = await signatures.sign(uow, policy, principal, order_id, given)
        return idempotent.ok(signature_out(view), status=201)

    fp = idempotent.body_fingerprint(request.method, request.url.path, body)
    stored, replayed = await idempotent.run(request, principal, key, fp, perform)
    return idempotent.respond(stored, replayed)


async def get_signature(request: Request) -> Response:
    principal = await require_principal(request, *FIELD)
    async with request.app.state.uows() as uow:
        view = await signatures.get_signature(uow, principal, path_id(request))
    return json_text(dump(signature_out(view)))


async def verify_signature(request: Request) -> Response:
    principal = await require_principal(request, *FIELD)
    async with request.app.state.uows() as uow:
        result = await signatures.verify(uow, principal, path_id(request))
    return json_text(dump(result))


async def service_report(request: Request) -> Response:
    principal = await require_principal(request, *FIELD)
    settings = request.app.state.settings
    async with request.app.state.uows() as uow:
        name, pdf = await signatures.service_report_pdf(uow, principal, path_id(request), settings.tz,
                                                        settings.pdf_font_file)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})


@idempotent.mutating(Role.ENGINEER)
async def add_photo(request: Request, principal: Principal) -> Response:
    key = idempotent.request_key(request)
    body = await read_model(request, s.PhotoIn)
    order_id = path_id(request)
    data = decode(body.data_base64, "data_base64")

    async def perform(uow: UnitOfWork) -> StoredResponse:
        view = await mobile_photos.attach(uow, principal, order_id, body.content_type, data, body.caption,
                                          body.taken_at)
        return idempotent.ok(view, status=201)

    fp = idempotent.body_fingerprint(request.method, request.url.path, body)
    stored, replayed = await idempotent.run(request, principal, key, fp, perform)
    return idempotent.respond(stored, replayed)


async def list_photos(request: Request) -> Response:
    principal = await require_principal(request, *FIELD)
    async with request.app.state.uows() as uow:
        items = await mobile_photos.list_photos(uow, principal, path_id(request))
    return json_text(dump({"items": items}))


async def get_photo(request: Request) -> Response:
    principal = await require_principal(request, *FIELD)
    async with request.app.state.uows() as uow:
        content_type, data = await mobile_photos.photo_bytes(uow, principal, path_id(request),
                                                             path_id(request, "photo_id"))
    return Response(data, media_type=content_type, headers={"Cache-Control": "private, max-age=86400"})
