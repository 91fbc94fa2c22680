"""The ASGI application: one process serving the console API, the mobile API, the WebSocket hub
and the pages. Resources are created in the lifespan and reached through ``app.state``."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from backend.clock import Clock, SystemClock
from backend.observability import Metrics
from backend.persistence.db import create_engine, session_factory
from backend.services.uow import UnitOfWorkFactory
from backend.settings import Settings
from backend.web.errors import EXCEPTION_HANDLERS
from backend.web.middleware import BodyLimitMiddleware, RequestContextMiddleware

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
    ready = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ready" if ready else "unavailable", "checks": checks},
                        status_code=200 if ready else 503)


async def metrics_endpoint(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


def create_app(settings: Settings, *, clock: Clock | None = None) -> Starlette:
    metrics = Metrics()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        engine = create_engine(settings.database_url)
        app.state.engine = engine
        app.state.sessions = session_factory(engine)
        app.state.uows = UnitOfWorkFactory(app.state.sessions, app.state.clock)
        log.info("fieldline started", extra={"mode": "scaled" if settings.scaled else "embedded"})
        try:
            yield
        finally:
            await engine.dispose()
            log.info("fieldline stopped")

    app = Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics_endpoint),
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
