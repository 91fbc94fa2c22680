from datetime import time

import pytest
from pydantic import ValidationError

from backend.settings import Settings


def test_defaults_are_embedded_development() -> None:
    s = Settings(_env_file=None)
    assert s.environment == "development"
    assert s.scaled is False
    assert s.database_url.startswith("sqlite+aiosqlite:///")
    assert s.timezone == "Asia/Shanghai"
    assert s.business_open == time(8, 30) and s.business_close == time(17, 0)


def test_environment_variables_use_one_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIELDLINE_REDIS_URL", "redis://127.0.0.1:6379/0")
    monkeypatch.setenv("FIELDLINE_PORT", "9001")
    s = Settings()
    assert s.scaled is True and s.port == 9001


def test_production_refuses_default_secrets() -> None:
    with pytest.raises(ValidationError, match="SECRET_KEY"):
        Settings(environment="production", allowed_origins=["https://c.example"])


def test_production_accepts_real_secrets() -> None:
    s = Settings(environment="production", secret_key="x" * 40, webhook_secret="y" * 40,
                 allowed_origins=["https://console.example"])
    assert s.environment == "production"


def test_unknown_time_zone_refused() -> None:
    with pytest.raises(ValidationError):
        Settings(timezone="Mars/Olympus")


def test_access_tokens_are_short_lived() -> None:
    with pytest.raises(ValidationError):
        Settings(access_token_ttl_s=3600)
