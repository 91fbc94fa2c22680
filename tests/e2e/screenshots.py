"""Takes the README's pictures: the wallboard fed by the simulator (60 agents, three queues) and
the dispatch console with a few orders in flight, in headless Chromium.

    .venv/bin/python -m tests.e2e.screenshots            # writes docs/img/wallboard.png, console.png

Not a test: it waits for the simulated call center to have traffic worth showing."""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import expect, sync_playwright

from tests.e2e.conftest import DEMO_PASSWORDS, sign_in
from tests.e2e.pages_harness import CHROMIUM, CHROMIUM_ARGS, ROOT, AppServer, login_tokens, running_app

OUT = ROOT / "docs" / "img"
ORDERS = [
    ("13816200001", "repair", "SY215C 液压泵漏油 无法行走 hydraulic pump leaking", "dispatch"),
    ("13816200002", "repair", "SY365H 发动机启动困难 engine hard to start", "acknowledge"),
    ("13816200003", "installation", "新机 SY215C 安装调试 new machine installation", None),
    ("13816200004", "rescue", "SY75C 山区抛锚需救援 broken down on a mountain road", "urge"),
    ("13881900001", "repair", "SR285R 旋挖钻机动力头异响 rotary head noise", "dispatch"),
    ("13881900002", "complaint", "服务人员迟到两小时 engineer two hours late", None),
]


def _seed_orders(app: AppServer) -> None:
    token = login_tokens(app, "supervisor", DEMO_PASSWORDS["supervisor"])["access_token"]
    h = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=f"{app.url}/api/console/v1", headers=h, timeout=10.0) as c:
        for phone, kind, text, then in ORDERS:
            entry = c.get("/screen-pop", params={"phone": phone}).json()["customers"][0]
            body: dict[str, Any] = {"kind": kind, "description": text, "contact_phone": phone, "schedule_now": True,
                                    "contact_name": entry["customer"]["contact_name"]}
            if kind == "complaint":
                body["complaint_level"] = "medium"
            else:
                body.update(customer_id=entry["customer"]["id"], site_id=entry["sites"][0]["id"])
            order = c.post("/work-orders", json=body).json()
            if then in ("dispatch", "urge"):
                best = c.get(f"/work-orders/{order['id']}/suggestions").json()["items"][0]
                c.post(f"/work-orders/{order['id']}/dispatch", json={"engineer_id": best["engineer_id"]})
            if then == "urge":
                c.post(f"/work-orders/{order['id']}/urge", json={"by": "customer", "note": "客户催促"})
            if then == "acknowledge":  # eng-east-1 accepts it on the phone
                engineer = login_tokens(app, "eng-east-1", DEMO_PASSWORDS["eng-east-1"])
                c.post(f"/work-orders/{order['id']}/dispatch", json={"engineer_id": engineer["user"]["id"]})
                httpx.post(f"{app.url}/api/mobile/v1/work-orders/{order['id']}/acknowledge", json={}, timeout=10.0,
                           headers={"Authorization": f"Bearer {engineer['access_token']}",
                                    "Idempotency-Key": str(uuid.uuid4())})


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    env = {"FIELDLINE_SIMULATOR": "true", "FIELDLINE_SIMULATOR_SEED": "7", "FIELDLINE_SIMULATOR_AGENTS": "60",
           "FIELDLINE_SIMULATOR_CALLS_PER_MINUTE": "14"}
    with running_app(Path(tempfile.mkdtemp(prefix="fieldline-shots-")), **env) as app, sync_playwright() as p:
        _seed_orders(app)
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="en-US",
                                      timezone_id="Asia/Shanghai")
        context.set_default_timeout(120_000)
        page = context.new_page()
        sign_in(page, app, "wallboard")
        expect(page.locator("#conn")).to_have_attribute("data-state", "live")
        # Traffic worth showing: most agents logged in and a few dozen calls offered today.
        page.wait_for_function("document.querySelectorAll('#agent-grid .agent').length >= 50")
        page.wait_for_function("""() => [...document.querySelectorAll('.tile[data-queue="*totals*"] .metric-sub')]
                                  .some(e => /of ([3-9]\\d|\\d{3,}) answered/.test(e.textContent))""")
        page.screenshot(path=str(OUT / "wallboard.png"))

        console = context.new_page()
        sign_in(console, app, "supervisor")
        expect(console.locator(".card").first).to_be_visible()
        console.locator('.card').first.click()
        expect(console.get_by_test_id("detail-state")).to_be_visible()
        console.locator("[data-action=dispatch], [data-action=redispatch]").first.click()
        expect(console.locator("[data-engineer]").first).to_be_visible()
        console.screenshot(path=str(OUT / "console.png"))
        browser.close()
    print(f"wrote {OUT / 'wallboard.png'} and {OUT / 'console.png'}")


if __name__ == "__main__":
    main()
