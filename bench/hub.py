"""Benchmark of the live feed: our hub in Redis (scaled) mode vs Django Channels + channels_redis vs
python-socketio + its Redis manager, and the floor (a bare ``websockets`` server forwarding a Redis
pub/sub channel with ``broadcast()``: what one write per socket costs on this machine), doing the
same job in the same run: N wallboards x M messages/s
of ~300-byte JSON. The server is pinned to CPU 0; Redis, the publisher and the load client (one
process, ``bench.hub_client``) to CPU 1. Reports p50/p99/p99.9 latency, deliveries/s, lost, server
CPU us per delivery, RSS per idle connection; for our hub also the saturation capacity and the
healthy clients' latency with 1 % of clients frozen. Peers: ``pip install -e '.[bench]'``.

Our hub's stats channels are conflated (latest value wins): a client that falls behind gets merged
deltas, so "lost" there counts superseded values; ``stale_final`` counts the clients whose last
value of some key is not the newest one (the promise is that it is 0). ``starved_pct`` is the time
the server's event loop was ready to run but its core was busy with other processes: on a shared
machine it, not the code, sets the latency. Figures and their reading: docs/performance.md.

    .venv/bin/python -m bench.hub [--clients 1000] [--rate 50] [--seconds 10] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.processes import (
    LOAD_CPU,
    PY,
    ROOT,
    SERVER_CPU,
    cpu_seconds,
    pinned,
    rss_kb,
    runqueue_wait_s,
    wait_port,
)
from tests.support.servers import free_port

FROZEN_SNDBUF = 8192  # the kernel doubles it: 16 KiB


@contextlib.contextmanager
def redis_server() -> Iterator[str]:
    exe = shutil.which("redis-server")
    if exe is None:
        raise SystemExit("redis-server is required (apt-get install redis-server)")
    port, workdir = free_port(), tempfile.mkdtemp(prefix="bench-redis-")
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", workdir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            preexec_fn=pinned(LOAD_CPU))
    try:
        wait_port(port)
        yield f"redis://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


@dataclass
class Run:
    system: str
    clients: int
    rate: float
    seconds: float
    frozen: int = 0
    sndbuf: int | None = None  # the server's SO_SNDBUF (None: the kernel's autotuning)
    subscribe: bool = True  # False: connections only authenticate (rate 0: a memory measurement)
    result: dict[str, Any] = field(default_factory=dict)


class Fieldline:
    name = "fieldline"

    def __init__(self, redis_url: str, workdir: Path) -> None:
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDLINE_")}
        self.env.update({"FIELDLINE_ENVIRONMENT": "test", "FIELDLINE_DATABASE_URL": f"sqlite+aiosqlite:///{workdir}/b.db",
                         "FIELDLINE_REDIS_URL": f"{redis_url}/1", "FIELDLINE_SIMULATOR": "false",
                         "FIELDLINE_LOG_LEVEL": "WARNING", "FIELDLINE_LOG_JSON": "false",
                         "FIELDLINE_WS_LAG_TIMEOUT_S": "2"})
        for command in ("migrate", "seed"):
            subprocess.run([PY, "-m", "fieldline", command], cwd=ROOT, env=self.env, check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.redis_url = f"{redis_url}/1"

    def start(self, port: int, sndbuf: int | None = None) -> subprocess.Popen[bytes]:
        # the app as ``fieldline serve`` runs it (uvloop, httptools, no permessage-deflate), on a given socket
        args = [PY, "-m", "tests.integration.realtime.processes", str(port)] + ([str(sndbuf)] if sndbuf else [])
        return subprocess.Popen(args, cwd=ROOT, env=self.env, preexec_fn=pinned(SERVER_CPU),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def url(self, port: int) -> str:
        return f"ws://127.0.0.1:{port}/ws"

    def token(self, port: int) -> str:
        return httpx.post(f"http://127.0.0.1:{port}/api/auth/login", timeout=30,
                          json={"username": "wallboard", "password": "wallboard-demo"}).json()["access_token"]


class Peer:
    def __init__(self, name: str, redis_url: str) -> None:
        self.name = name
        self.redis_url = f"{redis_url}/2"

    def start(self, port: int, sndbuf: int | None = None) -> subprocess.Popen[bytes]:
        return subprocess.Popen([PY, "-m", "bench.hub_peers", self.name, str(port), self.redis_url], cwd=ROOT,
                                preexec_fn=pinned(SERVER_CPU), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def url(self, port: int) -> str:
        return f"ws://127.0.0.1:{port}/ws" if self.name in ("channels", "broadcast") else \
            f"ws://127.0.0.1:{port}/socket.io/?EIO=4&transport=websocket"

    def token(self, port: int) -> str:
        return ""


def measure(system: Any, run: Run) -> dict[str, Any]:
    import redis

    redis.Redis.from_url(system.redis_url).flushdb()
    port = free_port()
    server = system.start(port, run.sndbuf)
    try:
        wait_port(port)
        if system.name == "fieldline":
            httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=60)
        warm_up(system, port)  # lazy imports and first-use caches are not per-connection memory
        time.sleep(1.0)
        base_rss = rss_kb(server.pid)
        args = [PY, "-m", "bench.hub_client", system.name, system.url(port), str(run.clients), "--token",
                system.token(port), "--frozen", str(run.frozen)] + ([] if run.subscribe else ["--no-subscribe"])
        client = subprocess.Popen(args, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  preexec_fn=pinned(LOAD_CPU), text=True)
        assert client.stdin is not None and client.stdout is not None
        connected = json.loads(client.stdout.readline())["connected"]
        idle_rss = rss_kb(server.pid)
        cpu0, load0, wait0 = cpu_seconds(server.pid), os.getloadavg()[0], runqueue_wait_s(server.pid)
        client.stdin.write("go\n")
        client.stdin.flush()
        if run.rate > 0:
            publisher = subprocess.run([PY, "-m", "bench.hub_publisher", system.name, system.redis_url,
                                        str(run.rate), str(run.seconds)], cwd=ROOT, capture_output=True, text=True,
                                       preexec_fn=pinned(LOAD_CPU), check=True)
            published = json.loads(publisher.stdout.strip().splitlines()[-1])
        else:
            published = {"sent": 0, "started_at": time.time(), "seconds": 0.0}
        sent, t0 = published["sent"], published["started_at"]
        client.stdin.write("published\n")
        client.stdin.flush()
        out = json.loads(client.stdout.readline())
        cpu, waited = cpu_seconds(server.pid) - cpu0, runqueue_wait_s(server.pid) - wait0
        if system.name == "fieldline":  # a frozen client never reads its close frame: ask the server
            out["frozen_closed"] = lagging_closed(port)
        client.wait(30)
        # deliveries/s over the publish window, stretched to the last late delivery (the server's real
        # rate when it falls behind); the publisher's own start-up is not part of it
        window = max(published["seconds"], (out["last"] or t0) - t0, 1e-3)
        healthy = out["healthy"]
        received = out["received"]
        return {
            "system": system.name + (f" (sndbuf {run.sndbuf // 1024} KB)" if run.sndbuf else ""),
            "clients": connected, "rate": run.rate, "frozen": run.frozen, "sent": sent,
            "publish_s": published["seconds"],
            "expected": sent * healthy, "received": received, "lost": sent * healthy - received,
            "delivered_pct": round(100.0 * received / max(1, sent * healthy), 2),
            "deliveries_per_s": round(received / window), "p50_ms": _r(out["p50_ms"]), "p99_ms": _r(out["p99_ms"]),
            "p999_ms": _r(out["p999_ms"]), "max_ms": _r(out["max_ms"]), "warm_p99_ms": _r(out["warm_p99_ms"]),
            "cpu_us_per_delivery": round(cpu * 1e6 / max(1, received), 1),
            "cpu_pct": round(100.0 * cpu / window, 1),
            # the event loop ready to run but its core busy with other processes: latency no code can fix
            "starved_pct": round(100.0 * waited / window, 1),
            "kb_per_idle_conn": round((idle_rss - base_rss) / max(1, connected), 1),
            "rss_idle_mb": round(idle_rss / 1024, 1), "frozen_closed": out["frozen_closed"],
            "healthy_closed": out["healthy_closed"], "client_cpu_pct": out["client_cpu_pct"],
            "stale_final": out["stale_final"],
            # other work on the machine (the benchmark itself adds ~2): above ~3 the server shares its core
            "loadavg": round(max(load0, os.getloadavg()[0]), 1),
        }
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


def lagging_closed(port: int) -> int:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10).text
    return sum(int(float(line.rsplit(" ", 1)[1])) for line in text.splitlines()
               if line.startswith('fieldline_ws_closed_total{code="4008"}'))


WARM_UP_STORM = 100  # = the load client's connection concurrency (bench.hub_client)


def warm_up(system: Any, port: int) -> None:
    """Open and close a storm of sockets as the load client will (100 at once): lazy imports,
    first-use caches and the pools that concurrency grows are paid once per process, not per
    connection, so they stay out of the memory-per-connection figure, for every system alike."""
    from websockets.asyncio.client import connect

    url = system.url(port) + (f"?token={system.token(port)}" if system.name == "fieldline" else "")

    async def one() -> None:
        async with connect(url, compression=None, open_timeout=60) as ws:
            if system.name == "fieldline":
                await ws.send(json.dumps({"op": "subscribe", "channel": "agents"}))
            if system.name not in ("channels", "broadcast"):  # these say nothing until a message is published
                async with asyncio.timeout(30):
                    await ws.recv()

    async def storm() -> None:
        await asyncio.gather(*(one() for _ in range(WARM_UP_STORM)))

    asyncio.run(storm())


def _r(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


COLUMNS = ["system", "clients", "rate", "frozen", "publish_s", "delivered_pct", "lost", "stale_final",
           "deliveries_per_s", "p50_ms", "p99_ms", "p999_ms", "max_ms", "warm_p99_ms", "cpu_us_per_delivery",
           "cpu_pct", "starved_pct", "kb_per_idle_conn", "frozen_closed", "healthy_closed", "client_cpu_pct",
           "loadavg"]


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(str(r.get(c)) for c in COLUMNS) + " |" for r in rows]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--saturation-rate", type=float, default=250.0)
    parser.add_argument("--frozen-rate", type=float, default=25.0,
                        help="msgs/s for the frozen-clients pair (below saturation, so p99 means something)")
    parser.add_argument("--peers", default="channels,socketio,broadcast")
    parser.add_argument("--quick", action="store_true", help="100 clients x 20 msgs/s for 3 s: a smoke run")
    args = parser.parse_args()
    if args.quick:
        args.clients, args.rate, args.seconds, args.saturation_rate, args.frozen_rate = 100, 20.0, 3.0, 100.0, 10.0
    peers = [p for p in args.peers.split(",") if p]
    rows: list[dict[str, Any]] = []
    with redis_server() as redis_url, tempfile.TemporaryDirectory(prefix="bench-hub-") as workdir:
        ours = Fieldline(redis_url, Path(workdir))
        main_run = measure(ours, Run("fieldline", args.clients, args.rate, args.seconds))
        rows.append(main_run)
        print(table(rows[-1:]), flush=True)
        saturated = measure(ours, Run("fieldline", args.clients, args.saturation_rate, min(args.seconds, 4.0)))
        rows.append(saturated)
        print(table(rows[-1:]), flush=True)
        # 300-byte messages take minutes to fill autotuned socket buffers: a small SO_SNDBUF makes a frozen
        # client back up within seconds. The baseline runs with the same buffer, so the comparison is fair.
        idle = measure(ours, Run("fieldline", args.clients, 0.0, 0.0, subscribe=False))
        idle["system"] = "fieldline (idle: authenticated, no subscription)"
        for key in ("cpu_us_per_delivery", "cpu_pct", "starved_pct", "deliveries_per_s", "delivered_pct"):
            idle[key] = None  # nothing was published: only the memory figure means something
        rows.append(idle)
        print(table(rows[-1:]), flush=True)
        frozen = max(1, args.clients // 100)
        # At a rate the server sustains with headroom: on a saturated core every p99 is queueing noise.
        baseline = measure(ours, Run("fieldline", args.clients, args.frozen_rate, args.seconds, sndbuf=FROZEN_SNDBUF))
        rows.append(baseline)
        print(table(rows[-1:]), flush=True)
        frozen_row = measure(ours, Run("fieldline", args.clients, args.frozen_rate, args.seconds, frozen=frozen,
                                       sndbuf=FROZEN_SNDBUF))
        rows.append(frozen_row)
        print(table(rows[-1:]), flush=True)
        peer_rows = []
        for name in peers:
            try:
                peer_rows.append(measure(Peer(name, redis_url), Run(name, args.clients, args.rate, args.seconds)))
                print(table(peer_rows[-1:]), flush=True)
            except (subprocess.CalledProcessError, ModuleNotFoundError, json.JSONDecodeError) as exc:
                print(f"{name}: skipped ({exc!r}); install the peers with pip install -e '.[bench]'", flush=True)
        rows += peer_rows
    print("\n" + table(rows))
    offered = int(args.saturation_rate * args.clients)
    print(f"\nsaturation: {saturated['deliveries_per_s']} deliveries/s with {offered}/s "
          f"offered (p99 {saturated['p99_ms']} ms, {saturated['stale_final']} clients ending on a stale value)")
    change = (frozen_row["p99_ms"] / baseline["p99_ms"] - 1) * 100 if baseline["p99_ms"] else 0.0
    print(f"frozen (at {args.frozen_rate:g} msgs/s): {frozen} of {args.clients} clients frozen, "
          f"{frozen_row['frozen_closed']} closed as lagging (4008); "
          f"healthy p99 {frozen_row['p99_ms']} ms vs {baseline['p99_ms']} ms ({change:+.0f} %), "
          f"healthy lost {frozen_row['lost']}, healthy closed {frozen_row['healthy_closed']}")
    print(f"memory: {idle['kb_per_idle_conn']} KB per idle connection (authenticated), "
          f"{main_run['kb_per_idle_conn']} KB per subscribed wallboard before the load (after its snapshot)")
    for row in peer_rows:
        ratio = {k: (row[k] / main_run[k] if main_run[k] and row[k] is not None else None) for k in
                 ("deliveries_per_s", "p99_ms", "cpu_us_per_delivery", "kb_per_idle_conn")}
        print(f"{row['system']} / fieldline: " + ", ".join(f"{k} x{v:.2f}" for k, v in ratio.items() if v))


if __name__ == "__main__":
    main()
