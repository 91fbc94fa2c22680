"""Snapshot + events == fresh snapshot (Zulip's verify_action), for every event type the hub
consumes: subscribe (snapshot), act through the service, apply the deltas the way a browser does
(``ClientMirror``), and compare with a snapshot built fresh from the database."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlmodel import select

from backend.domain.telephony import commands as c
from backend.domain.work_orders import commands as woc
from backend.domain.work_orders.creation import NewWorkOrder
from backend.events import SlaBreached
from backend.persistence.tables import Outbox
from backend.services import telephony, wallboard
from backend.services import work_orders as svc
from backend.services.uow import UnitOfWork
from tests.integration.realtime.conftest import Live
from tests.integration.realtime.support import Client, cmd, connect, ingest, token_of

A1, A2 = "PJSIP/1001", "PJSIP/1002"


def t(live: Live, seconds: float) -> datetime:
    return live.harness.clock.now() - timedelta(seconds=600) + timedelta(seconds=seconds)


def setup_agents(live: Live) -> None:
    ingest(live.harness,
           cmd(c.AgentLogin, t(live, 0), interface=A1, name="Li Na", queues=("hotline", "consultation"),
               username=live.ref.agent.username),
           cmd(c.AgentLogin, t(live, 0), interface=A2, name="Chen Jing", queues=("hotline",)))


def join(live: Live, call: str = "k1", queue: str = "hotline", at: float = 10) -> c.Command:
    return cmd(c.JoinQueue, t(live, at), call_id=call, queue=queue, caller="13900139000")


# name: (commands before subscribing, commands after, the event type the act must emit)
Steps = Callable[[Live], list[c.Command]]
TELEPHONY: dict[str, tuple[Steps, Steps, str]] = {
    "joined": (lambda lv: [], lambda lv: [join(lv)], "CallJoined"),
    "ringing": (lambda lv: [join(lv)], lambda lv: [cmd(c.RingAgent, t(lv, 12), call_id="k1", interface=A1)],
                "CallRinging"),
    "answered": (lambda lv: [join(lv), cmd(c.RingAgent, t(lv, 12), call_id="k1", interface=A1)],
                 lambda lv: [cmd(c.AnswerCall, t(lv, 15), call_id="k1", interface=A1)], "CallAnswered"),
    "abandoned": (lambda lv: [join(lv)], lambda lv: [cmd(c.AbandonCall, t(lv, 40), call_id="k1")], "CallAbandoned"),
    "timed-out": (lambda lv: [join(lv)], lambda lv: [cmd(c.AbandonCall, t(lv, 310), call_id="k1", timeout=True)],
                  "CallAbandoned"),
    "exited": (lambda lv: [join(lv)], lambda lv: [cmd(c.LeaveQueue, t(lv, 20), call_id="k1")], "CallExited"),
    "ended": (lambda lv: [join(lv), cmd(c.AnswerCall, t(lv, 15), call_id="k1", interface=A1)],
              lambda lv: [cmd(c.EndCall, t(lv, 200), call_id="k1")], "CallEnded"),
    "handled": (lambda lv: [join(lv), cmd(c.AnswerCall, t(lv, 15), call_id="k1", interface=A1),
                            cmd(c.EndCall, t(lv, 200), call_id="k1")],
                lambda lv: [cmd(c.EndWrapUp, t(lv, 230), interface=A1)], "CallHandled"),
    "lost": (lambda lv: [join(lv), cmd(c.AnswerCall, t(lv, 15), call_id="k1", interface=A1), join(lv, "k2", at=20)],
             lambda lv: [cmd(c.PbxSnapshot, t(lv, 300), members=(c.Membership(A2, "hotline", "Chen Jing"),))],
             "CallLost"),
    "agent-paused": (lambda lv: [], lambda lv: [cmd(c.PauseAgent, t(lv, 50), interface=A2, reason="lunch")],
                     "AgentStateChanged"),
    "agent-logged-out": (lambda lv: [], lambda lv: [cmd(c.AgentLogout, t(lv, 50), interface=A1, queue="hotline")],
                         "AgentStateChanged"),
    "queue-configured": (lambda lv: [], lambda lv: [join(lv, "k9", queue="overflow")], "QueueConfigured"),
}


def channels_of(live: Live) -> list[tuple[str, str, Any]]:
    return [("queues", "queues", None), ("agents", "agents", None), ("queue:hotline", "queue", "hotline"),
            (f"agent:{live.ref.agent.user_id}", "agent", live.ref.agent.user_id)]


async def fresh(uow: UnitOfWork, settings: Any, kind: str, arg: Any) -> dict[str, Any]:
    config = telephony.stats_config(settings)
    return await wallboard.telephony_snapshot(uow, config, kind, arg, uow.now())


def outbox(live: Live) -> list[Outbox]:
    return sorted(live.harness.rows(Outbox), key=lambda r: r.id or 0)


def converges(client: Client, live: Live, channel: str, expected: Callable[[], dict[str, Any]]) -> None:
    """The mirrored state reaches the fresh snapshot (deltas may still be in flight)."""
    target = expected()
    try:
        client.wait_state(channel, lambda state: state == target, timeout=5)
    except TimeoutError:
        assert client.state(channel) == expected()  # show the difference


@pytest.mark.parametrize("scenario", sorted(TELEPHONY))
def test_telephony_events(live_sqlite: Live, scenario: str) -> None:
    live = live_sqlite
    before, act, event_type = TELEPHONY[scenario]
    h = live.harness
    setup_agents(live)
    if before(live):
        assert ingest(h, *before(live)).rejected == []
    with connect(h, token_of(h, "super")) as client:
        client.hello()
        for name, _, _ in channels_of(live):
            assert client.subscribe(name)["op"] == "snapshot"
        written = len(outbox(live))
        result = ingest(h, *act(live))
        assert (result.accepted, result.rejected) == (1, [])
        assert event_type in [row.type for row in outbox(live)[written:]]
        for name, kind, arg in channels_of(live):
            converges(client, live, name, lambda kind=kind, arg=arg: h.run_uow(
                lambda uow: fresh(uow, h.settings, kind, arg)))


def story(lv: Live) -> list[tuple[list[c.Command], str]]:
    """Every event type in turn, on one board."""
    def at(x: float) -> datetime:
        return t(lv, x)

    return [
        ([join(lv, "k1", at=10)], "CallJoined"),
        ([cmd(c.RingAgent, at(12), call_id="k1", interface=A1)], "CallRinging"),
        ([cmd(c.AnswerCall, at(15), call_id="k1", interface=A1)], "CallAnswered"),
        ([cmd(c.EndCall, at(100), call_id="k1")], "CallEnded"),
        ([cmd(c.EndWrapUp, at(120), interface=A1)], "CallHandled"),
        ([join(lv, "k2", at=130), cmd(c.AbandonCall, at(160), call_id="k2")], "CallAbandoned"),
        ([join(lv, "k3", at=130), cmd(c.AbandonCall, at(430), call_id="k3", timeout=True)], "CallAbandoned"),
        ([join(lv, "k4", at=140), cmd(c.LeaveQueue, at(150), call_id="k4")], "CallExited"),
        ([join(lv, "k5", at=440), cmd(c.AnswerCall, at(445), call_id="k5", interface=A1), join(lv, "k6", at=450),
          cmd(c.PbxSnapshot, at(460), members=(c.Membership(A2, "hotline", "Chen Jing"),))], "CallLost"),
        ([cmd(c.PauseAgent, at(470), interface=A2, reason="lunch")], "AgentStateChanged"),
        ([cmd(c.AgentLogout, at(480), interface=A2, queue="hotline")], "AgentStateChanged"),
        ([join(lv, "k9", queue="overflow", at=490)], "QueueConfigured"),
    ]


def test_one_story_through_every_event_type(live: Live) -> None:
    """On both databases: one subscription each, every event type in turn, converging after each."""
    h = live.harness
    setup_agents(live)
    with connect(h, token_of(h, "super")) as client:
        client.hello()
        for name, _, _ in channels_of(live):
            client.subscribe(name)
        for commands, event_type in story(live):
            written = len(outbox(live))
            assert ingest(h, *commands).rejected == []
            assert event_type in [row.type for row in outbox(live)[written:]]
            for name, kind, arg in channels_of(live):
                converges(client, live, name, lambda kind=kind, arg=arg: h.run_uow(
                    lambda uow: fresh(uow, h.settings, kind, arg)))


def test_every_telephony_event_type_is_covered() -> None:
    from backend.events import telephony as ev

    covered = {event for _, _, event in TELEPHONY.values()}
    declared = {cls.model_fields["type"].default for cls in vars(ev).values()
                if isinstance(cls, type) and issubclass(cls, ev.Event) and "type" in cls.model_fields
                and isinstance(cls.model_fields["type"].default, str)}
    assert declared <= covered


# --- work orders and alerts ----------------------------------------------------------------------


async def _create(uow: UnitOfWork, live: Live) -> int:
    order = await svc.create_work_order(uow, live.ref.agent, NewWorkOrder(
        kind="repair", description="hydraulic leak", customer_id=live.ref.customer, site_id=live.ref.site))
    return order.id


def test_work_order_events(live: Live) -> None:
    h = live.harness
    with connect(h, token_of(h, "super")) as client:
        client.hello()
        client.subscribe("work_orders")
        client.subscribe("alerts")

        def same() -> None:
            converges(client, live, "work_orders", lambda: h.run_uow(wallboard.work_orders_snapshot))

        order_id = h.run_uow(lambda uow: _create(uow, live))
        same()
        assert str(order_id) in client.state("work_orders")["orders"]
        h.act(live.ref.supervisor, order_id, woc.Dispatch(engineer_id=live.ref.eng_a.user_id))
        same()
        card = client.state("work_orders")["orders"][str(order_id)]
        assert (card["state"], card["deadline"]["kind"]) == ("dispatched", "acknowledge")
        h.act(live.ref.eng_a, order_id, woc.Acknowledge())
        same()
        h.act(live.ref.supervisor, order_id, woc.Urge(by="customer", note="called twice"))
        same()
        notice = client.find(lambda f: f.get("channel") == "alerts" and f["op"] == "delta")["data"][0]["notice"]
        assert (notice["type"], notice["work_order_id"]) == ("WorkOrderUrged", order_id)
        assert client.state("alerts")["notices"][-1]["event_id"] == notice["event_id"]
        h.act(live.ref.supervisor, order_id, woc.Cancel(reason="customer fixed it"))
        same()
        assert str(order_id) not in client.state("work_orders")["orders"]
        fresh_alerts = h.run_uow(lambda uow: wallboard.alerts_snapshot(uow, uow.now()))
        assert {k: v for k, v in client.state("alerts").items() if k != "notices"} == \
            {k: v for k, v in fresh_alerts.items() if k != "notices"}


async def _breach(uow: UnitOfWork, order_id: int) -> None:
    now = uow.now()
    uow.emit(SlaBreached(work_order_id=order_id, number="WO-1", rule="acknowledge", breach_id=1, deadline_id=1,
                         kind="acknowledge", due_at=now, detected_at=now, escalation="phone"))


def test_sla_events_are_never_conflated_notices(live_sqlite: Live) -> None:
    h = live_sqlite.harness
    order_id = h.run_uow(lambda uow: _create(uow, live_sqlite))
    with connect(h, token_of(h, "wall")) as client:
        client.hello()
        client.subscribe("alerts")
        for _ in range(12):  # a burst: every one arrives, in order, none merged
            h.run_uow(lambda uow: _breach(uow, order_id))
        seqs: list[int] = []
        while len(seqs) < 12:
            frame = client.until(lambda f: f.get("channel") == "alerts" and f["op"] == "delta")
            assert [op["notice"]["type"] for op in frame["data"]] == ["SlaBreached"]
            seqs.append(frame["seq"])
        assert seqs == list(range(seqs[0], seqs[0] + 12))


def test_outbox_rows_are_read_back(live_sqlite: Live) -> None:
    """Sanity: the telephony events the hub consumes are in the outbox, typed as declared."""
    h = live_sqlite.harness
    setup_agents(live_sqlite)
    types = [r.type for r in h.run(lambda s: _all(s))]
    assert types.count("AgentStateChanged") >= 2 and "QueueConfigured" not in types


async def _all(session: Any) -> list[Outbox]:
    return list((await session.exec(select(Outbox))).all())
