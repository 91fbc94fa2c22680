"""The benchmark's load client: N WebSockets in one process, on uvloop, each an ``asyncio.Protocol``
with a hand-rolled RFC 6455 reader (server frames are unmasked: a header, a length, the payload),
so that the client, not the server, is never the bottleneck (the ``websockets`` sans-I/O parser
costs several times more per frame). ``websockets`` only builds the opening handshake. Every
message carries its publish time; the client records receive - publish for each. Speaks our hub's
protocol, Django Channels (plain text frames) and Socket.IO v5 / Engine.IO v4. Prints one JSON
line when connected and one of results, with its own CPU use (to show it was not saturated).

    python -m bench.hub_client SYSTEM URL N [--token T] [--frozen K] [--quiet-s 1.5] [--max-drain-s 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import sys
import time

import uvloop
from websockets.client import ClientProtocol
from websockets.uri import parse_uri
from websockets.utils import apply_mask

# Our hub's messages are agent cards: the key (agent id) and the stamp, so the client can also check
# that every connection ends holding the latest value of every key (conflation may skip values, never
# the last one).
STAMP = {"fieldline": re.compile(rb'"id":(\d+),"interface":"[^"]*","name":"b(\d+\.\d+)"'),
         "channels": re.compile(rb'"ts": ?(\d+\.\d+)'), "socketio": re.compile(rb'"ts": ?(\d+\.\d+)'),
         "broadcast": re.compile(rb'"ts": ?(\d+\.\d+)')}
TEXT, CONTINUATION, CLOSE, PING, PONG = 0x1, 0x0, 0x8, 0x9, 0xA


def client_frame(opcode: int, payload: bytes) -> bytes:
    """One masked frame, as a client must send it."""
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        header = bytes([0x80 | opcode, 0x80 | n])
    elif n < 65536:
        header = bytes([0x80 | opcode, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        header = bytes([0x80 | opcode, 0x80 | 127]) + n.to_bytes(8, "big")
    return header + mask + apply_mask(payload, mask)


class Conn(asyncio.Protocol):
    def __init__(self, bench: Bench, url: str, frozen: bool) -> None:
        self.bench = bench
        self.uri = parse_uri(url)
        self.frozen = frozen
        self.transport: asyncio.Transport | None = None
        self.open = asyncio.get_running_loop().create_future()
        self.handshaken = False
        self.buffer = bytearray()
        self.fragments: list[bytes] = []
        self.received = 0
        self.latest: dict[bytes, float] = {}  # key → newest stamp received (our hub only)
        self.closed = False
        self.close_code: int | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment] - uvloop's transports are not asyncio.Transport
        if self.frozen:  # a frozen client reads almost nothing: its buffers fill as soon as the server writes
            sock = transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 2048)
        proto = ClientProtocol(self.uri)
        proto.send_request(proto.connect())
        transport.write(b"".join(proto.data_to_send()))  # type: ignore[attr-defined]

    def send(self, text: str) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(client_frame(TEXT, text.encode()))

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        if not self.handshaken:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buf[:end]).split(b"\r\n", 1)[0]
            del buf[:end + 4]
            self.handshaken = True
            ok = status.split(b" ")[1:2] == [b"101"]
            if not self.open.done():
                self.open.set_result(ok)
            if not ok:
                return
        now = time.time()
        pos, size = 0, len(buf)
        while size - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            n, h = b1 & 0x7F, 2
            if n == 126:
                if size - pos < 4:
                    break
                n, h = int.from_bytes(buf[pos + 2:pos + 4], "big"), 4
            elif n == 127:
                if size - pos < 10:
                    break
                n, h = int.from_bytes(buf[pos + 2:pos + 10], "big"), 10
            if size - pos < h + n:
                break
            payload = bytes(buf[pos + h:pos + h + n])
            pos += h + n
            self._frame(b0 & 0x80, b0 & 0x0F, payload, now)
        del buf[:pos]

    def _frame(self, fin: int, opcode: int, payload: bytes, now: float) -> None:
        if opcode in (TEXT, CONTINUATION):
            if not fin:
                self.fragments.append(payload)
                return
            if self.fragments:
                payload = b"".join((*self.fragments, payload))
                self.fragments.clear()
            self.bench.on_message(self, payload, now)
        elif opcode == PING and self.transport is not None:
            self.transport.write(client_frame(PONG, payload))
        elif opcode == CLOSE:
            self.closed = True
            self.close_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005

    def freeze(self) -> None:
        if self.transport is not None:
            self.transport.pause_reading()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if not self.open.done():
            self.open.set_result(False)


class Bench:
    def __init__(self, system: str) -> None:
        self.system = system
        self.stamp = STAMP[system]
        self.latencies: list[float] = []
        self.arrivals: list[float] = []
        self.frames = 0
        self.first: float | None = None
        self.last: float | None = None
        self.measuring = False

    def on_message(self, conn: Conn, data: bytes, now: float) -> None:
        if self.system == "socketio":
            if data == b"2":  # Engine.IO ping → pong
                conn.send("3")
                return
            if data.startswith(b"0"):  # Engine.IO open → Socket.IO connect to the default namespace
                conn.send("40")
                return
        self.frames += 1
        if not self.measuring:
            return
        stamps = self.stamp.findall(data)
        if not stamps or conn.frozen:
            return
        if isinstance(stamps[0], tuple):  # (key, stamp)
            for key, stamp in stamps:
                conn.latest[key] = max(conn.latest.get(key, 0.0), float(stamp))
            stamps = [stamp for _key, stamp in stamps]
        conn.received += len(stamps)
        self.latencies.extend(now - float(s) for s in stamps)
        self.arrivals.extend(now for _ in stamps)
        self.first = self.first or now
        self.last = now


async def connect_all(bench: Bench, url: str, n: int, frozen: int, subscribe: bool) -> list[Conn]:
    loop = asyncio.get_running_loop()
    parsed = parse_uri(url)
    conns: list[Conn] = []
    sem = asyncio.Semaphore(100)  # a connection storm, but not an unbounded one

    async def one(i: int) -> None:
        async with sem:
            conn = Conn(bench, url, i < frozen)
            await loop.create_connection(lambda: conn, parsed.host, parsed.port)
            if not await asyncio.wait_for(conn.open, 30):
                raise RuntimeError("handshake refused")
            if bench.system == "fieldline" and subscribe:
                conn.send(json.dumps({"op": "subscribe", "channel": "agents"}))
            conns.append(conn)

    await asyncio.gather(*(one(i) for i in range(n)))
    return conns


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def main(args: argparse.Namespace) -> None:
    bench = Bench(args.system)
    url = args.url + (f"?token={args.token}" if args.system == "fieldline" else "")
    conns = await connect_all(bench, url, args.n, args.frozen, not args.no_subscribe)
    await asyncio.sleep(2.0)  # snapshots and handshakes settle before measuring
    for conn in conns[:args.frozen]:
        conn.freeze()
    print(json.dumps({"connected": len(conns)}), flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.readline)  # "go": the publisher starts now
    bench.measuring = True
    cpu0, wall0 = time.process_time(), time.monotonic()
    await loop.run_in_executor(None, sys.stdin.readline)  # "published": drain until quiet
    give_up = time.monotonic() + args.max_drain_s  # what has not arrived by then counts as lost
    while time.monotonic() < give_up:
        before = bench.frames
        await asyncio.sleep(args.quiet_s)
        if bench.frames == before:
            break
    bench.measuring = False
    client_cpu_pct = 100.0 * (time.process_time() - cpu0) / max(1e-9, time.monotonic() - wall0)
    healthy = conns[args.frozen:]
    lat = [x * 1000 for x in bench.latencies]
    if lat and bench.first is not None:  # the tail after the first second (warm caches), for diagnosis
        warm = [x * 1000 for x, t in zip(bench.latencies, bench.arrivals, strict=True) if t > bench.first + 1.0]
    else:
        warm = []
    newest: dict[bytes, float] = {}
    for conn in healthy:
        for key, stamp in conn.latest.items():
            newest[key] = max(newest.get(key, 0.0), stamp)
    stale = sum(1 for c in healthy if any(c.latest.get(k) != v for k, v in newest.items())) if newest else None
    print(json.dumps({
        "received": sum(c.received for c in healthy), "frames": bench.frames, "stale_final": stale,
        "p50_ms": percentile(lat, 0.50), "p99_ms": percentile(lat, 0.99), "p999_ms": percentile(lat, 0.999),
        "max_ms": max(lat) if lat else None, "first": bench.first, "last": bench.last,
        "warm_p99_ms": percentile(warm, 0.99),
        "healthy": len(healthy), "healthy_closed": sum(c.closed for c in healthy),
        "frozen_closed": sum(c.closed for c in conns[:args.frozen]),
        "client_cpu_pct": round(client_cpu_pct, 1),
    }), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("system", choices=sorted(STAMP))
    parser.add_argument("url")
    parser.add_argument("n", type=int)
    parser.add_argument("--token", default="")
    parser.add_argument("--frozen", type=int, default=0)
    parser.add_argument("--quiet-s", type=float, default=1.5)
    parser.add_argument("--max-drain-s", type=float, default=20.0)
    parser.add_argument("--no-subscribe", action="store_true", help="authenticate only: idle connections")
    uvloop.run(main(parser.parse_args()))
