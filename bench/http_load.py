"""The load client of ``bench.mobile_actions``: plays a plan of HTTP/1.1 requests against one
server, lane by lane, and reports every request's latency. Out of the server's process so that
the server's CPU per request is its own, and lean so that it is never the bottleneck: uvloop,
one keep-alive connection per lane, every request built as bytes before the clock starts,
responses parsed by ``httptools`` (llhttp, in C), no HTTP library's per-request machinery.

    python -m bench.http_load PLAN.json|- [--ready] [--timeout S]

The plan (a file, or ``-``: the first line of stdin) is JSON::

    {"host": "127.0.0.1", "port": 8000,
     "lanes": [[{"method": "POST", "path": "/x", "headers": {"Authorization": "Bearer ..."},
                 "body": "{...}"}, ...], ...]}

A lane's requests go one after the other on its connection (a phone acting on its orders); the
lanes run at once. ``{idempotency_key}`` in a header value becomes a fresh UUID per request (made
while building, before the clock starts). ``--ready``: connect every lane, print ``{"ready": N}``,
then wait for a line on stdin before the first request (the caller starts its own meters then).

Prints one JSON line: requests, errors (non-2xx) with the first few bodies, seconds (first request
to last response), every latency in ms and their percentiles, and the client's own CPU (seconds
and % of the elapsed time: near 100 % it would be the bottleneck). Anything but a complete,
Content-Length-framed, keep-alive response fails the run loudly (a traceback, exit status 1)."""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import time
import uuid
from typing import Any

import httptools
import uvloop

ERROR_SAMPLES = 5


class ProtocolFailure(RuntimeError):
    """The server said something the benchmark does not expect: the run is void."""


def build(plan: dict[str, Any]) -> list[list[bytes]]:
    host = f"{plan['host']}:{plan['port']}"
    lanes = []
    for lane in plan["lanes"]:
        built = []
        for request in lane:
            body = request.get("body", "")
            body_bytes = body.encode() if isinstance(body, str) else bytes(body)
            lines = [f"{request.get('method', 'GET')} {request['path']} HTTP/1.1", f"Host: {host}",
                     "User-Agent: fieldline-bench", "Accept: application/json"]
            for name, value in request.get("headers", {}).items():
                if "{idempotency_key}" in value:
                    value = value.replace("{idempotency_key}", str(uuid.uuid4()))
                lines.append(f"{name}: {value}")
            lines.append(f"Content-Length: {len(body_bytes)}")
            built.append(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body_bytes)
        lanes.append(built)
    return lanes


class Lane(asyncio.Protocol):
    """One connection: write a request, wait for its whole response, and so on."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[int] | None = None
        self.body: list[bytes] = []
        self.framed = False
        self.latencies: list[float] = []
        self.errors: list[tuple[int, str]] = []
        self.error_count = 0

    # --- the transport's side
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except (httptools.HttpParserError, ProtocolFailure) as exc:
            self._fail(ProtocolFailure(f"bad response: {exc!r}; data {data[:200]!r}"))

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ProtocolFailure(f"the server closed the connection ({exc!r})"))

    def _fail(self, exc: Exception) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(exc)
        if self.transport is not None:
            self.transport.abort()

    # --- httptools' callbacks
    def on_message_begin(self) -> None:
        if self.waiter is None:
            raise ProtocolFailure("a response nobody asked for")
        self.body.clear()
        self.framed = False

    def on_header(self, name: bytes, value: bytes) -> None:
        lowered = name.lower()
        if lowered == b"content-length":
            self.framed = True
        elif lowered == b"transfer-encoding":
            raise ProtocolFailure(f"unexpected Transfer-Encoding: {value!r}")

    def on_headers_complete(self) -> None:
        if not self.framed:
            raise ProtocolFailure("a response without Content-Length")
        if not self.parser.should_keep_alive():
            raise ProtocolFailure("the server will close the connection (no keep-alive)")

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        waiter, self.waiter = self.waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(self.parser.get_status_code())

    # --- the lane
    async def play(self, requests: list[bytes]) -> None:
        loop = asyncio.get_running_loop()
        latencies = self.latencies
        for request in requests:
            transport = self.transport
            if transport is None or transport.is_closing():
                raise ProtocolFailure("the connection is gone")
            self.waiter = waiter = loop.create_future()
            t0 = time.perf_counter()
            transport.write(request)
            status = await waiter
            latencies.append((time.perf_counter() - t0) * 1000)
            if not 200 <= status < 300:
                self.error_count += 1
                if len(self.errors) < ERROR_SAMPLES:
                    self.errors.append((status, b"".join(self.body).decode(errors="replace")[:500]))


def pct(values: list[float], p: float) -> float | None:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else None


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def run(plan: dict[str, Any], ready: bool, limit_s: float) -> dict[str, Any]:
    lanes = build(plan)
    loop = asyncio.get_running_loop()
    protocols: list[Lane] = []
    for _ in lanes:
        _, protocol = await loop.create_connection(Lane, plan["host"], plan["port"])
        protocols.append(protocol)
    if ready:
        print(json.dumps({"ready": len(protocols)}), flush=True)
        # Blocking on purpose: nothing else is due on this loop until the caller says go.
        if not sys.stdin.readline():
            raise SystemExit("stdin closed before go")
    c0, t0 = cpu_s(), time.perf_counter()
    async with asyncio.timeout(limit_s):
        await asyncio.gather(*(p.play(requests) for p, requests in zip(protocols, lanes, strict=True)))
    seconds, cpu = time.perf_counter() - t0, cpu_s() - c0
    for protocol in protocols:
        if protocol.transport is not None:
            protocol.transport.close()
    latencies = [ms for p in protocols for ms in p.latencies]
    return {
        "requests": len(latencies), "errors": sum(p.error_count for p in protocols),
        "error_samples": [e for p in protocols for e in p.errors][:ERROR_SAMPLES],
        "seconds": seconds, "lanes": len(lanes),
        "p50_ms": pct(latencies, 50), "p99_ms": pct(latencies, 99), "max_ms": max(latencies, default=None),
        "client_cpu_s": cpu, "client_cpu_pct": 100.0 * cpu / seconds if seconds else None,
        "latencies_ms": [round(ms, 3) for ms in latencies],
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.http_load")
    parser.add_argument("plan", help="the plan's JSON file, or - for the first line of stdin")
    parser.add_argument("--ready", action="store_true", help="connect, print {\"ready\": N}, wait for a line on stdin")
    parser.add_argument("--timeout", type=float, default=600.0, help="the whole run's limit, in seconds")
    args = parser.parse_args()
    if args.plan == "-":
        plan = json.loads(sys.stdin.readline())
    else:
        with open(args.plan, encoding="utf-8") as f:
            plan = json.load(f)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        result = runner.run(run(plan, args.ready, args.timeout))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
