"""The one typed settings object. Only this module knows environment variable names
(prefix ``FIELDLINE_``); everything else receives a ``Settings`` built once at start-up."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from backend.domain.calendar import BusinessCalendar

DEV_SECRET = "dev-only-secret-do-not-use-in-production-0123456789"
DEV_WEBHOOK_SECRET = "dev-only-webhook-secret"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FIELDLINE_", extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str = ""  # how browsers reach us; defaults to http://host:port

    database_url: str = "sqlite+aiosqlite:///var/fieldline.db"
    # PostgreSQL connections each process keeps (and up to half as many more in a burst): size it
    # to a process's concurrent requests; every process's total must stay under max_connections.
    database_pool_size: int = Field(default=20, ge=1, le=500)
    redis_url: str | None = None  # unset = embedded mode (in-process broker and timers)

    secret_key: SecretStr = SecretStr(DEV_SECRET)
    webhook_secret: SecretStr = SecretStr(DEV_WEBHOOK_SECRET)
    jwt_issuer: str = "fieldline"
    jwt_audience: str = "fieldline-api"
    access_token_ttl_s: int = Field(default=900, ge=30, le=900)
    refresh_token_ttl_s: int = Field(default=14 * 24 * 3600, ge=300)
    login_failures_per_minute: int = Field(default=10, ge=1)

    timezone: str = "Asia/Shanghai"
    business_open: time = time(8, 30)
    business_close: time = time(17, 0)
    late_report_cutoff: time = time(16, 0)
    holidays: list[date] = Field(default_factory=list)

    allowed_origins: list[str] = Field(default_factory=list)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)

    demo_data: bool = True
    simulator: bool = True
    log_level: str = "INFO"
    log_json: bool = True
    fcm_credentials_file: Path | None = None
    # Mobile API (docs/mobile-api.md): clock skew allowed on occurred_at, when an action counts as
    # queued offline, the check-in radius, how long idempotency keys are kept, push delivery.
    mobile_clock_skew_s: int = Field(default=300, ge=0, le=3600)
    mobile_offline_after_s: int = Field(default=120, ge=1)
    mobile_checkin_radius_m: float = Field(default=300.0, gt=0)
    idempotency_retention_h: int = Field(default=72, ge=72)
    push_poll_interval_s: float = Field(default=1.0, gt=0)
    push_max_attempts: int = Field(default=8, ge=1)
    fcm_endpoint: str | None = None  # FCM v1 send URL override ({0} = project id): proxies, tests
    pdf_font_file: Path | None = None
    # Telephony and the live feed (docs/telephony.md, docs/realtime-protocol.md, docs/metrics.md).
    ami_host: str | None = None  # unset: no AMI client
    ami_port: int = 5038
    ami_username: str = ""
    ami_secret: SecretStr = SecretStr("")
    ami_resnapshot_s: int = Field(default=300, ge=10)
    stats_day_start: time = time(0, 0)
    short_abandon_s: float = Field(default=5.0, ge=0)
    sl_threshold_s: int = Field(default=20, ge=1)
    sl_formula: Literal["answered_within_over_offered", "asterisk_sl", "asterisk_sl2"] = "answered_within_over_offered"
    simulator_seed: int | None = None
    simulator_agents: int = Field(default=36, ge=3, le=200)
    simulator_calls_per_minute: float = Field(default=8.0, gt=0)
    ws_heartbeat_s: int = Field(default=25, ge=1, le=30)
    ws_auth_recheck_s: int = Field(default=60, ge=1)
    ws_lag_timeout_s: float = Field(default=10.0, gt=0)
    webhook_window_s: int = Field(default=300, ge=30)
    # Service rules (docs/sla.md): the timer sweep and re-check, the SLA job timeout (a killed worker's
    # job runs again after it + 10 s), the daily clearing time (local), the fault-share flag.
    sla_sweep_interval_s: int = Field(default=30, ge=1, le=3600)
    sla_recheck_s: float = Field(default=2.0, gt=0, le=60)
    sla_job_timeout_s: int = Field(default=20, ge=1, le=300)
    daily_clearing_at: time = time(16, 30)
    report_fault_share_threshold: float = Field(default=0.3, gt=0, le=1)
    report_fault_min_count: int = Field(default=3, ge=1)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (KeyError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _refuse_default_secrets_in_production(self) -> Settings:
        if self.environment == "production":
            if self.secret_key.get_secret_value() == DEV_SECRET or len(self.secret_key) < 32:
                raise ValueError("FIELDLINE_SECRET_KEY must be set to a random value of 32+ characters")
            if self.webhook_secret.get_secret_value() == DEV_WEBHOOK_SECRET:
                raise ValueError("FIELDLINE_WEBHOOK_SECRET must be set in production")
            if not self.allowed_origins:
                raise ValueError("FIELDLINE_ALLOWED_ORIGINS must list the console's origins in production")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def calendar(self) -> BusinessCalendar:
        return BusinessCalendar(tz=self.tz, opens=self.business_open, closes=self.business_close,
                                late_cutoff=self.late_report_cutoff, holidays=frozenset(self.holidays))

    @property
    def base_url(self) -> str:
        return self.public_url or f"http://{self.host}:{self.port}"

    @property
    def origins(self) -> list[str]:
        return self.allowed_origins or [self.base_url, f"http://localhost:{self.port}"]

    @property
    def scaled(self) -> bool:
        return self.redis_url is not None
