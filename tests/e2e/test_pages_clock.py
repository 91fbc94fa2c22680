"""Times on a screen whose own clock is minutes off (a TV nobody set): the pages count from the
server's instants with the server's clock (learnt from the socket and the HTTP Date header), so
time in state, the wall clock and countdowns to deadlines are right whatever the browser thinks.
The browser clock is moved with Playwright's clock emulation; time still flows naturally."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DEMO_PASSWORDS, sign_in
from tests.e2e.pages_harness import login_tokens
from tests.e2e.test_pages_console import create_order_from_a_call

pytestmark = pytest.mark.e2e

SKEW = timedelta(minutes=5)
SHANGHAI = ZoneInfo("Asia/Shanghai")  # the browsers' time zone in these tests (conftest.new_page)


def skewed_page(new_page, skew: timedelta):
    page = new_page()
    page.clock.install(time=datetime.now() + skew)  # this "TV" runs 5 minutes off from now on
    return page


def seconds_apart(shown: str, server: datetime) -> float:
    """How far a wall clock reading HH:MM:SS is from the server's time (modulo a day)."""
    h, m, s = (int(x) for x in shown.split(":"))
    shown_s = h * 3600 + m * 60 + s
    server_s = server.hour * 3600 + server.minute * 60 + server.second
    diff = abs(shown_s - server_s) % 86400
    return min(diff, 86400 - diff)


def test_a_wallboard_whose_clock_is_ahead_shows_server_time_and_true_time_in_state(pages_app, new_page):
    page = skewed_page(new_page, SKEW)
    assert page.evaluate("Date.now()") > (datetime.now() + SKEW - timedelta(seconds=30)).timestamp() * 1000
    sign_in(page, pages_app, "wallboard")
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    pages_app.webhook({"type": "agent.login", "agent": "PJSIP/7131", "queues": ["hotline"], "name": "E2E 时钟"})
    cell = page.locator('.agent:has-text("E2E 时钟")')
    expect(cell).to_have_attribute("data-state", "available")
    # Uncorrected, this would read 5:00 and climb; the server says the agent logged in just now.
    expect(cell.locator(".agent-line .num").first).to_have_text(re.compile(r"^0:0\d$"))
    expect(page.locator("#wb-clock")).to_have_text(re.compile(r"^\d\d:\d\d:\d\d$"))
    shown = page.locator("#wb-clock").inner_text()
    assert seconds_apart(shown, datetime.now(SHANGHAI)) <= 5, shown


def test_a_console_whose_clock_is_behind_counts_down_to_the_servers_deadline(pages_app, new_page):
    engineer = login_tokens(pages_app, "eng-east-1", DEMO_PASSWORDS["eng-east-1"])["user"]
    page = skewed_page(new_page, -SKEW)
    sign_in(page, pages_app, "agent1")
    number = create_order_from_a_call(page, "e2e clock behind")
    page.locator("[data-action=dispatch]").click()
    page.locator(f'[data-engineer="{engineer["id"]}"]').click()
    card = page.locator(f'.card[data-number="{number}"]')
    expect(page.locator('[data-lane="ack"]').locator(card)).to_be_visible()
    # Acknowledge within 3 minutes of the dispatch: uncorrected, this clock would show 7:5x left.
    countdown = card.locator(".countdown")
    expect(countdown).to_have_text(re.compile(r"^2:[0-5]\d$"))
    expect(countdown).to_have_attribute("data-level", "green")
