"""The SLA engine on the live feed, through the whole app (embedded timer loop, outbox relay, hub) on
SQLite and PostgreSQL with an injected clock: a deadline entering its warning margin and then passing
shows on a supervisor's ``alerts`` channel (snapshot and deltas) with its due time, the breach arrives
as notices, and what the socket holds equals a fresh snapshot, also for a supervisor who joins late."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from backend.domain.work_orders import commands as c
from backend.services import sla_alerts, wallboard
from backend.settings import Settings
from tests.integration.realtime.support import Client, connect, token_of
from tests.support.apptest import AppHarness, migrated_settings, open_app


@pytest.fixture(params=["sqlite", "postgresql"])
def harness(request: pytest.FixtureRequest, settings: Settings) -> Iterator[AppHarness]:
    with migrated_settings(request, settings.model_copy(update={"sla_recheck_s": 0.05})) as s, open_app(s) as h:
        yield h


def _open(state: dict[str, Any]) -> list[tuple[str, str]]:
    return [(a["alert"], a["rule"]) for a in state.get("open", [])]


def _left(h: AppHarness, alert: dict[str, Any]) -> float:
    """The time left the wallboard counts down: the alert's due time minus the server's now."""
    return (datetime.fromisoformat(alert["due_at"]) - h.clock.now()).total_seconds()


def _fresh(h: AppHarness) -> list[Any]:
    return h.run_uow(lambda uow: wallboard.alerts_snapshot(uow, uow.now(), sla_alerts.open_alerts))["open"]


def _subscribed(client: Client) -> dict[str, Any]:
    client.hello()
    snapshot = client.subscribe("alerts")
    assert snapshot["op"] == "snapshot"
    return snapshot


def test_a_deadline_passing_shows_on_the_supervisors_alerts_channel(harness: AppHarness) -> None:
    h = harness
    ref = h.seed()
    response = h.client.post("/api/console/v1/work-orders", headers=h.bearer(ref.agent), json={
        "kind": "repair", "description": "leak", "customer_id": ref.customer, "site_id": ref.site})
    assert response.status_code == 201, response.text
    order_id = response.json()["id"]
    h.act(ref.agent, order_id, c.Dispatch(engineer_id=ref.eng_a.user_id))  # acknowledge within 3 min
    timers = h.client.app.state.sla_timers

    with connect(h, token_of(h, ref.supervisor.username)) as client:
        _subscribed(client)
        assert client.state("alerts")["open"] == []  # nothing inside its warning margin yet

        h.clock.advance(minutes=2, seconds=40)  # inside the 36 s warning of `acknowledge`
        timers.nudge()
        client.wait_state("alerts", lambda s: _open(s) == [("approaching", "acknowledge")])
        [approaching] = client.state("alerts")["open"]
        assert approaching["work_order_id"] == order_id and _left(h, approaching) == 20.0
        assert client.state("alerts")["open"] == _fresh(h)

        h.clock.advance(seconds=30)  # 10 s past due
        timers.nudge()
        client.wait_state("alerts", lambda s: _open(s) == [("breach", "acknowledge")])
        [breach] = client.state("alerts")["open"]
        assert breach["escalation"] == "phone_engineer_and_manager" and breach["engineer_id"] == ref.eng_a.user_id
        assert _left(h, breach) == -10.0  # overdue by 10 s
        client.wait_state("alerts", lambda s: {"SlaBreached", "SlaEscalated"} <= {n["type"] for n in s["notices"]})
        notices = {n["type"]: n for n in client.state("alerts")["notices"]}
        assert notices["SlaBreached"]["work_order_id"] == order_id
        assert notices["SlaBreached"]["data"]["breach_id"] == breach["breach_id"]
        assert notices["SlaEscalated"]["data"]["task"] is True
        assert client.state("alerts")["open"] == _fresh(h)

    with connect(h, token_of(h, ref.supervisor.username)) as late:  # joins after the breach
        _subscribed(late)
        assert _open(late.state("alerts")) == [("breach", "acknowledge")]
        assert late.state("alerts")["notices"] == []  # notices are not state

    # The engineer finally acknowledges: the breach is resolved and leaves the channel.
    h.act(ref.eng_a, order_id, c.Acknowledge())
    with connect(h, token_of(h, ref.supervisor.username)) as after:
        _subscribed(after)
        after.wait_state("alerts", lambda s: s["open"] == [])
    assert _fresh(h) == []


def test_a_deadline_met_inside_its_margin_leaves_the_channel(harness: AppHarness) -> None:
    h = harness
    ref = h.seed()
    response = h.client.post("/api/console/v1/work-orders", headers=h.bearer(ref.agent), json={
        "kind": "repair", "description": "leak", "customer_id": ref.customer, "site_id": ref.site})
    order_id = response.json()["id"]
    h.act(ref.agent, order_id, c.Dispatch(engineer_id=ref.eng_a.user_id))
    with connect(h, token_of(h, ref.supervisor.username)) as client:
        _subscribed(client)
        h.clock.advance(minutes=2, seconds=50)
        h.client.app.state.sla_timers.nudge()
        client.wait_state("alerts", lambda s: _open(s) == [("approaching", "acknowledge")])
        h.act(ref.eng_a, order_id, c.Acknowledge())
        client.wait_state("alerts", lambda s: s["open"] == [])
        assert _fresh(h) == [] and "SlaBreached" not in {n["type"] for n in client.state("alerts")["notices"]}
