"""AMI packets → normalized telephony commands. Pure, with the little memory the mapping needs:
each member's wrap-up time (Asterisk sends no "wrap-up ended" event; the client times it) and the
``QueueStatus`` reply being collected into a PBX snapshot. Unknown events map to nothing."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from backend.domain.telephony import commands as c
from realtime.telephony.ami_protocol import Packet

CALL_EVENTS = frozenset({"queuecallerjoin", "queuecallerleave", "queuecallerabandon", "agentcalled", "agentconnect",
                         "agentcomplete", "agentringnoanswer", "agentdump"})


@dataclass(frozen=True)
class WrapUpTimer:
    """End ``interface``'s wrap-up ``delay_s`` after ``at`` (the PBX will not say so)."""

    interface: str
    delay_s: float
    at: datetime
    call_id: str


@dataclass
class Mapped:
    commands: list[c.Command] = field(default_factory=list)
    timers: list[WrapUpTimer] = field(default_factory=list)


def _when(packet: Packet, now: datetime) -> datetime:
    stamp = packet.get("Timestamp")
    try:
        return datetime.fromtimestamp(float(stamp), UTC) if stamp else now
    except ValueError:
        return now


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes")


def _float(value: str | None) -> float:
    try:
        return float(value or 0)
    except ValueError:
        return 0.0


def _caller(value: str | None) -> str:
    return "" if value in (None, "<unknown>", "unknown") else value[:64]


@dataclass
class _Collect:
    action_id: str
    queues: set[str] = field(default_factory=set)
    entries: list[c.WaitingEntry] = field(default_factory=list)
    members: list[c.Membership] = field(default_factory=list)


class AmiMapper:
    def __init__(self, session: str) -> None:
        self.session = session  # scopes the ids of events that carry no unique id of their own
        self._n = 0
        self.wrapup_s: dict[str, float] = {}
        self._collect: _Collect | None = None
        self.unknown_events = 0

    def _id(self, *parts: str) -> str:
        self._n += 1
        return ":".join((*parts, self.session, str(self._n)))[:160]

    def expect_snapshot(self, action_id: str, queues: tuple[str, ...] = ()) -> None:
        self._collect = _Collect(action_id, set(queues))

    def handle(self, packet: Packet, now: datetime) -> Mapped:
        out = Mapped()
        name = (packet.event or "").lower()
        if not name:
            return out
        collect = self._collect
        if collect is not None and packet.action_id == collect.action_id and name.startswith("queue"):
            self._collect_item(collect, name, packet, now, out)
            return out
        at = _when(packet, now)
        f = packet.lowered()
        if name in CALL_EVENTS:
            self._call_event(name, f, at, out)
        elif name in ("queuememberadded", "queuememberremoved", "queuememberpause", "queuememberstatus"):
            self._member_event(name, f, at, out)
        else:
            self.unknown_events += 1
        return out

    def _call_event(self, name: str, f: dict[str, str], at: datetime, out: Mapped) -> None:
        call_id, interface = f.get("uniqueid", ""), f.get("interface", "")
        if not call_id:
            return
        eid = f"{call_id}:{name}:{interface}"
        base = {"event_id": eid, "at": at, "call_id": call_id}
        if name == "queuecallerjoin":
            out.commands.append(c.JoinQueue(**base, queue=f.get("queue", ""), caller=_caller(f.get("calleridnum"))))
        elif name == "queuecallerleave":
            out.commands.append(c.LeaveQueue(**base))
        elif name == "queuecallerabandon":
            out.commands.append(c.AbandonCall(**base))
        elif name == "agentcalled" and interface:
            out.commands.append(c.RingAgent(**base, interface=interface))
        elif name in ("agentringnoanswer", "agentdump") and interface:
            out.commands.append(c.RingNoAnswer(**base, interface=interface))
        elif name == "agentconnect" and interface:
            out.commands.append(c.AnswerCall(**base, interface=interface))
        elif name == "agentcomplete":
            wrap = self.wrapup_s.get(interface, 0.0)
            out.commands.append(c.EndCall(**base, reason=f.get("reason", "")[:32], wrap_up=wrap > 0))
            if wrap > 0 and interface:
                out.timers.append(WrapUpTimer(interface, wrap, at, call_id))

    def _member_event(self, name: str, f: dict[str, str], at: datetime, out: Mapped) -> None:
        interface, queue = f.get("interface", ""), f.get("queue", "")
        if not interface:
            return
        if "wrapuptime" in f:
            self.wrapup_s[interface] = _float(f["wrapuptime"])
        eid = self._id(name, interface, queue)
        if name == "queuememberadded":
            paused = _flag(f.get("paused"))
            out.commands.append(c.AgentLogin(event_id=eid, at=at, interface=interface, name=f.get("membername", ""),
                                             queues=(queue,) if queue else (),
                                             paused_reason=f.get("pausedreason", "") if paused else None))
        elif name == "queuememberremoved":
            out.commands.append(c.AgentLogout(event_id=eid, at=at, interface=interface, queue=queue or None))
        elif name == "queuememberpause":
            if _flag(f.get("paused")):
                out.commands.append(c.PauseAgent(event_id=eid, at=at, interface=interface,
                                                 reason=f.get("pausedreason", "")[:64]))
            else:
                out.commands.append(c.UnpauseAgent(event_id=eid, at=at, interface=interface))
        # QueueMemberStatus only reports device state: calls and pauses have their own events.

    def _collect_item(self, collect: _Collect, name: str, packet: Packet, now: datetime, out: Mapped) -> None:
        f = packet.lowered()
        if name == "queueparams":
            collect.queues.add(f.get("queue", ""))
        elif name == "queuemember":
            interface = f.get("location") or f.get("interface") or f.get("stateinterface", "")
            if interface:
                self.wrapup_s[interface] = _float(f.get("wrapuptime"))
                collect.members.append(c.Membership(
                    interface=interface, queue=f.get("queue", ""), name=f.get("name") or f.get("membername", ""),
                    paused=_flag(f.get("paused")), reason=f.get("pausedreason", "")[:64],
                    in_call=_flag(f.get("incall"))))
        elif name == "queueentry" and f.get("uniqueid"):
            collect.entries.append(c.WaitingEntry(f["uniqueid"], f.get("queue", ""), _caller(f.get("calleridnum")),
                                                  _float(f.get("wait"))))
        elif name == "queuestatuscomplete":
            self._collect = None
            out.commands.append(c.PbxSnapshot(event_id=self._id("snapshot"), at=now, entries=tuple(collect.entries),
                                              members=tuple(collect.members),
                                              queues=tuple(sorted(q for q in collect.queues if q))))
