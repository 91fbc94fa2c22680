"""docs/mobile-api.md stays true: every operation of the served OpenAPI document, every mobile
setting and every error code the mobile code raises is in it."""

from __future__ import annotations

import re
from pathlib import Path

from backend.settings import Settings
from mobile_api.openapi import document
from mobile_api.routes import OPERATIONS, routes

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "mobile-api.md"
MOBILE_SETTINGS = ("mobile_", "idempotency_", "push_", "fcm_", "pdf_")
# Where the mobile API's own refusals come from.
SOURCES = ["mobile_api", "backend/domain/mobile", "backend/services/mobile.py", "backend/services/mobile_photos.py",
           "backend/services/signatures.py", "backend/services/devices.py", "backend/services/idempotency.py"]
# The lifecycle rules' refusals a phone can meet (decide.py also holds the console's).
LIFECYCLE = {"invalid-transition", "work-order-locked", "work-order-on-hold", "arrival-required", "not-a-field-order",
             "report-incomplete", "report-times-invalid", "report-times-inconsistent", "running-hours-invalid",
             "reason-required", "appointment-invalid", "concurrent-update"}
CODE = re.compile(r'errors\.(?!DomainError)\w+\(\s*"([a-z0-9-]+)"')


def test_every_served_operation_is_documented() -> None:
    text = DOC.read_text()
    served = document(OPERATIONS)
    missing = [f"{method.upper()} {path}" for path, ops in served["paths"].items() for method in ops
               if f"`{method.upper()} {path}`" not in text]
    assert missing == [], f"document these operations in docs/mobile-api.md: {missing}"
    assert "/openapi.json" in text
    assert len(routes) == len(OPERATIONS) + 1  # the document's own route, and one per operation


def test_every_mobile_setting_is_documented_with_the_api() -> None:
    text = DOC.read_text()
    names = [f"FIELDLINE_{n.upper()}" for n in Settings.model_fields if n.startswith(MOBILE_SETTINGS)]
    assert "FIELDLINE_IDEMPOTENCY_RETENTION_H" in names and "FIELDLINE_FCM_CREDENTIALS_FILE" in names
    assert [n for n in names if f"`{n}`" not in text] == []


def test_every_error_code_is_documented() -> None:
    text = DOC.read_text()
    files = [p for s in SOURCES for p in ((ROOT / s).rglob("*.py") if (ROOT / s).is_dir() else [ROOT / s])]
    codes = {code for f in files for code in CODE.findall(f.read_text())} | LIFECYCLE
    assert {"idempotency-key-reused", "version-mismatch", "work-order-taken"} <= codes
    assert sorted(c for c in codes if f"`{c}`" not in text) == []
