"""The Asterisk Manager Interface wire format, sans I/O: feed bytes, get packets. A packet is
``Key: Value`` lines ended by a blank line; the server first sends one banner line
(``Asterisk Call Manager/<version>``). Keys are matched case-insensitively, values may be empty,
keys may repeat; lines without a colon are ignored, so is an overlong line. Lines end in CRLF
(LF alone is accepted)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

BANNER_PREFIX = "Asterisk Call Manager/"
MAX_LINE = 16_384
MAX_HEADERS = 256


@dataclass(frozen=True)
class Packet:
    headers: tuple[tuple[str, str], ...]

    def get(self, key: str, default: str | None = None) -> str | None:
        wanted = key.lower()
        for k, v in self.headers:
            if k.lower() == wanted:
                return v
        return default

    def get_all(self, key: str) -> list[str]:
        wanted = key.lower()
        return [v for k, v in self.headers if k.lower() == wanted]

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    @property
    def event(self) -> str | None:
        return self.get("Event")

    @property
    def response(self) -> str | None:
        return self.get("Response")

    @property
    def action_id(self) -> str | None:
        return self.get("ActionID")

    def lowered(self) -> dict[str, str]:
        """First value of each key, keys lower-cased."""
        out: dict[str, str] = {}
        for k, v in self.headers:
            out.setdefault(k.lower(), v)
        return out


@dataclass
class AmiParser:
    """Incremental: ``feed`` returns the packets completed by the new bytes."""

    banner: str | None = None
    garbage_lines: int = 0
    _buffer: bytearray = field(default_factory=bytearray)
    _headers: list[tuple[str, str]] = field(default_factory=list)
    _skipping: bool = False  # inside an overlong line

    def feed(self, data: bytes) -> list[Packet]:
        self._buffer += data
        packets: list[Packet] = []
        for line in self._lines():
            packet = self._line(line)
            if packet is not None:
                packets.append(packet)
        return packets

    def _lines(self) -> Iterator[str]:
        while True:
            end = self._buffer.find(b"\n")
            if end < 0:
                if len(self._buffer) > MAX_LINE:  # drop it and the rest of that line
                    self._buffer.clear()
                    self._skipping = True
                return
            raw = bytes(self._buffer[:end]).rstrip(b"\r")
            del self._buffer[:end + 1]
            if self._skipping:
                self._skipping = False
                self.garbage_lines += 1
                continue
            if len(raw) > MAX_LINE:
                self.garbage_lines += 1
                continue
            yield raw.decode("utf-8", errors="replace")

    def _line(self, line: str) -> Packet | None:
        if self.banner is None and not self._headers and line.startswith(BANNER_PREFIX):
            self.banner = line
            return None
        if line == "":
            if not self._headers:
                return None
            packet, self._headers = Packet(tuple(self._headers)), []
            return packet
        key, sep, value = line.partition(":")
        if not sep or not key.strip() or " " in key.strip():
            self.garbage_lines += 1
            return None
        if len(self._headers) < MAX_HEADERS:
            self._headers.append((key.strip(), value.strip()))
        return None


def encode(action: str, action_id: str, **fields: str) -> bytes:
    """One action packet. Field names are written as given; CR and LF in values are removed."""
    lines = [f"Action: {action}", f"ActionID: {action_id}"]
    for key, value in fields.items():
        lines.append(f"{key}: {str(value).replace(chr(13), ' ').replace(chr(10), ' ')}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()
