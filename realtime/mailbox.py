"""A connection's outbound mailbox, used only while its socket is busy: frames wait here in order,
per channel on the conflated channels (a snapshot supersedes what was pending; runs of deltas are
merged: latest value per key wins), first-in first-out for everything else (alerts, control).
Bounded: overflowing means the client is lagging. Pure data structure, no I/O."""

from __future__ import annotations

import itertools
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from websockets.frames import Frame as WsFrame
from websockets.frames import Opcode

from realtime import protocol

MERGE_AFTER = 4  # pending deltas of one channel beyond this are merged into one


@dataclass
class Frame:
    text: str
    channel: str | None = None
    seq: int | None = None
    ops: list[dict[str, Any]] | None = None  # set on deltas: what a merge needs
    supersedes: bool = False  # a snapshot or resync: pending deltas of its channel are moot

    @property
    def is_delta(self) -> bool:
        return self.ops is not None

    @cached_property
    def wire(self) -> bytes:
        """The frame as a server sends it (text, unmasked): the same bytes for every socket, so a
        broadcast serializes it once."""
        return WsFrame(Opcode.TEXT, self.text.encode()).serialize(mask=False)


@dataclass
class _Slot:
    frames: list[Frame] = field(default_factory=list)


class Mailbox:
    def __init__(self, max_frames: int = 64, max_bytes: int = 256 * 1024) -> None:
        self.max_frames = max_frames
        self.max_bytes = max_bytes
        self._entries: OrderedDict[Any, Frame | _Slot] = OrderedDict()
        self._counter = itertools.count()
        self.frames = 0
        self.bytes = 0

    def __bool__(self) -> bool:
        return bool(self._entries)

    @property
    def overflowing(self) -> bool:
        return self.frames > self.max_frames or self.bytes > self.max_bytes

    def put(self, frame: Frame, *, conflate: bool) -> None:
        """Queue a frame. ``conflate``: the frame belongs to a conflated channel (ordered within
        its channel, deltas mergeable, a snapshot or resync drops what it supersedes)."""
        if not conflate or frame.channel is None:
            self._entries[next(self._counter)] = frame
            self._count(frame, +1)
            return
        slot = self._entries.get(frame.channel)
        if not isinstance(slot, _Slot):
            slot = self._entries[frame.channel] = _Slot()
        if frame.supersedes and all(f.is_delta for f in slot.frames):
            for old in slot.frames:
                self._count(old, -1)
            slot.frames.clear()
        slot.frames.append(frame)
        self._count(frame, +1)
        tail = [f for f in slot.frames if f.is_delta]
        if len(tail) > MERGE_AFTER and len(tail) == len(slot.frames):
            self._merge(slot)

    def _merge(self, slot: _Slot) -> None:
        ops: list[dict[str, Any]] = []
        for f in slot.frames:
            ops = protocol.merge_ops(ops, f.ops or [])
            self._count(f, -1)
        last = slot.frames[-1]
        assert last.channel is not None and last.seq is not None
        merged = Frame(protocol.delta(last.channel, last.seq, ops), last.channel, last.seq, ops)
        slot.frames = [merged]
        self._count(merged, +1)

    def _count(self, frame: Frame, sign: int) -> None:
        self.frames += sign
        self.bytes += sign * len(frame.text)

    def take(self, max_bytes: int = 256 * 1024) -> list[str]:
        """Remove and return frames in order, up to about ``max_bytes`` of text (at least one)."""
        out: list[str] = []
        size = 0
        while self._entries and (not out or size < max_bytes):
            key, entry = next(iter(self._entries.items()))
            if isinstance(entry, _Slot):
                while entry.frames and (not out or size < max_bytes):
                    frame = entry.frames.pop(0)
                    self._count(frame, -1)
                    out.append(frame.text)
                    size += len(frame.text)
                if entry.frames:
                    break
            else:
                self._count(entry, -1)
                out.append(entry.text)
                size += len(entry.text)
            del self._entries[key]
        return out

    def drop_channel(self, channel: str) -> None:
        slot = self._entries.pop(channel, None)
        if isinstance(slot, _Slot):
            for frame in slot.frames:
                self._count(frame, -1)
