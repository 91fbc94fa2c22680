"""One channel in one hub process: its state as the subscribers hold it, its ``seq``, a bounded
history of deltas for resume, its subscribers, and the per-key rate limit (a key changes on the
wire at most every ``RATE_S``: the first change goes at once, later ones within the interval
are merged into one, sent when the interval ends)."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

from backend.domain.telephony.views import MISSING, Path
from realtime import protocol
from realtime.channels import CONFLATED
from realtime.mailbox import Frame

if TYPE_CHECKING:
    from realtime.connection import Connection

HISTORY = 512  # deltas kept per channel for resume (the protocol promises at least 300)
RATE_S = 0.1  # at most 10 updates per second per key
MAP_SECTIONS = frozenset({"queues", "agents", "waiting", "members", "calls", "orders"})


def get_path(state: dict[str, Any], path: Path) -> Any:
    node: Any = state
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return MISSING
        node = node[key]
    return node


def op_for(path: Path, current: Any, value: Any) -> dict[str, Any] | None:
    """The patch operation that turns ``current`` into ``value`` at ``path`` (None: no change)."""
    if value is MISSING:
        return None if current is MISSING else protocol.delete_op(path)
    return None if current == value else protocol.set_op(path, value)


def diff(old: dict[str, Any], new: dict[str, Any]) -> list[dict[str, Any]]:
    """Operations turning one snapshot into another: per entry in the map sections, whole values
    elsewhere."""
    ops: list[dict[str, Any]] = [protocol.delete_op((k,)) for k in old if k not in new]
    for key, value in new.items():
        before = old.get(key, MISSING)
        if key in MAP_SECTIONS and isinstance(value, dict) and isinstance(before, dict):
            ops += [protocol.delete_op((key, k)) for k in before if k not in value]
            ops += [protocol.set_op((key, k), v) for k, v in value.items() if before.get(k, MISSING) != v]
        elif before != value:
            ops.append(protocol.set_op((key,), value))
    return ops


class Channel:
    def __init__(self, name: str, kind: str, arg: Any, state: dict[str, Any]) -> None:
        self.name = name
        self.kind = kind
        self.arg = arg
        self.conflated = kind in CONFLATED
        self.seq = 0
        self.state = state
        self.history: deque[Frame] = deque(maxlen=HISTORY)
        self.subscribers: dict[Connection, None] = {}  # an ordered set
        self._state_json: tuple[int, str] | None = None
        self.last_sent: dict[Path, float] = {}
        self.pending: dict[Path, None] = {}
        self.due: float | None = None

    def state_json(self) -> str:
        if self._state_json is None or self._state_json[0] != self.seq:
            self._state_json = (self.seq, protocol.dumps(self.state))
        return self._state_json[1]

    def record(self, ops: list[dict[str, Any]]) -> Frame:
        """A new delta: bump ``seq``, update the state (notices are not state), keep it for resume."""
        self.seq += 1
        protocol.apply_ops(self.state, [op for op in ops if "path" in op])
        frame = Frame(protocol.delta(self.name, self.seq, ops), self.name, self.seq, ops)
        self.history.append(frame)
        return frame

    def since(self, seq: int) -> list[Frame] | None:
        """The deltas after ``seq``, or None if the history no longer reaches back that far."""
        if seq >= self.seq:
            return []
        oldest = self.history[0].seq if self.history else self.seq + 1
        if seq + 1 < oldest:
            return None
        return [f for f in self.history if f.seq is not None and f.seq > seq]

    def reset(self, state: dict[str, Any]) -> None:
        """A new epoch: new state, history gone (subscribers are resynced by the hub)."""
        self.state = state
        self.seq = 0
        self.history.clear()
        self._state_json = None
        self.last_sent.clear()
        self.pending.clear()
        self.due = None

    # --- rate limit ------------------------------------------------------------------------------

    def admit(self, paths: set[Path], now: float) -> list[Path]:
        """The paths that may go now; the others wait in ``pending`` until ``due``."""
        ready: list[Path] = []
        for path in paths:
            last = self.last_sent.get(path)
            if last is None or now - last >= RATE_S:
                ready.append(path)
                self.pending.pop(path, None)
            else:
                self.pending[path] = None
                due = last + RATE_S
                self.due = due if self.due is None else min(self.due, due)
        return ready

    def take_due(self, now: float) -> list[Path]:
        if self.due is None or self.due > now:
            return []
        ready = [p for p in self.pending if now - self.last_sent.get(p, 0.0) >= RATE_S - 1e-9]
        for path in ready:
            del self.pending[path]
        self.due = min((self.last_sent[p] + RATE_S for p in self.pending if p in self.last_sent), default=None)
        if self.pending and self.due is None:
            self.due = now
        return ready
