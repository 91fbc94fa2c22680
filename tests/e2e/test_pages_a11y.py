"""Accessibility of the pages in real Chromium: axe-core (npm, pinned in package.json's
devDependencies, never served to the pages) finds no WCAG 2.1 A/AA violation (labels, names,
contrast as rendered, landmarks), every interactive element of the console and the agent view is
reached with Tab and shows a visible focus ring, and the wallboard keeps 60+ agents readable."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in
from tests.e2e.pages_harness import ROOT
from tests.e2e.test_pages_console import create_order_from_a_call

pytestmark = pytest.mark.e2e

AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
WCAG = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def with_axe(page: Any) -> Any:
    """axe-core is injected by the test (an init script, outside the page's CSP), never shipped."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `make test` (npm ci installs the dev packages)")
    page.add_init_script(path=str(AXE))
    return page


def axe_violations(page: Any) -> list[str]:
    result = page.evaluate("(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG)
    return [f"{v['id']} ({v['impact']}): {v['help']} -> " + "; ".join(n["html"][:120] for n in v["nodes"][:4])
            for v in result["violations"]]


# Every element a keyboard user must be able to reach, and a description for the failure message.
FOCUSABLE_JS = """() => [...document.querySelectorAll(
    'a[href], button, input, select, textarea, summary, [tabindex]:not([tabindex="-1"])')]
  .filter((el) => !el.disabled && !el.closest('[inert], dialog:not([open]), [hidden]')
          && el.checkVisibility({visibilityProperty: true}))"""
DESCRIBE_JS = """(el) => `${el.tagName.toLowerCase()}#${el.id || ''}[${(el.getAttribute('aria-label')
  || el.textContent || el.name || '').trim().slice(0, 30)}]`"""


def tab_through(page: Any, limit: int = 600) -> tuple[list[str], list[str], int]:
    """Press Tab until focus comes round to an element it has visited (passing through the
    browser's own UI at the end of the page): (never reached, reached without a visible focus ring)."""
    page.evaluate("() => { window.__tabbed = new Set(); }")
    no_ring: list[str] = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        step = page.evaluate(f"""() => {{
            const el = document.activeElement;
            if (!el || el === document.body) return {{done: false, outside: true}};
            if (window.__tabbed.has(el)) return {{done: true}};
            window.__tabbed.add(el);
            const cs = getComputedStyle(el);
            const ring = (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) >= 2)
              || cs.boxShadow !== 'none';
            const box = el.getBoundingClientRect();
            return {{done: false, ring, onScreen: box.width > 1 && box.height > 1, name: ({DESCRIBE_JS})(el)}};
        }}""")
        if step["done"]:
            break
        if step.get("outside"):
            continue
        if not (step["ring"] and step["onScreen"]):
            no_ring.append(step["name"])
    missed = page.evaluate(f"""() => ({FOCUSABLE_JS})().filter((el) => !window.__tabbed.has(el))
                               .map({DESCRIBE_JS})""")
    return missed, no_ring, page.evaluate("() => window.__tabbed.size")


def test_the_console_has_no_violations_and_works_from_the_keyboard(pages_app, new_page):
    pages_app.webhook({"type": "agent.login", "agent": "PJSIP/7141", "queues": ["hotline"], "name": "E2E 键盘"})
    page = sign_in(with_axe(new_page()), pages_app, "supervisor")
    create_order_from_a_call(page, "e2e accessibility")
    page.locator("[data-action=dispatch]").click()
    expect(page.locator("[data-engineer]").first).to_be_visible()
    expect(page.locator('#agents tr:has-text("E2E 键盘")')).to_be_visible()
    assert axe_violations(page) == []
    missed, no_ring, reached = tab_through(page)
    assert missed == [], "not reachable with Tab"
    assert no_ring == [], "focused without a visible focus ring"
    assert reached >= 25  # the top bar, the forms, the board's cards, the order's actions, the agents


def test_the_agent_view_has_no_violations_and_works_from_the_keyboard(pages_app, new_page):
    pages_app.webhook({"type": "agent.login", "agent": "PJSIP/7142", "queues": ["hotline"], "name": "E2E 无障碍坐席",
                       "user": "agent3"})
    page = sign_in(with_axe(new_page()), pages_app, "agent3", "agent-demo", path="/login?next=%2Fagent")
    expect(page.locator("#me-state")).to_have_text("Available")
    assert axe_violations(page) == []
    missed, no_ring, reached = tab_through(page)
    assert missed == [] and no_ring == [] and reached >= 8
    # Operated from the keyboard alone: choose a reason, pause, and back.
    page.locator("#me-reason").focus()
    page.keyboard.press("End")
    page.keyboard.press("Tab")
    expect(page.locator("#me-pause")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#me-state")).to_contain_text("Paused")
    page.locator("#me-available").focus()
    page.keyboard.press("Space")
    expect(page.locator("#me-state")).to_have_text("Available")


def test_the_wallboard_its_threshold_dialog_the_reports_and_login_have_no_violations(pages_app, new_page):
    login = with_axe(new_page())
    login.goto(f"{pages_app.url}/login")
    expect(login.locator("body.page-login[data-ready]")).to_be_attached()
    assert axe_violations(login) == []

    page = sign_in(with_axe(new_page()), pages_app, "supervisor", path="/login?next=%2Fwallboard")
    expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    expect(page.locator('.tile[data-queue="hotline"]')).to_be_visible()
    assert axe_violations(page) == []
    page.locator("#wb-thresholds").click()
    expect(page.locator("#thresholds-dialog")).to_be_visible()
    assert axe_violations(page) == []

    reports = sign_in(with_axe(new_page()), pages_app, "supervisor", path="/login?next=%2Freports")
    expect(reports.locator("body")).to_have_attribute("data-loaded", "true", timeout=30_000)
    assert axe_violations(reports) == []
