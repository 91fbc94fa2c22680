"""The simulator is deterministic for a seed, and everything it says happened is something the
call and agent state machines accept (no refusal in two simulated hours); console requests are
obeyed (a pause asked for during a call applies after it)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from backend import errors
from backend.domain.telephony import agents as ag
from backend.domain.telephony import commands as c
from backend.domain.telephony.engine import Workset, step
from backend.domain.telephony.model import AgentState, CallState
from realtime.telephony.simulation import Simulation

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def drive(sim: Simulation, minutes: int, ws: Workset | None = None) -> tuple[Workset, list[c.Command]]:
    ws = ws or Workset(users={"agent1": 11, "agent2": 12, "agent3": 13})
    emitted: list[c.Command] = []
    for minute in range(1, minutes + 1):
        commands = sim.advance(T0 + timedelta(minutes=minute))
        emitted += commands
        for command in commands:
            for interface in c.interfaces_of(command):
                if interface not in ws.agents:
                    ws.agents[interface] = ag.new_agent(len(ws.agents) + 1, interface, command.at)
            try:
                step(ws, command)
            except errors.DomainError as exc:
                raise AssertionError(f"{command} refused: {exc}") from exc
    return ws, emitted


def test_same_seed_same_day() -> None:
    a = drive(Simulation(start=T0, seed=7, agents=12, run_id="r"), 20)[1]
    b = drive(Simulation(start=T0, seed=7, agents=12, run_id="r"), 20)[1]
    c_ = drive(Simulation(start=T0, seed=8, agents=12, run_id="r"), 20)[1]
    assert a == b
    assert a != c_


def test_two_hours_are_accepted_by_the_state_machines() -> None:
    ws, emitted = drive(Simulation(start=T0, seed=3, agents=36, calls_per_minute=4.0), 120)
    kinds = Counter(type(cmd).__name__ for cmd in emitted)
    assert kinds["JoinQueue"] > 600  # ~4 a minute in each of 3 queues
    for kind in ("AnswerCall", "AbandonCall", "EndCall", "EndWrapUp", "PauseAgent", "UnpauseAgent", "RingNoAnswer"):
        assert kinds[kind] > 0, kind
    states = Counter(call.state for call in ws.calls.values())
    assert states[CallState.HANDLED] > 400 and states[CallState.ABANDONED] > 0
    linked = {a.user_id for a in ws.agents.values() if a.user_id is not None}
    assert linked == {11, 12, 13}
    assert len(ws.agents) == 36
    assert {a.state for a in ws.agents.values()} - {AgentState.LOGGED_OUT}  # people are working


def test_console_requests_are_obeyed() -> None:
    sim = Simulation(start=T0, seed=5, agents=6)
    ws, _ = drive(sim, 10)
    target = next(a for a in sim.agents.values() if a.state in ("idle", "paused"))
    sim.request_pause(target.interface, "coaching")
    ws, _ = drive(sim, 11, ws)
    assert (ws.agents[target.interface].state, ws.agents[target.interface].reason) == (AgentState.PAUSED, "coaching")
    sim.request_logout(target.interface)
    ws, _ = drive(sim, 12, ws)
    assert ws.agents[target.interface].state is AgentState.LOGGED_OUT
