"""AMI packets → normalized commands, from the transcripts: the QueueStatus snapshot, an answered
and an abandoned call, member events, noise; and the commands are accepted by the state machines."""

from __future__ import annotations

from datetime import UTC, datetime

from backend.domain.telephony import agents as ag
from backend.domain.telephony import commands as c
from backend.domain.telephony.engine import Workset, step
from backend.domain.telephony.model import AgentState, CallState
from realtime.telephony.ami_events import AmiMapper, Mapped
from tests.unit.test_ami_protocol import load, parse

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def mapped(*names: str, mapper: AmiMapper | None = None, snapshot_id: str | None = None) -> Mapped:
    mapper = mapper or AmiMapper("s1")
    if snapshot_id:
        mapper.expect_snapshot(snapshot_id)
    out = Mapped()
    for name in names:
        for packet in parse(load(name, snapshot_id or "1"))[1]:
            m = mapper.handle(packet, NOW)
            out.commands += m.commands
            out.timers += m.timers
    return out


def apply(ws: Workset, commands: list[c.Command]) -> None:
    for command in commands:
        for interface in c.interfaces_of(command):
            ws.agents.setdefault(interface, ag.new_agent(len(ws.agents) + 1, interface, command.at))
        step(ws, command)


def test_queue_status_becomes_one_snapshot() -> None:
    [snapshot] = mapped("queue_status.txt", snapshot_id="fl-2").commands
    assert isinstance(snapshot, c.PbxSnapshot)
    assert snapshot.queues == ("hotline",)
    assert snapshot.entries == (c.WaitingEntry("1718031300.42", "hotline", "13800138000", 37.0),)
    assert snapshot.members == (c.Membership("PJSIP/8001", "hotline", "Agent Li", True, "Lunch", False),
                                c.Membership("PJSIP/8002", "hotline", "Agent Chen", False, "", False))
    ws = Workset()
    apply(ws, [snapshot])
    assert (ws.agents["PJSIP/8001"].state, ws.agents["PJSIP/8001"].reason) == (AgentState.PAUSED, "Lunch")
    assert ws.calls["1718031300.42"].joined_at == datetime(2026, 3, 2, 0, 59, 23, tzinfo=UTC)


def test_an_answered_call() -> None:
    mapper = AmiMapper("s1")
    mapped("queue_status.txt", mapper=mapper, snapshot_id="fl-2")  # learns PJSIP/8002's 15 s wrap-up
    out = mapped("answered_call.txt", mapper=mapper)
    assert [type(cmd).__name__ for cmd in out.commands] == ["JoinQueue", "RingAgent", "LeaveQueue", "AnswerCall",
                                                            "EndCall"]
    join = out.commands[0]
    assert isinstance(join, c.JoinQueue) and (join.call_id, join.queue, join.caller) == \
        ("1718031340.44", "hotline", "13900139000")
    end = out.commands[-1]
    assert isinstance(end, c.EndCall) and (end.reason, end.wrap_up) == ("caller", True)
    [timer] = out.timers
    assert (timer.interface, timer.delay_s) == ("PJSIP/8002", 15.0)
    ws = Workset()
    apply(ws, out.commands)
    assert ws.calls["1718031340.44"].state is CallState.WRAP_UP
    assert len({cmd.event_id for cmd in out.commands}) == 5  # stable, distinct ids


def test_an_abandoned_call() -> None:
    out = mapped("abandoned_call.txt")
    assert [type(cmd).__name__ for cmd in out.commands] == ["JoinQueue", "RingAgent", "RingNoAnswer",
                                                            "AbandonCall", "LeaveQueue"]
    ws = Workset()
    apply(ws, out.commands)
    assert ws.calls["1718031400.50"].state is CallState.ABANDONED


def test_member_events_with_timestamps() -> None:
    out = mapped("member_events.txt")
    names = [type(cmd).__name__ for cmd in out.commands]
    assert names == ["AgentLogin", "PauseAgent", "UnpauseAgent", "AgentLogout"]  # QueueMemberStatus: nothing
    pause = out.commands[1]
    assert isinstance(pause, c.PauseAgent) and pause.reason == "training"
    assert pause.at == datetime.fromtimestamp(1718031510.25, UTC)
    assert out.commands[0].at == NOW  # no Timestamp header: the time it was read
    ws = Workset()
    apply(ws, out.commands)
    assert ws.agents["PJSIP/8003"].state is AgentState.LOGGED_OUT


def test_noise_maps_to_nothing() -> None:
    mapper = AmiMapper("s1")
    assert mapped("noise.txt", mapper=mapper).commands == []
    assert mapper.unknown_events == 3


def test_list_items_of_another_action_are_not_the_snapshot() -> None:
    mapper = AmiMapper("s1")
    mapper.expect_snapshot("fl-9")
    assert mapped("queue_status.txt", mapper=mapper).commands == []  # ActionID 1, not fl-9
