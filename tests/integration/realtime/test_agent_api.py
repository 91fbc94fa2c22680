"""Agent-state routes: agents set their own state, supervisors pause, unpause and log out an agent;
the request reaches the PBX control port (applied directly without a PBX, obeyed by the simulator)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from backend.domain.telephony import commands as c
from backend.persistence.tables_telephony import TelephonyAgent
from backend.settings import Settings
from tests.integration.realtime.conftest import Live, start_live
from tests.integration.realtime.support import cmd, connect, ingest, token_of, wait_on_app

BASE = "/api/telephony/v1/agents"


def link(live: Live, interface: str = "PJSIP/1001", username: str | None = "agent") -> int:
    ingest(live.harness, cmd(c.AgentLogin, live.harness.clock.now(), interface=interface, queues=("hotline",),
                             username=username))
    [row] = live.harness.rows(TelephonyAgent, TelephonyAgent.interface == interface)
    return row.id


def test_an_agent_sets_its_own_state(live: Live) -> None:
    h = live.harness
    agent_id = link(live)
    uid = live.ref.agent.user_id
    with connect(h, token_of(h, "agent")) as client:
        client.hello()
        client.subscribe(f"agent:{uid}")
        response = h.client.post(f"{BASE}/me/state", json={"state": "paused", "reason": "lunch"},
                                 headers=h.bearer("agent"))
        assert response.status_code == 202, response.text
        assert response.json() == {"agents": [{"agent_id": agent_id, "interface": "PJSIP/1001"}],
                                   "relayed_to": "direct"}
        client.wait_state(f"agent:{uid}", lambda s: s["agents"][str(agent_id)]["state"] == "paused")
        assert client.state(f"agent:{uid}")["agents"][str(agent_id)]["reason"] == "lunch"
        h.client.post(f"{BASE}/me/state", json={"state": "logged_out"}, headers=h.bearer("agent"))
        client.wait_state(f"agent:{uid}", lambda s: s["agents"][str(agent_id)]["state"] == "logged_out")
        h.client.post(f"{BASE}/me/state", json={"state": "available"}, headers=h.bearer("agent"))
        client.wait_state(f"agent:{uid}", lambda s: s["agents"][str(agent_id)]["state"] == "available")
    mine = h.client.get(f"{BASE}/me", headers=h.bearer("agent")).json()["agents"]
    assert [(a["id"], a["state"], a["queues"]) for a in mine] == [(agent_id, "available", ["hotline"])]


def test_an_unlinked_user_has_no_agent(live_sqlite: Live) -> None:
    h = live_sqlite.harness
    response = h.client.post(f"{BASE}/me/state", json={"state": "paused"}, headers=h.bearer("agent"))
    assert (response.status_code, response.json()["error"]["code"]) == (409, "agent-not-linked")


def test_supervisor_actions(live_sqlite: Live) -> None:
    h = live_sqlite.harness
    agent_id = link(live_sqlite, "PJSIP/1002", None)
    with connect(h, token_of(h, "super")) as client:
        client.hello()
        client.subscribe("agents")
        assert h.client.post(f"{BASE}/{agent_id}/pause", json={"reason": "coaching"},
                             headers=h.bearer("super")).status_code == 202
        client.wait_state("agents", lambda s: s["agents"][str(agent_id)]["reason"] == "coaching")
        assert h.client.post(f"{BASE}/{agent_id}/unpause", headers=h.bearer("super")).status_code == 202
        client.wait_state("agents", lambda s: s["agents"][str(agent_id)]["state"] == "available")
        assert h.client.post(f"{BASE}/{agent_id}/logout", headers=h.bearer("super")).status_code == 202
        client.wait_state("agents", lambda s: s["agents"][str(agent_id)]["state"] == "logged_out")
    refused = h.client.post(f"{BASE}/{agent_id}/pause", json={}, headers=h.bearer("super"))
    assert (refused.status_code, refused.json()["error"]["code"]) == (409, "agent-logged-out")
    assert h.client.post(f"{BASE}/999/pause", json={}, headers=h.bearer("super")).status_code == 404


@pytest.mark.parametrize("username", ["wall", "agent", "eng-a"])
def test_only_supervisors_act_on_others(live_sqlite: Live, username: str) -> None:
    h = live_sqlite.harness
    agent_id = link(live_sqlite, "PJSIP/1003", None)
    response = h.client.post(f"{BASE}/{agent_id}/pause", json={}, headers=h.bearer(username))
    assert (response.status_code, response.json()["error"]["code"]) == (403, "role-not-allowed")


@pytest.fixture
def simulated(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Live]:
    request.param = "sqlite"
    yield from start_live(request, settings, simulator=True, simulator_seed=4, simulator_agents=6)


def test_the_simulator_obeys_a_supervisor(simulated: Live) -> None:
    h = simulated.harness
    wait_on_app(h, lambda: h.client.app.state.pbx_control.name == "simulator")
    wait_on_app(h, lambda: len(h.client.app.state.hub.board.agents) == 6, message="the simulated agents")
    target = next(r for r in h.rows(TelephonyAgent) if r.state in ("available", "paused"))
    response = h.client.post(f"{BASE}/{target.id}/pause", json={"reason": "coaching"}, headers=h.bearer("super"))
    assert response.json()["relayed_to"] == "simulator"
    board = h.client.app.state.hub.board
    wait_on_app(h, lambda: board.agents[target.id].reason == "coaching", message="paused by the simulator")
