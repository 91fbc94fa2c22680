"""The pages' JSON routes (/api/ui/v1) on SQLite and PostgreSQL: wallboard thresholds per queue and
metric (read by wallboards, set and reset by supervisors, audited, validated) and the directory
labels; and the page shells, strings and static files the browser loads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlmodel import select

from backend.persistence.tables import AuditLog
from backend.settings import Settings
from tests.conftest import BACKENDS
from tests.support.apptest import AppHarness, error_code, migrated_settings, open_app
from tests.support.factories import Ref

API = "/api/ui/v1"


@pytest.fixture(params=BACKENDS)
def app(request: pytest.FixtureRequest, settings: Settings) -> Iterator[tuple[AppHarness, Ref]]:
    with migrated_settings(request, settings) as migrated, open_app(migrated) as harness:
        yield harness, harness.seed()


def thresholds(h: AppHarness, who: Any) -> dict[str, Any]:
    response = h.client.get(f"{API}/thresholds", headers=h.bearer(who))
    assert response.status_code == 200, response.text
    return response.json()


def test_wallboard_reads_the_defaults_then_a_supervisors_threshold(app):
    h, ref = app
    before = thresholds(h, ref.wallboard)
    assert before["items"] == []
    specs = {m["metric"]: m for m in before["metrics"]}
    assert specs["service_level"] == {"metric": "service_level", "unit": "percent", "higher_is_worse": False,
                                      "amber": 80, "red": 60}
    assert specs["longest_wait_s"]["red"] == 120

    response = h.client.put(f"{API}/thresholds/hotline/longest_wait_s", json={"amber": 30, "red": 45},
                            headers=h.bearer(ref.supervisor))
    assert response.status_code == 200, response.text
    assert response.json() == {"queue": "hotline", "metric": "longest_wait_s", "amber": 30, "red": 45}
    after = thresholds(h, ref.wallboard)
    assert after["items"] == [{"queue": "hotline", "metric": "longest_wait_s", "amber": 30, "red": 45}]

    # Replacing keeps one row and audits the old and new values.
    h.client.put(f"{API}/thresholds/hotline/longest_wait_s", json={"amber": 20, "red": 40},
                 headers=h.bearer(ref.supervisor)).raise_for_status()
    assert thresholds(h, ref.agent)["items"] == [{"queue": "hotline", "metric": "longest_wait_s", "amber": 20,
                                                   "red": 40}]
    audits = h.rows(AuditLog, AuditLog.action == "wallboard.threshold.set")
    assert [a.details for a in audits] == [
        {"before": None, "after": {"amber": 30, "red": 45}},
        {"before": {"amber": 30, "red": 45}, "after": {"amber": 20, "red": 40}},
    ]
    assert {a.actor_id for a in audits} == {ref.supervisor.user_id}


def test_reset_returns_to_the_default(app):
    h, ref = app
    h.client.put(f"{API}/thresholds/*/waiting", json={"amber": 1, "red": 2},
                 headers=h.bearer(ref.supervisor)).raise_for_status()
    response = h.client.delete(f"{API}/thresholds/*/waiting", headers=h.bearer(ref.supervisor))
    assert response.status_code == 204
    assert thresholds(h, ref.wallboard)["items"] == []
    # Resetting what is not set is a no-op.
    assert h.client.delete(f"{API}/thresholds/*/waiting", headers=h.bearer(ref.supervisor)).status_code == 204
    assert len(h.rows(AuditLog, AuditLog.action == "wallboard.threshold.reset")) == 1


@pytest.mark.parametrize(("path", "body", "status", "code"), [
    ("hotline/service_level", {"amber": 60, "red": 80}, 422, "threshold-invalid"),  # lower is worse: amber >= red
    ("hotline/waiting", {"amber": 9, "red": 3}, 422, "threshold-invalid"),
    ("hotline/abandon_rate", {"amber": 50, "red": 150}, 422, "threshold-invalid"),
    ("hotline/mood", {"amber": 1, "red": 2}, 422, "threshold-metric-unknown"),
    ("hotline/waiting", {"amber": -1, "red": 2}, 422, "validation-failed"),
    ("hotline/waiting", {"amber": 1, "red": 2, "colour": "red"}, 422, "validation-failed"),
])
def test_invalid_thresholds_are_refused_and_change_nothing(app, path, body, status, code):
    h, ref = app
    response = h.client.put(f"{API}/thresholds/{path}", json=body, headers=h.bearer(ref.supervisor))
    assert (response.status_code, error_code(response)) == (status, code)
    assert thresholds(h, ref.supervisor)["items"] == []


@pytest.mark.parametrize("who", ["agent", "wallboard"])
def test_only_supervisors_and_admins_change_thresholds(app, who):
    h, ref = app
    response = h.client.put(f"{API}/thresholds/hotline/waiting", json={"amber": 1, "red": 2},
                            headers=h.bearer(getattr(ref, who)))
    assert (response.status_code, error_code(response)) == (403, "role-not-allowed")
    response = h.client.delete(f"{API}/thresholds/hotline/waiting", headers=h.bearer(getattr(ref, who)))
    assert response.status_code == 403


def test_field_roles_and_strangers_read_nothing(app):
    h, ref = app
    assert h.client.get(f"{API}/thresholds").status_code == 401
    assert h.client.get(f"{API}/directory", headers=h.bearer(ref.eng_a)).status_code == 403
    assert h.client.get(f"{API}/thresholds", headers=h.bearer(ref.manager)).status_code == 403


def test_directory_names_engineers_providers_regions_and_queues(app):
    h, ref = app
    response = h.client.get(f"{API}/directory", headers=h.bearer(ref.agent))
    assert response.status_code == 200
    labels = response.json()
    assert {e["id"]: e["name"] for e in labels["engineers"]} == {
        ref.eng_a.user_id: "Eng-A", ref.eng_b.user_id: "Eng-B", ref.eng_c.user_id: "Eng-C"}
    assert {p["id"] for p in labels["providers"]} == {ref.provider, ref.other_provider}
    assert {r["id"] for r in labels["regions"]} == {ref.region, ref.other_region}
    assert labels["agents"] == [{"id": ref.agent.user_id, "name": "Agent"}]
    # Names only: no phone numbers, skills or password hashes reach the browser.
    assert set(labels["engineers"][0]) == {"id", "name", "region_id", "provider_id", "active"}


def test_the_pages_strings_and_static_files_are_served(app):
    h, _ = app
    for path in ("/", "/login", "/wallboard", "/agent", "/reports", "/mobile"):
        response = h.client.get(path, headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        assert '<html lang="zh-CN">' in response.text
        assert "script-src 'self'" in response.headers["content-security-policy"]
        assert "{{" not in response.text
    assert h.client.get("/login", headers={"Accept-Language": "en-GB"}).text.count('<html lang="en">') == 1
    remembered = h.client.get("/login", headers={"Accept-Language": "zh-CN", "Cookie": "fieldline-lang=en"})
    assert '<html lang="en">' in remembered.text
    zh = h.client.get("/i18n/zh-CN.json").json()
    assert zh["login.title"] == "登录"
    assert h.client.get("/i18n/fr.json").status_code == 404
    script = h.client.get("/static/js/core/live.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert script.headers["cache-control"] == "no-cache"
    assert h.client.get("/console", follow_redirects=False).headers["location"] == "/"


def test_threshold_rows_survive_in_the_table(app):
    h, ref = app
    from backend.persistence.tables_wallboard import WallboardThreshold

    h.client.put(f"{API}/thresholds/consultation/asa_s", json={"amber": 15, "red": 30},
                 headers=h.bearer(ref.supervisor)).raise_for_status()

    async def read(session: Any) -> list[tuple[str, str, float, float, int | None]]:
        rows = (await session.exec(select(WallboardThreshold))).all()
        return [(r.queue, r.metric, r.amber, r.red, r.updated_by) for r in rows]

    assert h.run(read) == [("consultation", "asa_s", 15, 30, ref.supervisor.user_id)]
