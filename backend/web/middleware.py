"""Pure ASGI middleware: request id + access log + metrics, and a body size cap."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.observability import Metrics, request_id_var
from backend.web.errors import error_response

access_log = logging.getLogger("fieldline.access")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContextMiddleware:
    """Gives every request an id (``X-Request-ID``, taken from the client if well-formed),
    logs one access line with the path only (never the query string, which may carry a token),
    and records Prometheus metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        incoming = headers.get(b"x-request-id", b"").decode("latin-1")
        rid = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
        token = request_id_var.set(rid)
        status = {"code": 0}
        started = time.perf_counter()

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            # A WebSocket's frames go straight to the server's send (no wrapper coroutine per frame):
            # only HTTP responses get the request id header.
            await self.app(scope, receive, send_wrapper if scope["type"] == "http" else send)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_name(scope)
            if scope["type"] == "http":
                self.metrics.http_requests.labels(scope["method"], route, str(status["code"])).inc()
                self.metrics.http_latency.labels(scope["method"], route).observe(elapsed)
            access_log.info(
                "%s %s %s %.1fms", scope.get("method", "WS"), scope["path"], status["code"], elapsed * 1000,
                extra={
                    "method": scope.get("method", "WS"),
                    "path": scope["path"],
                    "status": status["code"],
                    "duration_ms": round(elapsed * 1000, 2),
                },
            )
            request_id_var.reset(token)


def _route_name(scope: Scope) -> str:
    route: Any = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


class BodyLimitMiddleware:
    """Refuses a body whose declared length exceeds the cap before reading it (413)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope.get("headers") or []:
                if name == b"content-length" and value.isdigit() and int(value) > self.max_bytes:
                    response = error_response(
                        413, "payload-too-large", f"body larger than {self.max_bytes} bytes",
                        {"limit": self.max_bytes},
                    )
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)
