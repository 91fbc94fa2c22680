"""Signing in as each role lands on that role's page, in the browser's language; a wrong password
shows the server's message; signing out ends the session."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import sign_in

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(("username", "landing", "marker"), [
    ("supervisor", "/", "#board"),
    ("admin", "/", "#board"),
    ("agent1", "/", "#board"),
    ("wallboard", "/wallboard", "#agent-totals"),
    ("eng-east-1", "/mobile", "#mobile-title"),
    ("manager-east", "/mobile", "#mobile-title"),
])
def test_each_role_lands_on_its_page(pages_app, new_page, username, landing, marker):
    page = sign_in(new_page(), pages_app, username)
    expect(page).to_have_url(re.compile(rf"{re.escape(pages_app.url)}{re.escape(landing)}$"))
    expect(page.locator(marker)).to_be_visible()


def test_wrong_password_shows_the_message_and_stays(pages_app, new_page):
    page = new_page()
    page.goto(f"{pages_app.url}/login")
    page.locator("#username").fill("supervisor")
    page.locator("#password").fill("not-the-password")
    page.locator("#login-submit").click()
    expect(page.locator("#login-error")).to_be_visible()
    expect(page.locator("#login-error")).to_contain_text("password")
    expect(page).to_have_url(re.compile(r"/login"))


def test_a_page_without_a_session_asks_to_sign_in_and_returns(pages_app, new_page):
    page = new_page()
    page.goto(f"{pages_app.url}/reports")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Freports$"))
    page.locator("#username").fill("supervisor")
    page.locator("#password").fill("supervisor-demo")
    page.locator("#login-submit").click()
    expect(page).to_have_url(f"{pages_app.url}/reports")


def test_a_role_is_sent_away_from_a_page_it_may_not_see(pages_app, new_page):
    page = sign_in(new_page(), pages_app, "wallboard")
    page.goto(f"{pages_app.url}/")
    expect(page).to_have_url(f"{pages_app.url}/wallboard")


def test_sign_out_ends_the_session(pages_app, new_page):
    page = sign_in(new_page(), pages_app, "agent1")
    page.locator("#logout").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto(f"{pages_app.url}/")
    expect(page).to_have_url(re.compile(r"/login\?next="))


def test_chinese_browser_gets_chinese_and_the_switch_is_remembered(pages_app, new_page):
    page = new_page(locale="zh-CN")
    page.goto(f"{pages_app.url}/login")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("#login-title")).to_have_text("登录")
    page.locator("#lang-switch").select_option("en")
    expect(page.locator("#login-title")).to_have_text("Sign in")
    page.reload()
    expect(page.locator("#login-title")).to_have_text("Sign in")
