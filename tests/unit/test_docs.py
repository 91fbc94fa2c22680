"""The docs stay true: every setting is documented, every console route is in the API doc."""

from pathlib import Path

from backend.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_every_setting_is_documented() -> None:
    text = "\n".join(p.read_text() for p in (ROOT / "docs").glob("*.md"))
    missing = [name for name in Settings.model_fields if f"FIELDLINE_{name.upper()}" not in text]
    assert missing == [], f"document these settings in docs/ (operations.md or the feature's doc): {missing}"


def test_every_console_route_is_documented() -> None:
    from supervisor_ui.console_api import routes

    text = (ROOT / "docs" / "console-api.md").read_text()
    for route in routes:
        documented = route.path.replace("{id:int}", "{id}")
        assert documented in text, f"document {route.path} in docs/console-api.md"
