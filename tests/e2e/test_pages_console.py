"""The dispatch console in the browser: screen pop by caller number, a new order, dispatch to a
suggested engineer, and the card moving when the engineer acts through the mobile API; refused
actions show the server's message."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DEMO_PASSWORDS, sign_in
from tests.e2e.pages_harness import AppServer, login_tokens

pytestmark = pytest.mark.e2e

CUSTOMER_PHONE = "13816200001"  # 上海建工机械施工有限公司 in the demo data


def engineer_acts(server: AppServer, username: str, order_id: int, action: str, **body: object) -> dict:
    """The engineer's phone: one action through the mobile API (idempotency key, no If-Match)."""
    token = login_tokens(server, username, DEMO_PASSWORDS[username])["access_token"]
    response = httpx.post(f"{server.url}/api/mobile/v1/work-orders/{order_id}/{action}", json=body, timeout=10.0,
                          headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())})
    assert response.status_code == 200, response.text
    return response.json()


def create_order_from_a_call(page, description: str) -> str:
    page.get_by_label("Caller number").fill(CUSTOMER_PHONE)
    page.get_by_role("button", name="Look up").click()
    expect(page.locator("#pop-result")).to_contain_text("上海建工机械施工有限公司")
    page.get_by_label("Description").fill(description)
    page.get_by_role("button", name="Create").click()
    number = page.get_by_test_id("detail-number")
    expect(number).to_contain_text("WO")
    return number.inner_text().split(" ")[0]


def test_dispatcher_creates_dispatches_and_sees_the_engineer_act(pages_app, new_page):
    engineer = login_tokens(pages_app, "eng-east-1", DEMO_PASSWORDS["eng-east-1"])["user"]
    page = sign_in(new_page(), pages_app, "agent1")
    number = create_order_from_a_call(page, "挖掘机液压泵漏油 e2e dispatch")
    card = page.locator(f'.card[data-number="{number}"]')
    expect(page.locator('[data-lane="dispatch"]').locator(card)).to_be_visible()
    order_id = int(page.locator(f'.card[data-number="{number}"]').locator("xpath=..").get_attribute("data-order"))

    page.locator("[data-action=dispatch]").click()
    page.locator(f'[data-engineer="{engineer["id"]}"]').click()
    expect(page.get_by_test_id("detail-state")).to_have_text("Dispatched")
    expect(page.locator('[data-lane="ack"]').locator(card)).to_be_visible()
    expect(card).to_contain_text(engineer["display_name"])
    expect(card.locator(".countdown")).to_have_text(re.compile(r"^[0-2]:\d\d$"))  # acknowledge within 3 min

    engineer_acts(pages_app, "eng-east-1", order_id, "acknowledge")
    # The live feed moves the card at once; without it the board refreshes within 15 s.
    expect(page.locator('[data-lane="progress"]').locator(card)).to_be_visible(timeout=20_000)
    expect(card.locator(".state-chip")).to_have_text("Acknowledged")
    expect(page.get_by_test_id("detail-state")).to_have_text("Acknowledged")


def test_a_refused_action_shows_the_servers_message(pages_app, new_page):
    page = sign_in(new_page(), pages_app, "supervisor")
    number = create_order_from_a_call(page, "e2e refused action")
    order_id = int(page.locator(f'.card[data-number="{number}"]').locator("xpath=..").get_attribute("data-order"))
    page.locator("[data-action=cancel]").click()
    page.locator("#cancel-text").fill("customer withdrew")
    # Meanwhile someone else changes the order: the page's version is stale. The open form stays
    # (the live feed only says the order moved).
    token = login_tokens(pages_app, "agent2", DEMO_PASSWORDS["agent2"])["access_token"]
    httpx.post(f"{pages_app.url}/api/console/v1/work-orders/{order_id}/urge", json={"by": "customer"},
               headers={"Authorization": f"Bearer {token}"}, timeout=10.0).raise_for_status()
    expect(page.locator("#detail-changed")).to_be_visible()
    expect(page.locator("#cancel-text")).to_have_value("customer withdrew")
    page.locator("#action-form").get_by_role("button", name="Cancel order").click()
    expect(page.locator(".toast-error")).to_contain_text("Someone else changed this order")
    expect(page.locator(".toast-error")).not_to_contain_text("Traceback")
    expect(page.get_by_test_id("detail-state")).to_have_text("To dispatch")
    expect(page.locator(".history")).to_contain_text("Urged")


def test_screen_pop_for_an_unknown_number_says_so(pages_app, new_page):
    page = sign_in(new_page(), pages_app, "agent1")
    page.get_by_label("Caller number").fill("13000000000")
    page.get_by_role("button", name="Look up").click()
    expect(page.locator("#pop-result")).to_contain_text("No customer with number 13000000000")
