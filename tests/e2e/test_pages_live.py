"""The pages on the live feed, driven the way the phone system drives them (the signed webhook)
and the way people do (the agent's own buttons): a call changes the wallboard tile within a
second, an agent pauses with a reason and the wallboard shows it."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


def open_wallboard(new_page, app):
    page = sign_in(new_page(), app, "wallboard")
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    return page


def test_an_injected_call_changes_the_wallboard_tile_within_a_second(pages_app, new_page):
    queue = "e2e-live-calls"
    pages_app.webhook({"type": "agent.login", "agent": "PJSIP/7101", "queues": [queue], "name": "E2E 坐席"})
    page = open_wallboard(new_page, pages_app)
    waiting = page.locator(f'.tile[data-queue="{queue}"] [data-metric="waiting"] .metric-value')
    expect(waiting).to_have_text("0")
    pages_app.webhook({"type": "call.joined", "call_id": "e2e-live-1", "queue": queue, "caller": "13816200005"})
    expect(waiting).to_have_text("1", timeout=1000)  # the promise: on screen within a second
    longest = page.locator(f'.tile[data-queue="{queue}"] [data-metric="longest_wait_s"] .metric-value')
    expect(longest).to_have_text(re.compile(r"^0:0[2-9]$"))  # ticking locally from the join time, no server message
    pages_app.webhook({"type": "call.answered", "call_id": "e2e-live-1", "agent": "PJSIP/7101"})
    expect(waiting).to_have_text("0", timeout=1000)
    agent = page.locator('.agent:has-text("E2E 坐席")')
    expect(agent).to_have_attribute("data-state", "on_call")


def test_an_agent_pauses_with_a_reason_and_the_wallboard_shows_it(pages_app, new_page):
    # agent2's extension logs in (the PBX names the Fieldline user it belongs to).
    pages_app.webhook({"type": "agent.login", "agent": "PJSIP/7102", "queues": ["hotline"], "name": "陈静 Chen Jing",
                       "user": "agent2"})
    wallboard = open_wallboard(new_page, pages_app)
    cell = wallboard.locator('.agent:has-text("陈静 Chen Jing")')
    expect(cell).to_have_attribute("data-state", "available")

    me = sign_in(new_page(), pages_app, "agent2", path="/login?next=%2Fagent")
    expect(me).to_have_url(f"{pages_app.url}/agent")
    expect(me.locator("#me-state")).to_have_text("Available")
    me.get_by_label("Pause reason").select_option("lunch")
    me.get_by_role("button", name="Pause", exact=True).click()
    expect(me.locator("#me-state")).to_have_text("Paused: lunch")

    expect(cell).to_have_attribute("data-state", "paused")
    expect(cell).to_contain_text("Paused: lunch")
    ticking = cell.locator(".agent-line .num").first  # time in pause, ticking locally, never negative
    expect(ticking).to_have_text(re.compile(r"^0:0[1-9]$"))
    expect(wallboard.locator('#agent-totals [data-state="paused"]')).to_contain_text("1")

    me.get_by_role("button", name="Available").click()
    expect(cell).to_have_attribute("data-state", "available")


def test_a_supervisor_pauses_unpauses_and_logs_out_an_agent_from_the_console(pages_app, new_page):
    pages_app.webhook({"type": "agent.login", "agent": "PJSIP/7103", "queues": ["consultation"],
                       "name": "E2E 督导测试"})
    page = sign_in(new_page(), pages_app, "supervisor")
    row = page.locator('#agents tr:has-text("E2E 督导测试")')
    expect(row).to_contain_text("Available")
    row.get_by_label("Pause reason").select_option("training")
    row.get_by_role("button", name="Pause").click()
    expect(row).to_contain_text("Paused: training")
    row.get_by_role("button", name="Unpause").click()
    expect(row).to_contain_text("Available")
    row.get_by_role("button", name="Log out").click()
    expect(row).to_contain_text("Logged out")
    expect(row.get_by_role("button", name="Pause")).to_be_hidden()
