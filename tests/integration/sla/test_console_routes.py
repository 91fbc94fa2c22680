"""The console routes of the service rules and reports, through the app (its embedded timer loop and
report runner running) on SQLite and PostgreSQL: alerts with the time left, escalation tasks,
policies, the follow-up work list, the daily clearing, report jobs and their downloads; roles and
stable error codes."""

from __future__ import annotations

import csv
import io
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func
from sqlmodel import select

from backend.domain.work_orders import commands as c
from backend.persistence.tables_sla import DailyClearing, ReportJob, SlaBreach
from backend.settings import Settings
from tests.integration.sla.support import report
from tests.support.apptest import AppHarness, error_code, migrated_settings, open_app
from tests.support.waiting import wait_until

SLA = "/api/console/v1/sla"
REPORTS = "/api/console/v1/reports"


@pytest.fixture(params=["sqlite", "postgresql"])
def harness(request: pytest.FixtureRequest, settings: Settings) -> Iterator[AppHarness]:
    with migrated_settings(request, settings.model_copy(update={"sla_recheck_s": 0.05})) as s, open_app(s) as h:
        yield h


def wait(h: AppHarness, predicate: Callable[[], Awaitable[Any]], message: str) -> Any:
    assert h.client.portal is not None
    return h.client.portal.call(lambda: wait_until(predicate, timeout=10, message=message))


def breaches(h: AppHarness, n: int) -> Callable[[], Awaitable[bool]]:
    async def enough() -> bool:
        async with h.client.app.state.sessions() as session:
            return (await session.exec(select(func.count()).select_from(SlaBreach))).one() >= n

    return enough


def create_repair(h: AppHarness, ref: Any) -> int:
    response = h.client.post("/api/console/v1/work-orders", headers=h.bearer(ref.agent), json={
        "kind": "repair", "description": "leak", "customer_id": ref.customer, "site_id": ref.site})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_alerts_show_deadlines_about_to_breach_and_breaches_with_the_time_left(harness: AppHarness) -> None:
    h = harness
    ref = h.seed()
    order_id = create_repair(h, ref)
    h.act(ref.agent, order_id, c.Dispatch(engineer_id=ref.eng_a.user_id))
    h.clock.advance(minutes=2, seconds=40)
    items = h.client.get(f"{SLA}/alerts", headers=h.bearer(ref.supervisor)).json()["items"]
    assert [(a["alert"], a["rule"], a["seconds_left"]) for a in items] == [("approaching", "acknowledge", 20.0)]
    h.clock.advance(seconds=30)
    wait(h, breaches(h, 1), "the loop fired the acknowledge deadline")
    [alert] = h.client.get(f"{SLA}/alerts", headers=h.bearer(ref.supervisor)).json()["items"]
    assert (alert["alert"], alert["rule"], alert["seconds_left"]) == ("breach", "acknowledge", -10.0)
    assert alert["escalation"] == "phone_engineer_and_manager" and alert["engineer_id"] == ref.eng_a.user_id
    wide = h.client.get(f"{SLA}/alerts", params={"margin_s": 3 * 3600}, headers=h.bearer(ref.agent)).json()
    assert {a["rule"] for a in wide["items"]} == {"acknowledge", "customer_contact", "status_feedback"}
    assert h.client.get(f"{SLA}/alerts", headers=h.bearer(ref.other_manager)).json()["items"] == []
    assert len(h.client.get(f"{SLA}/alerts", headers=h.bearer(ref.manager)).json()["items"]) == 1
    assert h.client.get(f"{SLA}/alerts", headers=h.bearer(ref.eng_a)).status_code == 403
    history = h.client.get(f"{SLA}/breaches", headers=h.bearer(ref.supervisor)).json()
    assert history["total"] == 1 and history["items"][0]["rule"] == "acknowledge"


def test_an_agent_works_the_escalation_task(harness: AppHarness) -> None:
    h = harness
    ref = h.seed()
    order_id = create_repair(h, ref)
    h.act(ref.agent, order_id, c.Dispatch(engineer_id=ref.eng_a.user_id))
    h.clock.advance(minutes=4)
    wait(h, breaches(h, 1), "the breach")
    [task] = h.client.get(f"{SLA}/escalations", headers=h.bearer(ref.agent)).json()["items"]
    assert task["action"] == "phone_engineer_and_manager" and task["task"] and task["state"] == "open"
    done = h.client.post(f"{SLA}/escalations/{task['id']}/done", headers=h.bearer(ref.agent),
                         json={"note": "engineer on his way"})
    assert done.status_code == 200 and done.json()["state"] == "done" and done.json()["done_by"] == ref.agent.user_id
    again = h.client.post(f"{SLA}/escalations/{task['id']}/done", headers=h.bearer(ref.agent), json={})
    assert (again.status_code, error_code(again)) == (409, "escalation-not-open")
    missing = h.client.post(f"{SLA}/escalations/999999/done", headers=h.bearer(ref.agent), json={})
    assert (missing.status_code, error_code(missing)) == (404, "escalation-not-found")


def test_policies_are_read_by_the_console_and_changed_by_supervisors(harness: AppHarness) -> None:
    h = harness
    ref = h.seed()
    table = h.client.get(f"{SLA}/policies", headers=h.bearer(ref.agent)).json()
    response = next(r for r in table["rules"] if r["rule"] == "response")
    assert response["zone_seconds"] == {"city": 86400, "suburb": 172800, "remote": 259200}
    assert table["follow_up_percent"]["installation"] == 30
    body = {"rule": "consultation_callback", "seconds": 3 * 3600}
    assert h.client.put(f"{SLA}/policies", headers=h.bearer(ref.agent), json=body).status_code == 403
    bad = h.client.put(f"{SLA}/policies", headers=h.bearer(ref.supervisor), json={"rule": "nope", "seconds": 5})
    assert (bad.status_code, error_code(bad)) == (422, "sla-rule-unknown")
    ok = h.client.put(f"{SLA}/policies", headers=h.bearer(ref.supervisor), json=body)
    assert ok.status_code == 200
    assert next(r for r in ok.json()["rules"] if r["rule"] == "consultation_callback")["seconds"] == 10800
    params = {"rule": "consultation_callback"}
    assert h.client.delete(f"{SLA}/policies", params=params, headers=h.bearer(ref.supervisor)).status_code == 200
    gone = h.client.delete(f"{SLA}/policies", params=params, headers=h.bearer(ref.supervisor))
    assert (gone.status_code, error_code(gone)) == (404, "sla-policy-not-found")


def _approved(h: AppHarness, ref: Any) -> int:
    order_id = create_repair(h, ref)
    h.act(ref.agent, order_id, c.Dispatch(engineer_id=ref.eng_a.user_id))
    now = h.clock.now()
    for command in (c.Acknowledge(), c.ContactCustomer(appointment_at=now + timedelta(hours=1)), c.Depart(),
                    c.Arrive(), c.Complete(report=report(now))):
        h.act(ref.eng_a, order_id, command)
    h.act(ref.agent, order_id, c.Approve())
    return order_id


def test_follow_up_work_list_and_result(harness: AppHarness) -> None:
    h = harness
    ref = h.seed()
    order_id = _approved(h, ref)
    listing = h.client.get(f"{SLA}/follow-ups", headers=h.bearer(ref.agent)).json()
    [task] = listing["items"]
    assert (listing["total"], task["work_order_id"], task["state"]) == (1, order_id, "open")
    bad = h.client.post(f"{SLA}/follow-ups/{task['id']}/result", headers=h.bearer(ref.agent),
                        json={"reachable": True, "satisfaction": 9, "resolved": True})
    assert (bad.status_code, error_code(bad)) == (422, "satisfaction-out-of-range")
    ok = h.client.post(f"{SLA}/follow-ups/{task['id']}/result", headers=h.bearer(ref.agent),
                       json={"reachable": True, "satisfaction": 4, "resolved": True, "note": "all good"})
    assert ok.status_code == 200 and ok.json()["state"] == "done" and ok.json()["result"]["satisfaction"] == 4
    order = h.client.get(f"/api/console/v1/work-orders/{order_id}", headers=h.bearer(ref.agent)).json()
    assert order["work_order"]["state"] == "followed_up"
    assert h.client.get(f"{SLA}/follow-ups", headers=h.bearer(ref.agent)).json()["total"] == 0


def test_the_daily_clearing_is_there_the_next_morning(harness: AppHarness) -> None:
    h = harness
    ref = h.seed()
    missing = h.client.get(f"{SLA}/clearing", headers=h.bearer(ref.supervisor))
    assert (missing.status_code, error_code(missing)) == (404, "clearing-not-found")
    order_id = create_repair(h, ref)
    h.clock.set(h.clock.now().replace(hour=8, minute=31))  # 16:31 in Shanghai: the loop runs the clearing

    async def cleared() -> bool:
        async with h.client.app.state.sessions() as session:
            return (await session.exec(select(DailyClearing.state))).first() == "done"

    wait(h, cleared, "the daily clearing ran")
    h.clock.advance(hours=16)  # the next morning
    body = h.client.get(f"{SLA}/clearing", headers=h.bearer(ref.supervisor)).json()
    assert body["day"] == "2026-03-02" and [i["work_order_id"] for i in body["items"]] == [order_id]
    assert body["items"][0]["urged_at"] is not None and body["urged"] == 1
    assert body["by_provider"] == [{"provider_id": None, "unfinished": 1, "overdue": 0,
                                    "numbers": [body["items"][0]["number"]]}]
    same = h.client.get(f"{SLA}/clearing", params={"day": "2026-03-02"}, headers=h.bearer(ref.manager))
    assert same.json()["id"] == body["id"]


def test_report_jobs_progress_and_downloads(harness: AppHarness) -> None:
    h = harness
    ref = h.seed()
    _approved(h, ref)
    started = h.client.post(f"{REPORTS}/jobs", headers=h.bearer(ref.supervisor),
                            json={"report": "providers", "period": "2026-03"})
    assert started.status_code == 202 and started.headers["location"].endswith(f"/jobs/{started.json()['id']}")
    job_id = started.json()["id"]

    async def done() -> bool:
        async with h.client.app.state.sessions() as session:
            return (await session.exec(select(ReportJob.state).where(ReportJob.id == job_id))).first() == "done"

    wait(h, done, "the report job finished")
    status = h.client.get(f"{REPORTS}/jobs/{job_id}", headers=h.bearer(ref.agent)).json()
    assert (status["progress"], status["rows"]) == (100, 1)
    data = h.client.get(f"{REPORTS}/jobs/{job_id}/data", headers=h.bearer(ref.manager)).json()
    assert data["totals"]["volume"] == 1 and data["chart"]["labels"] == ["Pudong"]
    as_csv = h.client.get(f"{REPORTS}/jobs/{job_id}/download", params={"format": "csv"}, headers=h.bearer(ref.agent))
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert "fieldline-providers-2026-03.csv" in as_csv.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["provider_id", "name", "volume"] and rows[1][2] == "1"
    as_xlsx = h.client.get(f"{REPORTS}/jobs/{job_id}/download", params={"format": "xlsx"}, headers=h.bearer(ref.agent))
    sheet = load_workbook(io.BytesIO(as_xlsx.content))["providers"]
    assert [cell.value for cell in sheet[2]][:3] == [ref.provider, "Pudong", 1]
    bad = h.client.post(f"{REPORTS}/jobs", headers=h.bearer(ref.agent), json={"report": "x", "period": "2026-03"})
    assert (bad.status_code, error_code(bad)) == (422, "report-unknown")
    bad = h.client.post(f"{REPORTS}/jobs", headers=h.bearer(ref.agent), json={"report": "providers", "period": "03"})
    assert (bad.status_code, error_code(bad)) == (422, "report-period-invalid")
    missing = h.client.get(f"{REPORTS}/jobs/99999", headers=h.bearer(ref.agent))
    assert (missing.status_code, error_code(missing)) == (404, "report-not-found")
    assert h.client.post(f"{REPORTS}/jobs", headers=h.bearer(ref.eng_a), json={}).status_code == 403
