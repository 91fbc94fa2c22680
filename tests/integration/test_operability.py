"""Health, readiness, metrics, request ids and JSON errors of the composed app."""

import asyncio

import pytest
from starlette.testclient import TestClient

from backend.persistence.db import create_engine
from backend.persistence.migrate import upgrade
from backend.settings import Settings
from fieldline.app import create_app


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The app starts on a migrated database (the features load their state at start-up)."""

    async def migrate() -> None:
        engine = create_engine(settings.database_url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(migrate())
    return settings


def test_health_ready_metrics(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        assert client.get("/healthz").json() == {"status": "alive"}
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"
        metrics = client.get("/metrics")
        assert metrics.status_code == 200
        assert "fieldline_http_requests_total" in metrics.text


def test_request_id_is_echoed_or_generated(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        echoed = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
        assert echoed.headers["x-request-id"] == "abc-123"
        generated = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"})
        assert generated.headers["x-request-id"] != "bad id with spaces"
        assert len(generated.headers["x-request-id"]) == 32


def test_unknown_route_is_a_json_404(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        response = client.get("/nope")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not-found"


def test_oversize_body_refused_before_reading(settings: Settings) -> None:
    with TestClient(create_app(settings)) as client:
        response = client.post("/healthz", content=b"x" * (settings.max_body_bytes + 1))
        assert response.status_code == 413
        assert response.json()["error"]["code"] == "payload-too-large"
