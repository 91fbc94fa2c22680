"""The hub's wire protocol, version 1 (docs/realtime-protocol.md): close codes, client-frame
decoding, server-frame encoding, patch operations, and ``ClientMirror`` (what a browser does with
the frames). Pure: no I/O, no framework, no clock."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any

VERSION = 1
MAX_MESSAGE_BYTES = 65_536
MAX_SUBSCRIPTIONS = 64
MAX_NOTICES = 100  # kept by a client on the alerts channel
AUTH_TIMEOUT_S = 10.0


class Close(IntEnum):
    """WebSocket close codes, one name each (the reason string is ``close_reason(code)``)."""

    NORMAL = 1000
    ORIGIN_REJECTED = 1008
    MESSAGE_TOO_BIG = 1009
    INTERNAL_ERROR = 1011
    SERVER_RESTARTING = 1012
    NO_TOKEN = 4001
    AUTH_FAILED = 4002
    AUTH_EXPIRED = 4003
    PROTOCOL_ERROR = 4004
    FORBIDDEN = 4005
    LAGGING = 4008
    RATE_LIMITED = 4009
    UNSUPPORTED_VERSION = 4010


def close_reason(code: Close) -> str:
    return code.name.lower().replace("_", "-")


class ProtocolError(ValueError):
    """A malformed client frame: the connection is closed with ``Close.PROTOCOL_ERROR``."""


# --- channel names ------------------------------------------------------------------------------

STATIC_CHANNELS = ("queues", "agents", "alerts", "work_orders")
_QUEUE_CODE = re.compile(r"^[A-Za-z0-9_.\-]{1,32}$")


def parse_channel(name: str) -> tuple[str, str | int | None]:
    """``(kind, argument)`` of a syntactically valid channel name, else ``ProtocolError``:
    ``("queues", None)``, ``("queue", "hotline")``, ``("agent", 3)``."""
    if name in STATIC_CHANNELS:
        return name, None
    kind, sep, arg = name.partition(":")
    if sep and kind == "queue" and _QUEUE_CODE.match(arg):
        return "queue", arg
    if sep and kind == "agent" and arg.isdigit() and len(arg) <= 12:
        return "agent", int(arg)
    raise ProtocolError(f"not a channel name: {name[:80]!r}")


# --- client → server ----------------------------------------------------------------------------

FrameId = str | int | None


@dataclass(frozen=True, slots=True)
class Position:
    epoch: str
    seq: int


@dataclass(frozen=True, slots=True)
class Auth:
    token: str
    id: FrameId = None


@dataclass(frozen=True, slots=True)
class Subscribe:
    channel: str
    resume: Position | None = None
    id: FrameId = None


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    channel: str
    id: FrameId = None


@dataclass(frozen=True, slots=True)
class Ping:
    id: FrameId = None


ClientFrame = Auth | Subscribe | Unsubscribe | Ping
_ALLOWED = {"auth": {"op", "id", "token"}, "subscribe": {"op", "id", "channel", "resume"},
            "unsubscribe": {"op", "id", "channel"}, "ping": {"op", "id"}}


def _str_field(frame: dict[str, Any], name: str, max_len: int) -> str:
    value = frame.get(name)
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise ProtocolError(f"{frame.get('op')}: '{name}' must be a non-empty string of at most {max_len} characters")
    return value


def _frame_id(frame: dict[str, Any]) -> FrameId:
    value = frame.get("id")
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, str) and len(value) <= 64:
        return value
    raise ProtocolError("'id' must be an integer or a string of at most 64 characters")


def _position(value: Any) -> Position | None:
    if value is None:
        return None
    if (not isinstance(value, dict) or set(value) != {"epoch", "seq"} or not isinstance(value["epoch"], str)
            or len(value["epoch"]) > 64 or not isinstance(value["seq"], int) or isinstance(value["seq"], bool)
            or value["seq"] < 0):
        raise ProtocolError("'resume' must be {\"epoch\": string, \"seq\": non-negative integer}")
    return Position(value["epoch"], value["seq"])


def decode_client(text: str | bytes) -> ClientFrame:
    """One client message into a typed frame, or ``ProtocolError``."""
    if len(text) > MAX_MESSAGE_BYTES:
        raise ProtocolError("message too big")
    try:
        frame = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise ProtocolError("not JSON") from None
    if not isinstance(frame, dict):
        raise ProtocolError("a client message must be one JSON object")
    op = frame.get("op")
    if op not in _ALLOWED:
        raise ProtocolError(f"unknown op {str(op)[:32]!r}")
    unknown = set(frame) - _ALLOWED[op]
    if unknown:
        raise ProtocolError(f"{op}: unknown fields {sorted(unknown)}")
    fid = _frame_id(frame)
    if op == "auth":
        return Auth(_str_field(frame, "token", 4096), fid)
    if op == "subscribe":
        channel = _str_field(frame, "channel", 64)
        parse_channel(channel)
        return Subscribe(channel, _position(frame.get("resume")), fid)
    if op == "unsubscribe":
        channel = _str_field(frame, "channel", 64)
        parse_channel(channel)
        return Unsubscribe(channel, fid)
    return Ping(fid)


# --- server → client ----------------------------------------------------------------------------


def iso(instant: datetime | None) -> str | None:
    """The wire form of an instant: UTC, milliseconds, ``Z``."""
    if instant is None:
        return None
    return instant.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, set | frozenset | tuple):
        return sorted(value) if isinstance(value, set | frozenset) else list(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_default)


def _frame(op: str, fid: FrameId = None, **fields: Any) -> str:
    body: dict[str, Any] = {"op": op, **fields}
    if fid is not None:
        body["id"] = fid
    return dumps(body)


def hello(*, epoch: str, heartbeat_s: int, user: dict[str, Any], channels: Sequence[str]) -> str:
    return _frame("hello", v=VERSION, epoch=epoch, heartbeat_s=heartbeat_s, max_message_bytes=MAX_MESSAGE_BYTES,
                  user=user, channels=list(channels))


def auth_ok(expires_at: datetime, fid: FrameId = None) -> str:
    return _frame("auth_ok", fid, expires_at=iso(expires_at))


def snapshot(channel: str, epoch: str, seq: int, data: Any, fid: FrameId = None) -> str:
    return _frame("snapshot", fid, channel=channel, epoch=epoch, seq=seq, data=data)


def snapshot_raw(channel: str, epoch: str, seq: int, data_json: str, fid: FrameId = None) -> str:
    """A snapshot whose data is already serialized (one serialization per channel state, however
    many clients subscribe)."""
    return _frame("snapshot", fid, channel=channel, epoch=epoch, seq=seq)[:-1] + ',"data":' + data_json + "}"


def delta(channel: str, seq: int, ops: list[dict[str, Any]]) -> str:
    return _frame("delta", channel=channel, seq=seq, data=ops)


def resumed(channel: str, epoch: str, seq: int, replayed: int, fid: FrameId = None) -> str:
    return _frame("resumed", fid, channel=channel, epoch=epoch, seq=seq, replayed=replayed)


def resync(channel: str, reason: str) -> str:
    return _frame("resync", channel=channel, reason=reason)


def unsubscribed(channel: str, fid: FrameId = None) -> str:
    return _frame("unsubscribed", fid, channel=channel)


def error(code: str, message: str, *, channel: str | None = None, fid: FrameId = None) -> str:
    fields: dict[str, Any] = {"code": code, "message": message}
    if channel is not None:
        fields["channel"] = channel
    return _frame("error", fid, **fields)


def pong(ts: datetime, fid: FrameId = None) -> str:
    return _frame("pong", fid, ts=iso(ts))


def heartbeat(ts: datetime) -> str:
    return _frame("heartbeat", ts=iso(ts))


def batch(frames: Sequence[str]) -> str:
    """Several encoded frames as one message (a JSON array); one frame goes as itself."""
    return frames[0] if len(frames) == 1 else "[" + ",".join(frames) + "]"


# --- patch operations ---------------------------------------------------------------------------


def set_op(path: Sequence[str], value: Any) -> dict[str, Any]:
    return {"path": list(path), "value": value}


def delete_op(path: Sequence[str]) -> dict[str, Any]:
    return {"path": list(path), "delete": True}


def notice_op(notice: dict[str, Any]) -> dict[str, Any]:
    return {"notice": notice}


def apply_ops(state: dict[str, Any], ops: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Apply patch operations to a channel state in place (the browser's reducer) and return it."""
    for op in ops:
        if "notice" in op:
            notices = state.setdefault("notices", [])
            notices.append(op["notice"])
            del notices[:-MAX_NOTICES]
            continue
        *parents, last = op["path"]
        node = state
        for key in parents:
            node = node.setdefault(key, {})
        if op.get("delete"):
            node.pop(last, None)
        else:
            node[last] = op["value"]
    return state


def merge_ops(older: list[dict[str, Any]], newer: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One op list equivalent to applying ``older`` then ``newer`` (conflation: the latest value of
    each path wins; a path's earlier ops are dropped when a later op covers it or an ancestor)."""
    merged: list[dict[str, Any]] = []
    for op in [*older, *newer]:
        if "path" in op:
            path = op["path"]
            merged = [o for o in merged if "path" not in o or o["path"][:len(path)] != path]
        merged.append(op)
    return merged


# --- the client side, as a browser implements it (used by tests and benchmarks) -----------------


@dataclass
class ChannelView:
    epoch: str
    seq: int
    state: dict[str, Any]


@dataclass
class ClientMirror:
    """Feeds server messages into per-channel states exactly as docs/realtime-protocol.md says a
    client must: snapshot replaces, delta patches (stale seq dropped), resync forgets."""

    channels: dict[str, ChannelView] = field(default_factory=dict)
    frames: list[dict[str, Any]] = field(default_factory=list)

    def feed(self, message: str | bytes) -> list[dict[str, Any]]:
        decoded = json.loads(message)
        frames = decoded if isinstance(decoded, list) else [decoded]
        for frame in frames:
            self._apply(frame)
        self.frames.extend(frames)
        return frames

    def _apply(self, frame: dict[str, Any]) -> None:
        op, channel = frame["op"], frame.get("channel")
        if op == "snapshot":
            self.channels[channel] = ChannelView(frame["epoch"], frame["seq"], frame["data"])
        elif op == "delta":
            view = self.channels.get(channel)
            if view is not None and frame["seq"] > view.seq:
                apply_ops(view.state, frame["data"])
                view.seq = frame["seq"]
        elif op in ("resync", "unsubscribed"):
            self.channels.pop(channel, None)

    def position(self, channel: str) -> Position | None:
        view = self.channels.get(channel)
        return Position(view.epoch, view.seq) if view is not None else None

    def state(self, channel: str) -> dict[str, Any]:
        return self.channels[channel].state
