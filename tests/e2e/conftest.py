"""Fixtures for the browser tests: the app on a free loopback port with demo data (one for the
session, or a private one a test may restart), Debian's Chromium under Playwright, and a signed-in
page per role."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.pages_harness import CHROMIUM, CHROMIUM_ARGS, VENDOR, AppServer, running_app

# Auto-waiting assertions get 10 s: the suite shares two cores with everything else on the machine.
expect.set_options(timeout=10_000)

DEMO_PASSWORDS = {"admin": "admin-demo", "supervisor": "supervisor-demo", "agent1": "agent-demo",
                  "agent2": "agent-demo", "wallboard": "wallboard-demo", "eng-east-1": "engineer-demo",
                  "manager-east": "manager-demo"}


@pytest.fixture(scope="package")
def pages_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The app shared by the page tests that do not restart it (each creates its own orders)."""
    if not VENDOR.exists():
        pytest.fail(f"{VENDOR} is missing: run `make test` (it runs `npm ci` and vendors the pages' packages)")
    with running_app(tmp_path_factory.mktemp("pages-app")) as server:
        yield server


@pytest.fixture
def private_app(tmp_path: Path) -> Iterator[AppServer]:
    """An app of this test's own, which it may stop and restart."""
    with running_app(tmp_path / "app") as server:
        yield server


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module. Not longer: Playwright's sync API keeps its event loop running
    in this thread, and later tests (pytest-asyncio, ``asyncio.run``) need the thread's loop free."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium package")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Callable[..., Any]]:
    """Opens pages in fresh browser contexts (own sessionStorage), closed after the test."""
    contexts: list[Any] = []

    def open_page(locale: str = "en-US", viewport: dict[str, int] | None = None) -> Any:
        # The service center's time zone, as its people's browsers have it (the demo: Shanghai).
        context = browser.new_context(locale=locale, timezone_id="Asia/Shanghai",
                                      viewport=viewport or {"width": 1600, "height": 1000})
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        return page

    errors: list[str] = []
    yield open_page
    for context in contexts:
        context.close()
    assert not errors, f"uncaught errors in the page: {errors}"


def sign_in(page: Any, server: AppServer, username: str, password: str | None = None, path: str = "/login") -> Any:
    """Sign in through the login form and wait for the role's landing page."""
    page.goto(f"{server.url}{path}")
    expect(page.locator("body.page-login[data-ready]")).to_be_attached()
    page.get_by_label("User name").or_(page.get_by_label("用户名")).fill(username)
    page.locator("#password").fill(password or DEMO_PASSWORDS[username])
    page.locator("#login-submit").click()
    expect(page.locator("body[data-ready]:not(.page-login)")).to_be_attached()
    return page
