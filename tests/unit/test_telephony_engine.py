"""Calls and agents driven by normalized commands: the answered and abandoned sequences, the PBX's
odd orderings, refusals that change nothing, reconciliation after a PBX restart, and random
command sequences that never break the invariants."""

from __future__ import annotations

import contextlib
import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend import errors
from backend.domain.telephony import agents as ag
from backend.domain.telephony import commands as c
from backend.domain.telephony.engine import Workset, step
from backend.domain.telephony.model import Activity, AgentState, CallState, Presence
from backend.domain.telephony.stats import Counts

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
_ids = itertools.count()


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def cmd(kind: type[c.Command], t: float, **fields: object) -> c.Command:
    return kind(event_id=f"e{next(_ids)}", at=at(t), **fields)  # type: ignore[arg-type]


def workset(*interfaces: str, logged_in: bool = True) -> Workset:
    ws = Workset()
    for i, interface in enumerate(interfaces, start=1):
        agent = ag.new_agent(i, interface, T0, name=f"Agent {i}")
        ws.agents[interface] = ag.login(agent, T0, ("hotline",)) if logged_in else agent
    return ws


def run(ws: Workset, *commands: c.Command) -> list[str]:
    ws.events.clear()
    for command in commands:
        step(ws, command)
    return [e.type for e in ws.events]


def test_answered_call_sequence() -> None:
    ws = workset("PJSIP/1", "PJSIP/2")
    types = run(ws,
                cmd(c.JoinQueue, 0, call_id="k1", queue="hotline", caller="139"),
                cmd(c.RingAgent, 1, call_id="k1", interface="PJSIP/1"),
                cmd(c.RingAgent, 1, call_id="k1", interface="PJSIP/2"),
                cmd(c.LeaveQueue, 8, call_id="k1"),  # the PBX reports "left the queue" just before the answer
                cmd(c.AnswerCall, 8, call_id="k1", interface="PJSIP/1"),
                cmd(c.EndCall, 100, call_id="k1", reason="caller"),
                cmd(c.EndWrapUp, 130, interface="PJSIP/1"))
    assert types == ["CallJoined", "CallRinging", "AgentStateChanged", "CallRinging", "AgentStateChanged",
                     "CallExited", "AgentStateChanged", "AgentStateChanged", "CallAnswered", "AgentStateChanged",
                     "CallEnded", "AgentStateChanged", "CallHandled", "AgentStateChanged"]
    call = ws.calls["k1"]
    assert call.state is CallState.HANDLED and call.agent_id == 1
    assert (call.wait_s, call.talk_s, call.wrap_s) == (8.0, 92.0, 30.0)
    a1, a2 = ws.agents["PJSIP/1"], ws.agents["PJSIP/2"]
    assert (a1.state, a1.since, a1.call_id) == (AgentState.AVAILABLE, at(130), None)
    assert (a2.state, a2.since) == (AgentState.AVAILABLE, at(8))  # stopped ringing when another answered


def test_abandon_then_leave_echo() -> None:
    ws = workset("PJSIP/1")
    types = run(ws, cmd(c.JoinQueue, 0, call_id="k1", queue="hotline"),
                cmd(c.RingAgent, 2, call_id="k1", interface="PJSIP/1"),
                cmd(c.AbandonCall, 9, call_id="k1"),
                cmd(c.LeaveQueue, 9, call_id="k1"))
    assert types == ["CallJoined", "CallRinging", "AgentStateChanged", "CallAbandoned", "AgentStateChanged"]
    assert ws.calls["k1"].state is CallState.ABANDONED and ws.calls["k1"].wait_s == 9.0
    assert ws.agents["PJSIP/1"].state is AgentState.AVAILABLE


def test_timeout_is_recorded_as_timed_out() -> None:
    ws = workset()
    run(ws, cmd(c.JoinQueue, 0, call_id="k1", queue="hotline"), cmd(c.AbandonCall, 300, call_id="k1", timeout=True))
    assert ws.calls["k1"].state is CallState.TIMED_OUT


def test_call_without_wrap_up_is_handled_when_it_ends() -> None:
    ws = workset("PJSIP/1")
    run(ws, cmd(c.JoinQueue, 0, call_id="k1", queue="hotline"),
        cmd(c.AnswerCall, 4, call_id="k1", interface="PJSIP/1"),
        cmd(c.EndCall, 64, call_id="k1", wrap_up=False))
    assert ws.calls["k1"].state is CallState.HANDLED and ws.calls["k1"].wrap_s == 0.0
    assert ws.agents["PJSIP/1"].state is AgentState.AVAILABLE


@pytest.mark.parametrize(("commands", "code"), [
    ([cmd(c.AnswerCall, 1, call_id="nope", interface="PJSIP/1")], "call-unknown"),
    ([cmd(c.JoinQueue, 0, call_id="k1", queue="hotline"), cmd(c.EndCall, 5, call_id="k1")],
     "call-transition-refused"),
    ([cmd(c.JoinQueue, 0, call_id="k1", queue="hotline"), cmd(c.JoinQueue, 1, call_id="k1", queue="other")],
     "call-already-joined"),
    ([cmd(c.PauseAgent, 1, interface="PJSIP/9", reason="lunch")], "agent-logged-out"),
])
def test_refusals_change_nothing(commands: list[c.Command], code: str) -> None:
    ws = workset("PJSIP/1")
    ws.agents["PJSIP/9"] = ag.new_agent(9, "PJSIP/9", T0)
    *ok, refused = commands
    run(ws, *ok)
    before = (dict(ws.calls), dict(ws.agents), len(ws.events))
    with pytest.raises(errors.DomainError) as raised:
        step(ws, refused)
    assert raised.value.code == code
    assert (dict(ws.calls), dict(ws.agents), len(ws.events)) == before


def test_repeated_join_is_ignored() -> None:
    ws = workset()
    assert run(ws, cmd(c.JoinQueue, 0, call_id="k1", queue="hotline"),
               cmd(c.JoinQueue, 1, call_id="k1", queue="hotline")) == ["CallJoined"]


def test_pause_reasons_and_time_in_state() -> None:
    ws = workset("PJSIP/1")
    run(ws, cmd(c.PauseAgent, 10, interface="PJSIP/1", reason="lunch"))
    agent = ws.agents["PJSIP/1"]
    assert (agent.state, agent.reason, agent.since) == (AgentState.PAUSED, "lunch", at(10))
    run(ws, cmd(c.PauseAgent, 20, interface="PJSIP/1", reason="lunch"))
    assert ws.agents["PJSIP/1"].since == at(10)  # same state, same reason: time in state keeps running
    run(ws, cmd(c.PauseAgent, 30, interface="PJSIP/1", reason="training"))
    assert ws.agents["PJSIP/1"].since == at(30)  # a new reason restarts it
    run(ws, cmd(c.UnpauseAgent, 40, interface="PJSIP/1"))
    assert (ws.agents["PJSIP/1"].state, ws.agents["PJSIP/1"].reason) == (AgentState.AVAILABLE, None)


def test_pause_requested_on_a_call_shows_after_the_call() -> None:
    ws = workset("PJSIP/1")
    run(ws, cmd(c.JoinQueue, 0, call_id="k1", queue="hotline"),
        cmd(c.AnswerCall, 1, call_id="k1", interface="PJSIP/1"),
        cmd(c.PauseAgent, 5, interface="PJSIP/1", reason="training"))
    assert ws.agents["PJSIP/1"].state is AgentState.ON_CALL
    run(ws, cmd(c.EndCall, 50, call_id="k1"))
    assert ws.agents["PJSIP/1"].state is AgentState.WRAP_UP
    run(ws, cmd(c.EndWrapUp, 60, interface="PJSIP/1"))
    assert (ws.agents["PJSIP/1"].state, ws.agents["PJSIP/1"].reason) == (AgentState.PAUSED, "training")


def test_pausing_from_wrap_up_ends_the_wrap_up() -> None:
    ws = workset("PJSIP/1")
    run(ws, cmd(c.JoinQueue, 0, call_id="k1", queue="hotline"),
        cmd(c.AnswerCall, 1, call_id="k1", interface="PJSIP/1"), cmd(c.EndCall, 61, call_id="k1"),
        cmd(c.PauseAgent, 70, interface="PJSIP/1", reason="after-call work"))
    assert ws.calls["k1"].state is CallState.HANDLED and ws.calls["k1"].wrap_s == 9.0
    assert ws.agents["PJSIP/1"].state is AgentState.PAUSED


def test_logout_from_one_queue_keeps_the_other() -> None:
    ws = workset("PJSIP/1")
    run(ws, cmd(c.AgentLogin, 1, interface="PJSIP/1", queues=("consultation",)))
    assert ws.agents["PJSIP/1"].queues == ("consultation", "hotline")
    run(ws, cmd(c.AgentLogout, 2, interface="PJSIP/1", queue="hotline"))
    assert (ws.agents["PJSIP/1"].state, ws.agents["PJSIP/1"].queues) == (AgentState.AVAILABLE, ("consultation",))
    run(ws, cmd(c.AgentLogout, 3, interface="PJSIP/1", queue="consultation"))
    assert (ws.agents["PJSIP/1"].state, ws.agents["PJSIP/1"].queues) == (AgentState.LOGGED_OUT, ())


def test_logout_of_everything_keeps_the_home_queues() -> None:
    ws = workset("PJSIP/1")
    run(ws, cmd(c.AgentLogout, 2, interface="PJSIP/1"))
    assert (ws.agents["PJSIP/1"].state, ws.agents["PJSIP/1"].queues) == (AgentState.LOGGED_OUT, ("hotline",))
    run(ws, cmd(c.AgentLogin, 3, interface="PJSIP/1"))
    assert (ws.agents["PJSIP/1"].state, ws.agents["PJSIP/1"].queues) == (AgentState.AVAILABLE, ("hotline",))


def test_pbx_restart_mid_call_reconciles() -> None:
    ws = workset("PJSIP/1", "PJSIP/2")
    run(ws, cmd(c.JoinQueue, 0, call_id="talking", queue="hotline"),
        cmd(c.AnswerCall, 5, call_id="talking", interface="PJSIP/1"),
        cmd(c.JoinQueue, 10, call_id="waiting", queue="hotline"),
        cmd(c.PauseAgent, 12, interface="PJSIP/2", reason="lunch"))
    # The PBX restarted: it knows one new caller (waited 4 s) and one member, PJSIP/2, not paused.
    types = run(ws, cmd(c.PbxSnapshot, 100,
                        entries=(c.WaitingEntry("fresh", "hotline", "138", 4.0),),
                        members=(c.Membership("PJSIP/2", "hotline", "Agent 2"),)))
    assert sorted(types) == sorted(["CallJoined", "CallLost", "CallLost", "AgentStateChanged", "AgentStateChanged"])
    talking, waiting, fresh = ws.calls["talking"], ws.calls["waiting"], ws.calls["fresh"]
    assert (talking.state, talking.end_reason, talking.talk_s) == (CallState.HANDLED, "lost", 95.0)
    assert (waiting.state, waiting.left_at) == (CallState.LOST, at(100))
    assert (fresh.state, fresh.joined_at) == (CallState.WAITING, at(96))
    assert ws.agents["PJSIP/1"].state is AgentState.LOGGED_OUT  # not a member any more
    assert ws.agents["PJSIP/2"].state is AgentState.AVAILABLE  # unpaused, as the PBX says
    assert run(ws, cmd(c.PbxSnapshot, 101, entries=(c.WaitingEntry("fresh", "hotline", "138", 5.0),),
                       members=(c.Membership("PJSIP/2", "hotline", "Agent 2"),))) == []  # nothing drifted


# --- random sequences ----------------------------------------------------------------------------

INTERFACES = ["PJSIP/1", "PJSIP/2", "PJSIP/3"]
CALLS = ["k1", "k2", "k3"]


def _command(draw: st.DrawFn, t: float) -> c.Command:
    kind = draw(st.sampled_from([c.JoinQueue, c.RingAgent, c.RingNoAnswer, c.AnswerCall, c.AbandonCall,
                                 c.LeaveQueue, c.EndCall, c.EndWrapUp, c.AgentLogin, c.AgentLogout, c.PauseAgent,
                                 c.UnpauseAgent]))
    call_id, interface = draw(st.sampled_from(CALLS)), draw(st.sampled_from(INTERFACES))
    fields: dict[str, object] = {
        c.JoinQueue: {"call_id": call_id, "queue": "hotline"},
        c.RingAgent: {"call_id": call_id, "interface": interface},
        c.RingNoAnswer: {"call_id": call_id, "interface": interface},
        c.AnswerCall: {"call_id": call_id, "interface": interface},
        c.AbandonCall: {"call_id": call_id, "timeout": draw(st.booleans())},
        c.LeaveQueue: {"call_id": call_id},
        c.EndCall: {"call_id": call_id, "wrap_up": draw(st.booleans())},
        c.EndWrapUp: {"interface": interface},
        c.AgentLogin: {"interface": interface, "queues": ("hotline",)},
        c.AgentLogout: {"interface": interface},
        c.PauseAgent: {"interface": interface, "reason": draw(st.sampled_from(["lunch", "training"]))},
        c.UnpauseAgent: {"interface": interface},
    }[kind]
    return kind(event_id="x", at=at(t), **fields)  # type: ignore[arg-type]


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_random_sequences_keep_the_invariants(data: st.DataObject) -> None:
    ws = workset(*INTERFACES, logged_in=False)
    for t in range(data.draw(st.integers(1, 40))):
        with contextlib.suppress(errors.DomainError):
            step(ws, _command(data.draw, float(t)))
    for agent in ws.agents.values():
        assert agent.state is ag.display_state(agent.presence, agent.activity)
        assert agent.reason is None or agent.presence is Presence.PAUSED  # the pause reason outlives a call
        assert (agent.activity is Activity.IDLE) == (agent.call_id is None)
    for call in ws.calls.values():
        assert call.ringing == () or call.state is CallState.WAITING
        if call.state in (CallState.TALKING, CallState.WRAP_UP, CallState.HANDLED):
            assert call.agent_id is not None and call.answered_at is not None
        for instant in (call.answered_at, call.left_at, call.ended_at, call.handled_at):
            assert instant is None or instant >= call.joined_at
    counts = Counts()
    for call in ws.calls.values():
        counts.add(call, 20, 5.0)
    waiting_or_talking = sum(1 for k in ws.calls.values() if k.state is CallState.WAITING)
    assert counts.offered == (counts.answered + counts.abandoned + counts.short_abandoned + counts.timed_out
                              + counts.exited + counts.lost + waiting_or_talking)
