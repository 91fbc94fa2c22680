"""The route table of /api/mobile/v1: each operation once, with what the OpenAPI document says
about it (``openapi.py`` builds the document from this same table, so nothing served is
undescribed)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from backend.services.devices import DeviceView
from backend.services.mobile_photos import PhotoView
from backend.services.mobile_views import OrderDetail
from backend.services.signatures import Verification
from mobile_api import batch, devices, signatures, work_orders
from mobile_api import responses as r
from mobile_api import schemas as s
from mobile_api.openapi import document
from mobile_api.render import dump

ENGINEER, FIELD = "engineer", "engineer, service_manager"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str  # OpenAPI form: /work-orders/{id}
    endpoint: Callable[[Request], Any]
    summary: str
    roles: str
    ok: Any = None  # the success response's schema (a model, a dataclass) or a media type
    ok_status: int = 200
    body: type | None = None
    query: type | None = None
    idempotent: bool = False  # Idempotency-Key required
    if_match: bool = False
    conditional_get: bool = False  # ETag / If-None-Match -> 304
    tags: list[str] = field(default_factory=list)

    @property
    def operation_id(self) -> str:
        return self.endpoint.__name__.replace("_", "-")


WO = "/work-orders/{id}"
OPERATIONS: list[Operation] = [
    Operation("GET", "/work-orders", work_orders.list_work_orders, "My work orders (active or history)", FIELD,
              r.WorkOrderListOut, query=s.ListQuery, conditional_get=True, tags=["work orders"]),
    Operation("GET", WO, work_orders.get_work_order, "One work order with customer, site, equipment, history, "
              "deadlines and the actions allowed now", FIELD, OrderDetail, conditional_get=True,
              tags=["work orders"]),
    Operation("GET", WO + "/check-ins", work_orders.list_check_ins, "The mobile action log: device and server "
              "times, positions, check-in statuses", FIELD, r.CheckInListOut, tags=["work orders"]),
    *[Operation("POST", f"{WO}/{name}", work_orders.action_route(name), f"Action: {name}", ENGINEER, r.ActionOut,
                body=schema, idempotent=True, if_match=True, tags=["actions"])
      for name, schema in s.ACTION_SCHEMAS.items()],
    Operation("POST", "/actions/batch", batch.run_batch, "Replay a queue of actions; answered per item",
              ENGINEER, r.BatchOut, body=s.BatchIn, tags=["actions"]),
    Operation("POST", WO + "/signature", signatures.sign, "The customer signs the service report (on site, "
              "before completion)", ENGINEER, r.SignatureOut, ok_status=201, body=s.SignatureIn, idempotent=True,
              tags=["signature"]),
    Operation("GET", WO + "/signature", signatures.get_signature, "The signature and what it signed", FIELD,
              r.SignatureOut, tags=["signature"]),
    Operation("GET", WO + "/signature/verify", signatures.verify_signature, "Recompute the signature's hash",
              FIELD, Verification, tags=["signature"]),
    Operation("GET", WO + "/service-report.pdf", signatures.service_report, "The service report as PDF", FIELD,
              "application/pdf", tags=["signature"]),
    Operation("POST", WO + "/photos", signatures.add_photo, "Attach a photo (JPEG or PNG, <= 512 KiB)",
              ENGINEER, PhotoView,
              ok_status=201, body=s.PhotoIn, idempotent=True, tags=["photos"]),
    Operation("GET", WO + "/photos", signatures.list_photos, "The order's photos", FIELD, r.PhotoListOut,
              tags=["photos"]),
    Operation("GET", WO + "/photos/{photo_id}", signatures.get_photo, "One photo's bytes", FIELD, "image/*",
              tags=["photos"]),
    Operation("GET", WO + "/notifications", devices.order_notifications, "Pushes about this order", FIELD,
              r.NotificationListOut, query=s.PageQuery, tags=["push"]),
    Operation("GET", "/notifications", devices.my_notifications, "My pushes", FIELD, r.NotificationListOut,
              query=s.PageQuery, tags=["push"]),
    Operation("GET", "/devices", devices.list_devices, "My devices", FIELD, r.DeviceListOut, tags=["devices"]),
    Operation("POST", "/devices", devices.register_device, "Register a push token", FIELD,
              DeviceView,
              ok_status=201, body=s.DeviceIn, idempotent=True, tags=["devices"]),
    Operation("PUT", "/devices/{device_id}", devices.refresh_device, "Refresh a device (new token, app "
              "version, last seen)", FIELD, DeviceView, body=s.DeviceUpdateIn, idempotent=True, tags=["devices"]),
    Operation("DELETE", "/devices/{device_id}", devices.remove_device, "Remove a device (no more pushes)", FIELD,
              DeviceView,
              idempotent=True, tags=["devices"]),
]


def _starlette_path(path: str) -> str:
    return path.replace("{id}", "{id:int}").replace("{photo_id}", "{photo_id:int}").replace(
        "{device_id}", "{device_id:int}")


async def openapi_json(request: Request) -> Response:
    prefix = request.scope.get("root_path", "")
    return Response(dump(document(OPERATIONS, prefix)), media_type="application/json")


routes = [
    Route("/openapi.json", openapi_json, methods=["GET"]),
    *[Route(_starlette_path(op.path), op.endpoint, methods=[op.method], name=f"mobile-{op.operation_id}")
      for op in OPERATIONS],
]
