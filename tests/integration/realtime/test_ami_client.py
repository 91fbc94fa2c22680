"""The AMI client against a fake Asterisk speaking the documented wire format: login and snapshot,
event sequences across split reads, unknown events and garbage, keep-alive, periodic re-snapshot,
reconnect after a drop or a refused login, the wrap-up timer, and console actions (QueuePause...);
then the whole path through the app to the wallboard."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest
from pydantic import SecretStr

from backend.clock import FrozenClock
from backend.domain.telephony import commands as c
from backend.settings import Settings
from realtime.telephony.ami import AmiClient, AmiConfig
from realtime.telephony.control import PbxActionFailed
from tests.integration.realtime.conftest import Live, start_live
from tests.integration.realtime.fake_ami import FakeAmi
from tests.integration.realtime.support import connect, token_of, wait_on_app
from tests.support.servers import free_port
from tests.support.waiting import wait_until
from tests.unit.test_ami_protocol import load

NOW = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


class Received:
    def __init__(self) -> None:
        self.commands: list[c.Command] = []

    async def __call__(self, commands: list[c.Command]) -> None:
        self.commands += commands

    def names(self) -> list[str]:
        return [type(cmd).__name__ for cmd in self.commands]


@pytest.fixture
async def fake() -> AsyncIterator[FakeAmi]:
    server = FakeAmi(wrapuptime="0.2")
    await server.start()
    yield server
    await server.stop()


async def running(fake: FakeAmi, received: Received, **config: float) -> tuple[AmiClient, asyncio.Task[None]]:
    cfg = AmiConfig(host="127.0.0.1", port=fake.port, username="wallboard", secret=config.pop("secret", "s3cret"),
                    backoff_min_s=0.05, backoff_max_s=0.2, **config)  # type: ignore[arg-type]
    client = AmiClient(cfg, received, FrozenClock(NOW))
    return client, asyncio.create_task(client.run())


async def stopped(task: asyncio.Task[None]) -> None:
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_login_and_snapshot(fake: FakeAmi) -> None:
    received = Received()
    client, task = await running(fake, received)
    await wait_until(lambda: received.commands, message="the snapshot")
    [snapshot] = received.commands
    assert isinstance(snapshot, c.PbxSnapshot) and len(snapshot.members) == 2
    assert client.connected.is_set()
    login = fake.named("Login")[0]
    assert (login["Username"], login["Events"]) == ("wallboard", "agent,call,system")
    await stopped(task)


async def test_event_sequences_across_split_reads(fake: FakeAmi) -> None:
    received = Received()
    _, task = await running(fake, received)
    await wait_until(lambda: received.commands)
    await fake.push(load("answered_call.txt") + load("noise.txt") + b"garbage line\r\n\r\n"
                    + load("abandoned_call.txt"), chunk=7)
    await wait_until(lambda: len(received.commands) == 11, message="11 commands")
    assert received.names()[1:] == ["JoinQueue", "RingAgent", "LeaveQueue", "AnswerCall", "EndCall",
                                    "JoinQueue", "RingAgent", "RingNoAnswer", "AbandonCall", "LeaveQueue"]
    await wait_until(lambda: "EndWrapUp" in received.names(), message="the wrap-up timer")  # 0.2 s wrap-up
    await stopped(task)


async def test_keepalive_and_periodic_snapshot(fake: FakeAmi) -> None:
    received = Received()
    client, task = await running(fake, received, ping_s=0.05, resnapshot_s=0.1)
    await wait_until(lambda: len(fake.named("Ping")) >= 3 and client.snapshots >= 2, message="pings and snapshots")
    assert fake.logins == 1
    await stopped(task)


async def test_reconnects_and_snapshots_again_after_a_drop(fake: FakeAmi) -> None:
    received = Received()
    client, task = await running(fake, received)
    await wait_until(lambda: client.snapshots == 1)
    await fake.drop()
    await wait_until(lambda: client.connections == 2 and client.snapshots == 2, timeout=10, message="reconnected")
    assert fake.logins == 2
    await stopped(task)


async def test_a_refused_login_is_retried_not_fatal(fake: FakeAmi) -> None:
    received = Received()
    client, task = await running(fake, received, secret="wrong")
    await wait_until(lambda: len(fake.named("Login")) >= 2, message="login retried")
    assert not client.connected.is_set() and received.commands == []
    await stopped(task)


async def test_console_actions_go_through_queuepause(fake: FakeAmi) -> None:
    received = Received()
    client, task = await running(fake, received)
    await client.connected.wait()
    await client.pause("PJSIP/8002", "coaching")
    pause = fake.named("QueuePause")[-1]
    assert (pause["Interface"], pause["Paused"], pause["Reason"]) == ("PJSIP/8002", "true", "coaching")
    await wait_until(lambda: "PauseAgent" in received.names())
    await client.logout("PJSIP/8002", ("hotline",))
    assert fake.named("QueueRemove")[-1]["Queue"] == "hotline"
    await stopped(task)
    with pytest.raises(PbxActionFailed):
        await client.unpause("PJSIP/8002")  # not connected any more


# --- through the app ---------------------------------------------------------------------------


@pytest.fixture
def with_pbx(request: pytest.FixtureRequest, settings: Settings) -> Iterator[tuple[Live, FakeAmi, object]]:
    """The app with its AMI client pointed at a fake Asterisk running on its own loop."""
    import threading

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    server = FakeAmi()
    port = asyncio.run_coroutine_threadsafe(server.start(free_port()), loop).result(5)
    request.param = "sqlite"
    try:
        for live in start_live(request, settings, ami_host="127.0.0.1", ami_port=port, ami_username="wallboard",
                               ami_secret=SecretStr("s3cret")):
            yield live, server, loop
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)


def test_the_pbx_reaches_the_wallboard_and_obeys_the_console(with_pbx: tuple[Live, FakeAmi, object]) -> None:
    live, server, loop = with_pbx
    h = live.harness
    hub = h.client.app.state.hub
    wait_on_app(h, lambda: "1718031300.42" in hub.board.calls, timeout=10, message="the PBX snapshot on the hub")
    with connect(h, token_of(h, "super")) as client:
        client.hello()
        snap = client.subscribe("queues")
        assert snap["data"]["queues"]["hotline"]["waiting"] == 1
        client.subscribe("agents")
        li = next(a for a in client.state("agents")["agents"].values() if a["interface"] == "PJSIP/8001")
        assert (li["state"], li["reason"]) == ("paused", "Lunch")
        assert h.client.app.state.pbx_control.name == "ami"
        response = h.client.post(f"/api/telephony/v1/agents/{li['id']}/unpause", headers=h.bearer("super"))
        assert (response.status_code, response.json()["relayed_to"]) == (202, "ami")
        client.wait_state("agents", lambda s: s["agents"][str(li["id"])]["state"] == "available")
        asyncio.run_coroutine_threadsafe(server.push(load("answered_call.txt")), loop).result(5)  # type: ignore[arg-type]
        client.wait_state("queues", lambda s: s["queues"]["hotline"]["windows"]["today"]["answered"] == 1)
