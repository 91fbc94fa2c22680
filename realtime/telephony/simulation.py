"""A call center in miniature, pure and deterministic for a seed: Poisson arrivals per queue,
agents rung longest-idle first who answer (or not), talk, wrap up, pause with reasons and come
back, callers who abandon (some at once) or time out. ``advance(until)`` returns the normalized
commands that happened up to ``until``, in order; console requests (pause, log out...) are obeyed."""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from backend.domain.telephony import commands as c

QUEUES = ("hotline", "hotline-key", "consultation")
LINKED = (("agent1", "李娜 Li Na", ("hotline", "consultation")), ("agent2", "陈静 Chen Jing", ("hotline",)),
          ("agent3", "赵敏 Zhao Min", ("consultation",)))
_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
_GIVEN = ["伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英",
          "霞", "平", "刚", "桂英", "华", "建华", "晓东", "婷", "玉兰", "文", "辉", "鑫"]
_MIX = ((("hotline",), 3), (("hotline", "hotline-key"), 2), (("consultation",), 2), (("hotline", "consultation"), 2),
        (("hotline-key",), 1))
PAUSES = (("lunch", 0.25, 1800.0), ("training", 0.15, 900.0), ("meeting", 0.15, 600.0), ("break", 0.3, 300.0),
          ("after-call work", 0.15, 120.0))


@dataclass
class _Agent:
    interface: str
    name: str
    queues: tuple[str, ...]
    username: str | None = None
    state: str = "out"  # out | idle | ringing | talking | wrap | paused
    call: str | None = None
    idle_since: datetime | None = None
    after_call: str | None = None  # "pause:<reason>", "logout" or "unpause": asked for during a call


@dataclass
class _Call:
    call_id: str
    queue: str
    caller: str
    joined_at: datetime
    state: str = "waiting"  # waiting | ringing | talking | gone
    tried: set[str] = field(default_factory=set)


class Simulation:
    def __init__(self, *, start: datetime, seed: int = 1, agents: int = 36, calls_per_minute: float = 4.0,
                 queues: tuple[str, ...] = QUEUES, run_id: str | None = None) -> None:
        self.rng = random.Random(seed)
        self.now = start
        self.queues = queues
        self.rate_per_s = calls_per_minute / 60.0
        self.run_id = run_id or f"{start:%Y%m%d%H%M%S}s{seed}"
        self._ids = itertools.count(1)
        self._heap: list[tuple[datetime, int, Callable[[], None]]] = []
        self._out: list[c.Command] = []
        self.agents: dict[str, _Agent] = {}
        self.calls: dict[str, _Call] = {}
        for i in range(agents):
            if i < len(LINKED):
                username, name, qs = LINKED[i]
            else:
                username, name = None, self.rng.choice(_SURNAMES) + self.rng.choice(_GIVEN)
                qs = self._pick_queues()
            interface = f"PJSIP/{2001 + i}"
            self.agents[interface] = _Agent(interface, name, tuple(q for q in qs if q in queues) or queues[:1],
                                            username)
        self._opening()

    # --- plumbing --------------------------------------------------------------------------------

    def _pick_queues(self) -> tuple[str, ...]:
        total = sum(w for _, w in _MIX)
        pick = self.rng.uniform(0, total)
        for queues, weight in _MIX:
            pick -= weight
            if pick <= 0:
                return queues
        return _MIX[0][0]

    def _emit(self, kind: type[c.Command], **fields: object) -> None:
        self._out.append(kind(event_id=f"{self.run_id}-{next(self._ids)}", at=self.now, **fields))  # type: ignore[arg-type]

    def _at(self, delay_s: float, action: Callable[[], None]) -> None:
        heapq.heappush(self._heap, (self.now + timedelta(seconds=delay_s), next(self._ids), action))

    def next_time(self) -> datetime | None:
        return self._heap[0][0] if self._heap else None

    def advance(self, until: datetime) -> list[c.Command]:
        while self._heap and self._heap[0][0] <= until:
            when, _, action = heapq.heappop(self._heap)
            self.now = max(self.now, when)
            action()
        self.now = max(self.now, until)
        out, self._out = self._out, []
        return out

    # --- the day ---------------------------------------------------------------------------------

    def _opening(self) -> None:
        members = tuple(c.Membership(a.interface, q, a.name) for a in self.agents.values() for q in a.queues)
        self._emit(c.PbxSnapshot, members=members)  # whatever an earlier run left active is closed
        for agent in self.agents.values():
            self._emit(c.AgentLogin, interface=agent.interface, name=agent.name, queues=agent.queues,
                       username=agent.username)
            agent.state, agent.idle_since = "idle", self.now
            if self.rng.random() < 0.12:
                self._pause(agent, self._reason())
        for queue in self.queues:
            self._at(self.rng.expovariate(self.rate_per_s), lambda q=queue: self._arrival(q))

    def _reason(self) -> tuple[str, float]:
        pick = self.rng.random()
        for reason, weight, mean in PAUSES:
            pick -= weight
            if pick <= 0:
                return reason, mean
        return PAUSES[-1][0], PAUSES[-1][2]

    def _arrival(self, queue: str) -> None:
        call = _Call(f"sim-{self.run_id}-{next(self._ids)}", queue, f"13{self.rng.randrange(10**9):09d}", self.now)
        self.calls[call.call_id] = call
        self._emit(c.JoinQueue, call_id=call.call_id, queue=queue, caller=call.caller)
        quick = self.rng.random() < 0.1
        patience = self.rng.uniform(1.0, 4.9) if quick else self.rng.expovariate(1 / 120.0)
        if patience < 300:
            self._at(patience, lambda: self._give_up(call, timeout=False))
        else:
            self._at(300, lambda: self._give_up(call, timeout=True))
        self._at(self.rng.expovariate(self.rate_per_s), lambda: self._arrival(queue))
        self._dispatch()

    def _give_up(self, call: _Call, *, timeout: bool) -> None:
        if call.state not in ("waiting", "ringing"):
            return
        self._emit(c.AbandonCall, call_id=call.call_id, timeout=timeout)
        self._emit(c.LeaveQueue, call_id=call.call_id)
        for agent in self.agents.values():
            if agent.state == "ringing" and agent.call == call.call_id:
                self._idle(agent)
        call.state = "gone"
        self._dispatch()

    def _dispatch(self) -> None:
        """Ring the longest-idle free agent of each waiting caller's queue, oldest caller first."""
        for call in sorted((k for k in self.calls.values() if k.state == "waiting"), key=lambda k: k.joined_at):
            free = [a for a in self.agents.values() if a.state == "idle" and call.queue in a.queues
                    and a.interface not in call.tried]
            if not free:
                continue
            agent = min(free, key=lambda a: (a.idle_since or self.now, a.interface))
            call.state, call.tried = "ringing", call.tried | {agent.interface}
            agent.state, agent.call = "ringing", call.call_id
            self._emit(c.RingAgent, call_id=call.call_id, interface=agent.interface)
            if self.rng.random() < 0.92:
                self._at(self.rng.uniform(2.0, 6.0), lambda k=call, a=agent: self._answer(k, a))
            else:
                self._at(12.0, lambda k=call, a=agent: self._no_answer(k, a))

    def _answer(self, call: _Call, agent: _Agent) -> None:
        if call.state != "ringing" or agent.call != call.call_id:
            return
        self._emit(c.LeaveQueue, call_id=call.call_id)
        self._emit(c.AnswerCall, call_id=call.call_id, interface=agent.interface)
        call.state, agent.state = "talking", "talking"
        talk = math.exp(self.rng.gauss(math.log(100.0), 0.6))
        self._at(min(talk, 1800.0), lambda: self._hang_up(call, agent))

    def _no_answer(self, call: _Call, agent: _Agent) -> None:
        if call.state != "ringing" or agent.call != call.call_id:
            return
        self._emit(c.RingNoAnswer, call_id=call.call_id, interface=agent.interface)
        call.state = "waiting"
        self._idle(agent)

    def _hang_up(self, call: _Call, agent: _Agent) -> None:
        self._emit(c.EndCall, call_id=call.call_id, reason=self.rng.choice(("caller", "agent")))
        call.state, agent.state = "gone", "wrap"
        del self.calls[call.call_id]
        self._at(self.rng.uniform(5.0, 40.0), lambda: self._wrapped(agent))

    def _wrapped(self, agent: _Agent) -> None:
        if agent.state != "wrap":
            return
        pending, agent.after_call = agent.after_call, None
        if pending == "logout":
            self._emit(c.AgentLogout, interface=agent.interface)
            agent.state, agent.call = "out", None
            return
        if pending is not None and pending.startswith("pause:"):
            self._pause(agent, (pending[6:], 600.0), scheduled=False)
            return
        if self.rng.random() < 0.05:
            self._pause(agent, ("after-call work", 120.0))
            return
        self._emit(c.EndWrapUp, interface=agent.interface)
        self._idle(agent)

    def _idle(self, agent: _Agent) -> None:
        agent.state, agent.call, agent.idle_since = "idle", None, self.now
        pending, agent.after_call = agent.after_call, None
        if pending == "logout":
            self._emit(c.AgentLogout, interface=agent.interface)
            agent.state = "out"
        elif pending is not None and pending.startswith("pause:"):
            self._pause(agent, (pending[6:], 600.0), scheduled=False)
        elif self.rng.random() < 0.03:
            self._pause(agent, self._reason())
        else:
            self._dispatch()

    def _pause(self, agent: _Agent, reason: tuple[str, float], *, scheduled: bool = True) -> None:
        self._emit(c.PauseAgent, interface=agent.interface, reason=reason[0])
        agent.state, agent.call = "paused", None
        if scheduled:
            self._at(self.rng.expovariate(1 / reason[1]), lambda: self._resume(agent))

    def _resume(self, agent: _Agent) -> None:
        if agent.state != "paused":
            return
        self._emit(c.UnpauseAgent, interface=agent.interface)
        self._idle(agent)

    # --- console requests (the PBX control port) -------------------------------------------------

    def agent(self, interface: str) -> _Agent:
        found = self.agents.get(interface)
        if found is None:
            raise KeyError(interface)
        return found

    def request_pause(self, interface: str, reason: str) -> None:
        agent = self.agent(interface)
        if agent.state in ("talking", "wrap", "ringing"):
            agent.after_call = f"pause:{reason}"
            if agent.state == "ringing":
                return
        if agent.state in ("idle", "paused"):
            self._pause(agent, (reason, 600.0), scheduled=False)

    def request_unpause(self, interface: str) -> None:
        agent = self.agent(interface)
        agent.after_call = None if agent.after_call and agent.after_call.startswith("pause:") else agent.after_call
        if agent.state == "paused":
            self._emit(c.UnpauseAgent, interface=agent.interface)
            self._idle(agent)

    def request_logout(self, interface: str) -> None:
        agent = self.agent(interface)
        if agent.state in ("talking", "wrap", "ringing"):
            agent.after_call = "logout"
            return
        if agent.state != "out":
            self._emit(c.AgentLogout, interface=agent.interface)
            agent.state, agent.call = "out", None

    def request_login(self, interface: str) -> None:
        agent = self.agent(interface)
        if agent.state == "out":
            self._emit(c.AgentLogin, interface=agent.interface, name=agent.name, queues=agent.queues,
                       username=agent.username)
            self._idle(agent)
