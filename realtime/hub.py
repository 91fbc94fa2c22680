"""The hub: turns the ordered stream of committed events into per-channel states and deltas, and
fans them out. Telephony events update the live board (``backend.domain.telephony``) and each
channel recomputes only the paths a change touched; work-order and SLA events refresh the
dispatch board and the open alerts from the database (``backend.services.wallboard``); SLA
breaches, escalations and urges also go out at once as alert notices. Every broadcast is
serialized once. Synchronous on purpose: nothing here awaits a socket."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from backend.clock import Clock
from backend.domain.actors import Role
from backend.domain.telephony import dispatch_board, views
from backend.domain.telephony.board import Board, Change, StatsConfig
from backend.domain.telephony.facts import agent_from_facts, call_from_facts, queue_from_facts
from backend.events.telephony import AgentFacts, CallFacts, QueueFacts
from backend.ports import Envelope
from realtime import protocol
from realtime.channel import Channel, diff, get_path, op_for
from realtime.channels import may_subscribe
from realtime.connection import Connection
from realtime.mailbox import Frame

log = logging.getLogger(__name__)

CALL_EVENTS = frozenset({"CallJoined", "CallRinging", "CallAnswered", "CallAbandoned", "CallExited", "CallEnded",
                         "CallHandled", "CallLost"})
BOARD_KINDS = frozenset({"queues", "agents", "queue", "agent"})
SEEN_IDS = 50_000  # event ids remembered for dedupe (delivery upstream is at least once)


def is_alert(event_type: str) -> bool:
    """SLA breaches, escalations, deadlines about to fall due, urges: shown on ``alerts`` at once."""
    return event_type.startswith(("Sla", "Deadline", "Escalation")) or event_type == "WorkOrderUrged"


def new_epoch() -> str:
    return uuid.uuid4().hex[:12]


class Hub:
    def __init__(self, *, clock: Clock, stats: StatsConfig) -> None:
        self.clock = clock
        self.epoch = new_epoch()
        self.board = Board(stats, clock.now())
        self.channels: dict[str, Channel] = {}
        self.connections: dict[Connection, None] = {}
        self._seen: OrderedDict[str, None] = OrderedDict()
        # The pending flush and its loop time. The time is kept here: uvloop's ``call_at`` for an
        # instant already past returns a plain ``Handle``, which has no ``when()``.
        self._flush_handle: asyncio.Handle | None = None
        self._flush_at = 0.0
        self.pending_orders: set[int] = set()
        self.pending_alerts = False
        self.reload_wanted = asyncio.Event()  # the upkeep task reloads orders and alerts when set
        self.events_applied = 0
        self.frames_published = 0

    # --- state -----------------------------------------------------------------------------------

    def install(self, board: Board, orders: dict[str, Any], alerts: dict[str, Any], *, new_epoch_: bool) -> None:
        """Take a freshly loaded state (start-up, or after a gap in the stream). With a new epoch,
        every subscriber is told to resync and gets a snapshot."""
        self.board = board
        if new_epoch_:
            self.epoch = new_epoch()
        statics = {"queues": ("queues", None), "agents": ("agents", None), "alerts": ("alerts", None),
                   "work_orders": ("work_orders", None)}
        for name, (kind, arg) in statics.items():
            self.channels.setdefault(name, Channel(name, kind, arg, {}))
        for channel in self.channels.values():
            state = (orders if channel.kind == "work_orders" else alerts if channel.kind == "alerts"
                     else views.snapshot(board, channel.kind, channel.arg, self.clock.now()))
            channel.reset(state)
            for conn in channel.subscribers:
                conn.deliver(Frame(protocol.resync(channel.name, "reload"), channel.name, supersedes=True),
                             conflate=channel.conflated)
                self._send_snapshot(conn, channel)

    def channel(self, name: str) -> Channel:
        found = self.channels.get(name)
        if found is None:
            kind, arg = protocol.parse_channel(name)
            found = self.channels[name] = Channel(name, kind, arg,
                                                  views.snapshot(self.board, kind, arg, self.clock.now()))
        return found

    # --- the stream -------------------------------------------------------------------------------

    def accept(self, envelopes: Sequence[Envelope]) -> None:
        """Apply a batch of committed events, in order; repeats (same event id) are skipped."""
        now = self.clock.now()
        change = Change()
        notices: list[dict[str, Any]] = []
        for env in envelopes:
            if env.event_id in self._seen:
                continue
            self._seen[env.event_id] = None
            if len(self._seen) > SEEN_IDS:
                self._seen.popitem(last=False)
            self.events_applied += 1
            try:
                change.merge(self._apply(env, now))
            except (ValidationError, KeyError, TypeError, ValueError):
                log.warning("unreadable %s event %s skipped", env.type, env.event_id)
            if is_alert(env.type):
                notices.append({"event_id": env.event_id, "type": env.type, "at": protocol.iso(env.created_at),
                                "work_order_id": env.payload.get("work_order_id"), "data": env.payload})
                self.pending_alerts = True
            order_id = env.payload.get("work_order_id")
            if isinstance(order_id, int):
                self.pending_orders.add(order_id)
        if change:
            self.board_changed(change)
        alerts = self.channels.get("alerts")
        for notice in notices:
            if alerts is not None:
                self.publish(alerts, [protocol.notice_op(notice)])
        if self.pending_orders or self.pending_alerts:
            self.reload_wanted.set()

    def _apply(self, env: Envelope, now: datetime) -> Change:
        if env.type in CALL_EVENTS:
            return self.board.put_call(call_from_facts(CallFacts.model_validate(env.payload["call"])), now)
        if env.type == "AgentStateChanged":
            return self.board.put_agent(agent_from_facts(AgentFacts.model_validate(env.payload["agent"])))
        if env.type == "QueueConfigured":
            return self.board.put_queue(queue_from_facts(QueueFacts.model_validate(env.payload["queue"])))
        return Change()

    # --- deltas ----------------------------------------------------------------------------------

    def board_changed(self, change: Change) -> None:
        loop_now, now = asyncio.get_running_loop().time(), self.clock.now()
        for channel in list(self.channels.values()):
            if channel.kind not in BOARD_KINDS:
                continue
            paths = views.touched(self.board, change, channel.kind, channel.arg)
            if paths is None:
                self.publish(channel, diff(channel.state, views.snapshot(self.board, channel.kind, channel.arg, now)))
            elif paths:
                self._emit_paths(channel, channel.admit(paths, loop_now), loop_now, now)
        self._schedule_flush()

    def refresh_windows(self) -> None:
        """Rolling windows move with time: recompute the tiles (and move to a new day if due)."""
        now = self.clock.now()
        change = self.board.roll(now)
        change.queues.update(self.board.queue_codes())
        self.board_changed(change)

    def _emit_paths(self, channel: Channel, paths: Iterable[views.Path], loop_now: float, now: datetime) -> None:
        ops = []
        for path in paths:
            op = op_for(path, get_path(channel.state, path),
                        views.value_at(self.board, channel.kind, channel.arg, path, now))
            if op is not None:
                ops.append(op)
                channel.last_sent[path] = loop_now
        self.publish(channel, ops)

    def _schedule_flush(self) -> None:
        due = min((c.due for c in self.channels.values() if c.due is not None), default=None)
        if due is None:
            return
        loop = asyncio.get_running_loop()
        if self._flush_handle is not None:
            if self._flush_at <= due:
                return
            self._flush_handle.cancel()
        self._flush_handle, self._flush_at = loop.call_at(due, self._flush), due

    def _flush(self) -> None:
        self._flush_handle = None
        loop_now, now = asyncio.get_running_loop().time(), self.clock.now()
        for channel in list(self.channels.values()):
            ready = channel.take_due(loop_now)
            if ready:
                self._emit_paths(channel, ready, loop_now, now)
        self._schedule_flush()

    def publish(self, channel: Channel, ops: list[dict[str, Any]]) -> None:
        """Record a delta and hand it to every subscriber (serialized once)."""
        if not ops:
            return
        frame = channel.record(ops)
        self.frames_published += 1
        conflate = channel.conflated
        for conn in channel.subscribers:
            conn.deliver(frame, conflate=conflate)

    def set_orders(self, cards: dict[str, dict[str, Any] | None]) -> None:
        """The given orders' new cards (None: off the board). Costs what changed, not the size of
        the board: the counts move by the cards that moved."""
        channel = self.channels["work_orders"]
        orders = channel.state.get("orders", {})
        ops = []
        moved: list[tuple[dict[str, Any] | None, dict[str, Any] | None]] = []
        for key, card in cards.items():
            old = orders.get(key)
            op = op_for(("orders", key), views.MISSING if old is None else old, views.MISSING if card is None else card)
            if op is not None:
                ops.append(op)
                moved.append((old, card))
        counts = dispatch_board.moved_counts(channel.state.get("counts", {}), moved)
        if counts != channel.state.get("counts"):
            ops.append(protocol.set_op(("counts",), counts))
        self.publish(channel, ops)

    def set_alerts(self, open_alerts: list[Any]) -> None:
        channel = self.channels["alerts"]
        if open_alerts != channel.state.get("open"):
            self.publish(channel, [protocol.set_op(("open",), open_alerts)])

    # --- connections -----------------------------------------------------------------------------

    def attach(self, conn: Connection) -> None:
        self.connections[conn] = None

    def detach(self, conn: Connection) -> None:
        self.connections.pop(conn, None)
        for name in conn.subscriptions:
            channel = self.channels.get(name)
            if channel is not None:
                channel.subscribers.pop(conn, None)
        conn.subscriptions.clear()

    def member_queues(self, conn: Connection) -> set[str]:
        uid = conn.principal.user_id
        return self.board.member_queues(uid) if uid is not None and conn.principal.role is Role.AGENT else set()

    def subscribe(self, conn: Connection, req: protocol.Subscribe) -> None:
        name = req.channel
        kind, arg = protocol.parse_channel(name)
        refusal = None
        if name in conn.subscriptions:
            refusal = ("already-subscribed", f"already subscribed to {name}")
        elif len(conn.subscriptions) >= protocol.MAX_SUBSCRIPTIONS:
            refusal = ("too-many-subscriptions", f"at most {protocol.MAX_SUBSCRIPTIONS} subscriptions")
        elif not may_subscribe(conn.principal, name, self.member_queues(conn)):
            refusal = ("channel-forbidden", f"your role may not subscribe to {name}")
        elif kind == "queue" and arg not in self.board.queue_codes():
            refusal = ("channel-unknown", f"no queue {arg}")
        if refusal is not None:
            conn.control(protocol.error(*refusal, channel=name, fid=req.id))
            return
        channel = self.channel(name)
        channel.subscribers[conn] = None
        conn.subscriptions.add(name)
        if req.resume is None:
            self._send_snapshot(conn, channel, req.id)
            return
        reason = "epoch-changed" if req.resume.epoch != self.epoch else None
        missed = None if reason else channel.since(req.resume.seq)
        if reason is None and req.resume.seq > channel.seq:
            reason = "unknown-position"
        elif reason is None and missed is None:
            reason = "too-old"
        if reason is not None or missed is None:
            conn.deliver(Frame(protocol.resync(name, reason or "too-old"), name, supersedes=True),
                         conflate=channel.conflated)
            self._send_snapshot(conn, channel, req.id)
            return
        head = protocol.resumed(name, self.epoch, channel.seq, len(missed), req.id)
        conn.deliver(Frame(protocol.batch([head, *(f.text for f in missed)]), name, channel.seq),
                     conflate=channel.conflated)

    def _send_snapshot(self, conn: Connection, channel: Channel, fid: protocol.FrameId = None) -> None:
        text = protocol.snapshot_raw(channel.name, self.epoch, channel.seq, channel.state_json(), fid)
        conn.deliver(Frame(text, channel.name, channel.seq, supersedes=True), conflate=channel.conflated)

    def unsubscribe(self, conn: Connection, req: protocol.Unsubscribe) -> None:
        if req.channel not in conn.subscriptions:
            conn.control(protocol.error("not-subscribed", f"not subscribed to {req.channel}", channel=req.channel,
                                        fid=req.id))
            return
        conn.subscriptions.discard(req.channel)
        channel = self.channels[req.channel]
        channel.subscribers.pop(conn, None)
        conn.mailbox.drop_channel(req.channel)
        conn.control(protocol.unsubscribed(req.channel, req.id))

    def broadcast_control(self, text: str) -> None:
        for conn in list(self.connections):
            conn.control(text)
