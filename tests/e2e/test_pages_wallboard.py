"""The wallboard in the browser against the real hub: calls change the tiles, a threshold turns a
tile red, an SLA breach appears in the feed, and after a server restart the wallboard shows it is
stale, reconnects and converges on what happened meanwhile."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


def join(call_id: str, queue: str = "hotline", caller: str = "13816200002") -> dict:
    return {"command": "JoinQueue", "call_id": call_id, "queue": queue, "caller": caller}


def tile(page, queue: str):
    return page.locator(f'.tile[data-queue="{queue}"]')


def waiting(page, queue: str):
    return tile(page, queue).locator('[data-metric="waiting"] .metric-value')


def open_wallboard(new_page, app, user: str = "wallboard", waiting_now: str = "0"):
    page = sign_in(new_page(), app, user, path="/login?next=%2Fwallboard")
    expect(page).to_have_url(f"{app.url}/wallboard")
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    expect(waiting(page, "hotline")).to_have_text(waiting_now)
    return page


def test_an_sla_breach_appears_in_the_feed(pages_app, new_page):
    page = open_wallboard(new_page, pages_app)
    pages_app.inject({"sla_breach": {"work_order_id": 4242, "number": "WO202603020042", "rule": "acknowledge"}})
    entry = page.locator("#alert-feed li", has_text="WO202603020042")
    expect(entry).to_be_visible()
    expect(entry).to_contain_text("breached")
    expect(page.locator("#alert-feed")).to_have_attribute("aria-live", "polite")
    expect(page.locator("#alerts-empty")).to_be_hidden()
    # The breach is not state: a page opened later shows open breaches only (from the SLA engine).


def test_a_threshold_turns_a_tile_red(pages_app, new_page):
    queue = "e2e-thresholds"  # a queue of this test's own (the PBX names it; the hub learns it)
    pages_app.inject({"telephony": [join("e2e-thr-1", queue), join("e2e-thr-2", queue, caller="13816200003")]})
    page = open_wallboard(new_page, pages_app, "supervisor")
    expect(waiting(page, queue)).to_have_text("2")
    expect(tile(page, queue)).not_to_have_attribute("data-level", "red")
    page.locator("#wb-thresholds").click()
    page.locator("#thr-queue").select_option(queue)
    page.locator("#thr-waiting-amber").fill("1")
    page.locator("#thr-waiting-red").fill("2")
    page.locator("#thr-save").click()
    expect(page.locator("#thresholds-dialog")).not_to_be_visible()
    expect(tile(page, queue).locator('[data-metric="waiting"]')).to_have_attribute("data-level", "red")
    expect(tile(page, queue)).to_have_attribute("data-level", "red")
    # Only that queue: the others keep the default (amber from 3 waiting).
    expect(tile(page, "hotline").locator('[data-metric="waiting"]')).to_have_attribute("data-level", "green")
    # Stored server-side: the wallboard account on another TV shows the same colour.
    other = open_wallboard(new_page, pages_app)
    expect(tile(other, queue)).to_have_attribute("data-level", "red")


def test_server_restart_the_wallboard_goes_stale_reconnects_and_converges(pages_app, new_page):
    # The shared app is restarted in place (same port, same database): every later test still finds it.
    queue = "e2e-restart"
    pages_app.inject({"telephony": [join("e2e-restart-0", queue)]})
    page = open_wallboard(new_page, pages_app)
    expect(waiting(page, queue)).to_have_text("1")
    pages_app.stop()
    # While the server is down a caller joins (the PBX never stops): the restarted hub loads it.
    injecting = pages_app.inject_in_background({"telephony": [join("e2e-restart-1", queue)]})
    expect(page.locator("#conn")).to_have_attribute("data-state", re.compile("stale|offline"), timeout=15_000)
    expect(page.locator("#wb-stale")).to_be_visible()
    expect(page.locator("body")).to_have_attribute("data-conn", "stale")
    expect(tile(page, queue)).to_have_css("opacity", "0.45")  # the old numbers are greyed out
    expect(waiting(page, queue)).to_have_text("1")  # ...and not updated behind the person's back
    assert injecting.wait(timeout=60) == 0
    pages_app.start()
    expect(page.locator("#conn")).to_have_attribute("data-state", "live", timeout=45_000)
    expect(waiting(page, queue)).to_have_text("2")
    expect(page.locator("#wb-stale")).to_be_hidden()
    expect(tile(page, queue)).to_have_css("opacity", "1")


AGENT_CELLS_JS = """() => {
  const grid = document.querySelector('#agent-grid').getBoundingClientRect();
  return [...document.querySelectorAll('#agent-grid .agent')].map((el) => {
    const box = el.getBoundingClientRect();
    const name = el.querySelector('.agent-name');
    return {inside: box.top >= grid.top - 1 && box.bottom <= Math.min(grid.bottom, innerHeight) + 1
                    && box.right <= innerWidth + 1,
            font: parseFloat(getComputedStyle(name).fontSize), text: name.textContent};
  });
}"""


@pytest.mark.parametrize("viewport", [{"width": 1920, "height": 1080}, {"width": 1366, "height": 768}])
def test_the_wallboard_stays_readable_with_a_hundred_and_twenty_agents(private_app, new_page, viewport):
    pages_app = private_app  # exactly these agents: the shared app has others from other tests
    events = [{"type": "agent.login", "agent": f"PJSIP/8{n:03d}", "queues": ["hotline"], "name": f"坐席 E2E {n:03d}"}
              for n in range(120)]
    events += [{"type": "agent.pause", "agent": f"PJSIP/8{n:03d}", "reason": "lunch"} for n in range(0, 120, 12)]
    pages_app.webhook(*events)
    page = sign_in(new_page(viewport=viewport), pages_app, "wallboard")
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    expect(page.locator('#agent-grid .agent:has-text("坐席 E2E 119")')).to_be_visible()
    cells = page.evaluate(AGENT_CELLS_JS)
    assert len(cells) == 120
    # Every agent on screen (the grid never scrolls on a TV), none cut off, names large enough
    # to read from across the room.
    assert [c["text"] for c in cells if not c["inside"]] == []
    assert min(c["font"] for c in cells) >= 12, cells[0]
    totals = page.locator("#agent-totals li .num").all_inner_texts()
    assert sum(int(n) for n in totals) >= len(cells)
    expect(page.locator('#agent-totals [data-state="paused"]')).to_contain_text("10")
