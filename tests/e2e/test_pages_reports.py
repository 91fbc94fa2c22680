"""The reports page: the intraday chart from the call ledger, the SLA engine's report jobs as
tables with CSV / XLSX downloads, and a clear "no data yet" where there is nothing."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import DEMO_PASSWORDS, sign_in
from tests.e2e.pages_harness import login_tokens

pytestmark = pytest.mark.e2e


def test_reports_show_charts_tables_and_downloads(pages_app, new_page):
    pages_app.inject({"telephony": [
        {"command": "JoinQueue", "call_id": "e2e-rep-1", "queue": "e2e-reports", "caller": "13816200006"},
        {"command": "AbandonCall", "call_id": "e2e-rep-1"},
    ]})
    token = login_tokens(pages_app, "supervisor", DEMO_PASSWORDS["supervisor"])["access_token"]
    engineer = login_tokens(pages_app, "eng-east-1", DEMO_PASSWORDS["eng-east-1"])["user"]
    headers = {"Authorization": f"Bearer {token}"}
    pop = httpx.get(f"{pages_app.url}/api/console/v1/screen-pop", params={"phone": "13816200004"}, headers=headers)
    customer = pop.json()["customers"][0]
    order = httpx.post(f"{pages_app.url}/api/console/v1/work-orders", headers=headers, json={
        "kind": "repair", "description": "e2e report", "customer_id": customer["customer"]["id"],
        "site_id": customer["sites"][0]["id"]}).json()
    httpx.post(f"{pages_app.url}/api/console/v1/work-orders/{order['id']}/dispatch", headers=headers,
               json={"engineer_id": engineer["id"]}).raise_for_status()

    page = sign_in(new_page(), pages_app, "supervisor", path="/login?next=%2Freports")
    expect(page.locator("body")).to_have_attribute("data-loaded", "true", timeout=30_000)
    intraday = page.locator('[data-report="intraday"]')
    expect(intraday.locator("canvas")).to_be_visible()
    expect(intraday.locator(".empty")).to_be_hidden()

    providers = page.locator('[data-report="providers"]')
    expect(providers.locator("table")).to_contain_text("上海浦东工程机械服务网点")
    engineers = page.locator('[data-report="engineers"]')
    expect(engineers.locator("table")).to_contain_text(engineer["display_name"])
    with page.expect_download() as download:
        providers.get_by_role("button", name="XLSX").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    with page.expect_download() as download:
        intraday.get_by_role("button", name="CSV").click()
    text = download.value.path().read_text(encoding="utf-8-sig")
    assert text.splitlines()[0] == "From,Offered,Answered,Abandoned"
    # Nothing was completed, so there is no fault structure yet: said, not a blank box.
    expect(page.locator('[data-report="fault_structure"] .empty')).to_have_text("No data yet")
