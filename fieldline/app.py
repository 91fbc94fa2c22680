"""The ASGI application: one process serving the console API, the mobile API, the WebSocket hub
and the pages. Resources are created in the lifespan and reached through ``app.state``."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from backend.clock import Clock, SystemClock
from backend.observability import Metrics
from backend.services import sla_alerts
from backend.settings import Settings
from backend.web import auth
from backend.web.errors import EXCEPTION_HANDLERS
from backend.web.middleware import BodyLimitMiddleware, RequestContextMiddleware
from fieldline.runtime import Runtime, open_runtime
from mobile_api.routes import routes as mobile_routes
from realtime import service as realtime_service
from realtime.telephony.ami import ami_service
from realtime.telephony.simulator import simulator_service
from supervisor_ui import console_api, pages, reports_api, sla_api, ui_api
from workers.embedded import sla_timers
from workers.push import embedded_push_service

log = logging.getLogger("fieldline")


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "alive"})


async def readyz(request: Request) -> Response:
    checks: dict[str, str] = {}
    try:
        async with request.app.state.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # readiness reports, it does not raise
        checks["database"] = f"unavailable: {type(exc).__name__}"
    redis = request.app.state.runtime.redis
    if redis is not None:
        try:
            await redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"unavailable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ready" if ready else "unavailable", "checks": checks},
                        status_code=200 if ready else 503)


async def metrics_endpoint(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


# Background services of the features (hub, timers, simulator...), one entry each. Each is called
# as ``service(app, runtime)`` and returns an async context manager; it reads its own settings.
ServiceFactory = Callable[[Starlette, Runtime], contextlib.AbstractAsyncContextManager[Any]]
SERVICES: tuple[ServiceFactory, ...] = (
    embedded_push_service,  # mobile: push delivery (embedded mode)
    functools.partial(realtime_service.hub_service, alerts=sla_alerts.open_alerts),  # live feed: the hub, with
    # the SLA engine's open breaches and deadlines about to breach on its `alerts` channel
    simulator_service,  # live feed: the call-center simulator (FIELDLINE_SIMULATOR)
    ami_service,  # live feed: the Asterisk AMI client (FIELDLINE_AMI_HOST)
    sla_timers,  # service rules: in-process timer loop (embedded) / arq enqueuer (scaled)
)


def feature_routes() -> list[BaseRoute]:
    """Every feature's routes, one line each."""
    return [
        Mount("/api/auth", routes=auth.routes),
        Mount("/api/console/v1/sla", routes=sla_api.routes),  # before the console mount, which owns its prefix
        Mount("/api/console/v1/reports", routes=reports_api.routes),
        Mount("/api/console/v1", routes=console_api.routes),
        Mount("/api/mobile/v1", routes=mobile_routes),
        Mount("/api/ui/v1", routes=ui_api.routes),
        *realtime_service.routes,  # live feed: /ws and /api/telephony/v1
        *pages.routes(),  # the HTML pages, their strings (/i18n) and /static
    ]


def create_app(settings: Settings, *, clock: Clock | None = None) -> Starlette:
    metrics = Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_runtime(settings, app.state.clock) as runtime, contextlib.AsyncExitStack() as stack:
            app.state.runtime = runtime
            app.state.engine = runtime.engine
            app.state.sessions = runtime.sessions
            app.state.uows = runtime.uows
            app.state.broker = runtime.broker
            # Feature services started with the app and stopped (in reverse order) with it:
            # each is an async context manager taking (app, runtime). One line per feature.
            for service in SERVICES:
                await stack.enter_async_context(service(app, runtime))
            log.info("fieldline started", extra={"mode": "scaled" if settings.scaled else "embedded"})
            yield
        log.info("fieldline stopped")

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
            *feature_routes(),
        ],
        middleware=[
            Middleware(RequestContextMiddleware, metrics=metrics),
            Middleware(BodyLimitMiddleware, max_bytes=settings.max_body_bytes),
        ],
        exception_handlers=EXCEPTION_HANDLERS,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.metrics = metrics
    app.state.clock = clock or SystemClock()
    return app
