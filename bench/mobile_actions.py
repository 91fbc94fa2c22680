"""Work-order actions per second of ONE server process, idempotency on, on a throwaway PostgreSQL
and on SQLite. Every action is a real mobile API request (``POST /api/mobile/v1/work-orders/{id}/
{action}`` with a fresh Idempotency-Key, an access token, a JSON body) over HTTP/1.1 to the app served
as ``fieldline serve`` serves it (uvicorn on uvloop and httptools, lifespan on, so the background
services run as in production: outbox relay, SLA timer loop, push loop, the hub's upkeep), on a clock
set to business hours (``bench.mobile_server``). Each request goes through the whole app: middleware,
auth, idempotency lock, look-up and stored response, the lifecycle rules, event log, outbox, audit,
SLA deadlines and push rows in one transaction. 16 lanes, each one phone doing its own orders' steps
in turn (acknowledge, contact, depart, arrive, then hold/resume three times); then 4 lanes on orders
of their own, on a fresh server (the latency without queueing behind 16 phones).

The peer, in the same run, on the same database, with the same client and lanes and three times the
requests: a bare Starlette endpoint doing one INSERT and its commit per request (the ceiling of "an
HTTP request that commits a row") served the same way, once through SQLAlchemy Core and once on the
driver as the product's hot statements run (``persistence.statements``). On PostgreSQL a third peer,
the floor (``bench.mobile_peers``): a bare endpoint sending the round trips of an action and nothing else
(BEGIN, the idempotency lock and look-up with the session check, the order's read and guarded UPDATE, one
INSERT of the event, outbox, audit and idempotency rows, COMMIT) on raw asyncpg: what the statements
of an action cost, so the rest of the product's cost is its own code.

How it is measured. Each system gets a server process of its own, pinned to CPU 0 (stopped with
SIGINT, as Ctrl-C stops ``fieldline serve``); the load client (``bench.http_load``: raw HTTP/1.1 on
keep-alive sockets, one per lane, requests pre-built as bytes, responses parsed by httptools),
PostgreSQL's processes and this process are pinned to CPU 1. Before the measured window the server
answers ``/readyz`` (the product) or its port, the engineers log in, and the first order of every
lane is played unmeasured (imports, caches, the pool grown to the lanes; the peers: 25 requests a
lane). In the window: requests/s and p50/p99 as the client sees them; the server's CPU per request
(utime + stime of the server process, all its threads, from ``/proc/<pid>/stat``: the app and its
background loops, no client); on PostgreSQL, SQL statements per request as PostgreSQL counts them
(``pg_stat_statements``, reset before the window, ``sum(calls)`` after, for the bench database, every
connection: the requests and the background loops; BEGIN/COMMIT/ROLLBACK included, since
``pg_stat_statements.track_utility`` is on by default, and shown apart: SQLAlchemy's
``before_cursor_execute`` census, used before, did not see them); on SQLite no statement count.
``starved`` is the share of the window the server's event loop was runnable but its core busy
(``/proc/<pid>/schedstat``): with another process, or on SQLite a little with the server's own
aiosqlite threads; a row with a large one measured the machine, not the code. The load average and
the client's own CPU (% of its core) are printed alongside.

Run: ``flock /tmp/bench.lock .venv/bin/python -m bench.mobile_actions [--actions N] [--concurrency N]
[--backend postgresql|sqlite|both] [--quick]`` (a few minutes; ``--quick``: a smoke run of 500 actions per
backend, short enough that the figures are noisy)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import glob
import json
import logging
import os
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvloop
from sqlalchemy import text

from backend.domain.work_orders import commands as c
from backend.domain.work_orders.creation import NewWorkOrder
from backend.persistence.db import create_engine, session_factory
from backend.persistence.migrate import upgrade
from backend.services import work_orders as svc
from backend.services.uow import UnitOfWorkFactory
from bench.mobile_peers import FLOOR_DDL, FLOOR_ORDERS, ceiling_ddl
from bench.mobile_server import BusinessHoursClock, settings_for
from bench.processes import (
    LOAD_CPU,
    PY,
    ROOT,
    SERVER_CPU,
    cpu_seconds,
    interrupts_held,
    pin_tree,
    pinned,
    runqueue_wait_s,
    started,
    terminate_as_interrupt,
)
from tests.support.factories import PASSWORD, Ref, seed
from tests.support.servers import Postgres, free_port, postgres_server

API = "/api/mobile/v1"
# One order's life on the phone: 4 steps to the site, then waiting for parts and back, 3 times.
STEPS = ["acknowledge", "contact", "depart", "arrive"] + ["hold", "resume"] * 3
TARGET = {"actions_per_s": 1000.0, "p99_ms": 50.0, "share_of_ceiling": 0.5}
LIGHT_LANES = 4  # a second, shorter run: the latency when few phones act at once
CLIENT_BUSY_PCT = 70.0  # a client busier than this on its core may be what sets the pace: say so
STARVED_PCT = 10.0  # a server kept off its core longer than this measured the machine, not the code


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")


@dataclass
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    cpu_s: float  # the server process's CPU in the window (app and its background loops; no client)
    statements: int | None  # PostgreSQL's count in the window (None: not counted)
    transaction_control: int | None  # of which BEGIN/COMMIT/ROLLBACK/SAVEPOINT/RELEASE
    starved_s: float  # the server's event loop runnable, its core busy elsewhere
    loadavg: float
    client_cpu_s: float

    @property
    def per_s(self) -> float:
        return self.requests / self.seconds

    @property
    def client_pct(self) -> float:
        return 100 * self.client_cpu_s / self.seconds

    def line(self) -> str:
        if self.statements is None or self.transaction_control is None:
            statements = "   - statements/req              "
        else:
            statements = (f"{self.statements / self.requests:4.1f} statements/req "
                          f"({self.transaction_control / self.requests:3.1f} BEGIN/COMMIT)")
        return (f"{self.name:<34} {self.per_s:7.0f} req/s   p50 {pct(self.latencies_ms, 50):6.1f} ms   "
                f"p99 {pct(self.latencies_ms, 99):6.1f} ms   server CPU {1000 * self.cpu_s / self.requests:5.2f} "
                f"ms/req   {statements}   ({self.requests:,} requests, {self.errors} errors, "
                f"{self.seconds:.1f} s)   starved {100 * self.starved_s / self.seconds:4.1f} %   "
                f"load {self.loadavg:.1f}   client CPU {self.client_pct:3.0f} %")


def body_of(step: str, now: datetime) -> dict[str, Any]:
    return {
        "contact": {"appointment_at": (now + timedelta(hours=2)).isoformat()},
        "arrive": {"position": {"lat": 31.2001, "lon": 121.5001, "accuracy_m": 12}},
        "hold": {"reason": "waiting_for_parts", "note": "seal on order"},
    }.get(step, {})


# --- the setup, in this process ------------------------------------------------------------------

async def create_orders(uows: UnitOfWorkFactory, ref: Ref, count: int) -> list[tuple[int, str]]:
    """``count`` repairs dispatched to the two engineers in turn: (order id, engineer username)."""
    orders: list[tuple[int, str]] = []
    engineers = [ref.eng_a, ref.eng_b]
    for start in range(0, count, 50):
        async with uows() as uow:
            for i in range(start, min(count, start + 50)):
                engineer = engineers[i % 2]
                order = await svc.create_work_order(uow, ref.agent, NewWorkOrder(
                    kind="repair", description=f"hydraulic pump leaking #{i}", customer_id=ref.customer,
                    site_id=ref.site))
                await svc.act(uow, ref.agent, order.id, c.Dispatch(engineer_id=engineer.user_id))
                orders.append((order.id, engineer.username))
            await uow.commit()
    return orders


async def migrated(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def prepared(url: str, clock: BusinessHoursClock, count: int) -> list[tuple[int, str]]:
    """The schema, the seed (users, customer, site), ``count`` dispatched orders, the peer's table."""
    await migrated(url)
    engine = create_engine(url)
    uows = UnitOfWorkFactory(session_factory(engine), clock, calendar=settings_for(url).calendar)
    try:
        async with uows() as uow:
            ref = await seed(uow.session, uow.now())
            await uow.commit()
        made = await create_orders(uows, ref, count)
        async with engine.begin() as conn:
            await conn.execute(text(ceiling_ddl(engine.dialect.name)))
            if engine.dialect.name == "postgresql":
                for ddl in FLOOR_DDL:
                    await conn.execute(text(ddl))
        return made
    finally:
        await engine.dispose()


# --- PostgreSQL's own count of statements --------------------------------------------------------

def pg_stat_statements_installed() -> bool:
    return any(Path(p).parent.parent.joinpath("lib", "pg_stat_statements.so").exists()
               for p in glob.glob("/usr/lib/postgresql/*/bin/initdb"))


_COUNT = r"""
SELECT coalesce(sum(calls), 0)::bigint,
       coalesce(sum(calls) FILTER (WHERE query ~* '^\s*(BEGIN|COMMIT|ROLLBACK|START|SAVEPOINT|RELEASE|END)\M'),
                0)::bigint
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND query NOT LIKE '%pg_stat_statements%'"""  # not the census's own reset and count


class Census:
    """``pg_stat_statements`` of the bench database, read on a connection of this process."""

    def __init__(self, runner: asyncio.Runner, conn: Any) -> None:
        self.runner, self.conn = runner, conn

    @classmethod
    def open(cls, runner: asyncio.Runner, pg: Postgres, database: str) -> Census | None:
        import asyncpg

        async def connect() -> Any:
            conn = await asyncpg.connect(pg.url(database).replace("+asyncpg", ""))
            try:
                await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
                await conn.fetch("SELECT 1 FROM pg_stat_statements LIMIT 1")
            except Exception:
                await conn.close()
                raise
            return conn

        try:
            return cls(runner, runner.run(connect()))
        except Exception as exc:  # the column is dropped, not the benchmark
            print(f"  (no statement count: pg_stat_statements unavailable: {exc!r})", flush=True)
            return None

    def reset(self) -> None:
        self.runner.run(self.conn.execute("SELECT pg_stat_statements_reset()"))

    def count(self) -> tuple[int, int]:
        row = self.runner.run(self.conn.fetchrow(_COUNT))
        return int(row[0]), int(row[1])

    def close(self) -> None:
        self.runner.run(self.conn.close())


# --- the processes: a server, a load client ------------------------------------------------------

@dataclass
class Server:
    kind: str
    process: subprocess.Popen[bytes]
    port: int
    log: Path


@contextlib.contextmanager
def served(kind: str, url: str, clock: BusinessHoursClock, workdir: Path, root: Path = ROOT) -> Iterator[Server]:
    """``bench.mobile_server`` on a free port, pinned to CPU 0, until the block ends (SIGINT: the
    graceful shutdown ``fieldline serve`` does on Ctrl-C, a kill if it takes over 15 s). ``root``: the
    checkout whose code it serves (``bench.mobile_ab`` serves two)."""
    port = free_port()
    log_path = workdir / f"server-{kind}-{port}.log"
    args = [PY, "-m", "bench.mobile_server", "--port", str(port), "--database-url", url, "--app", kind,
            "--clock-start", clock.start.isoformat(), "--clock-t0", repr(clock.t0)]
    with contextlib.ExitStack() as stack, log_path.open("wb") as log:
        stack.callback(report_log, kind, log_path)  # once it has stopped
        # A session of its own: a Ctrl-C in the terminal reaches this process only, which stops the
        # children in order (server, then PostgreSQL), instead of racing them.
        process = started(stack, args, how=signal.SIGINT, cwd=root, stdout=log, stderr=subprocess.STDOUT,
                          preexec_fn=pinned(SERVER_CPU), start_new_session=True)
        server = Server(kind, process, port, log_path)
        ready_or_fail(server)
        yield server


def ready_or_fail(server: Server, timeout: float = 120.0) -> None:
    """uvicorn binds its socket after the lifespan's startup: an open port is an app ready to serve."""
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"the {server.kind} server exited ({server.process.returncode}):\n"
                               f"{server.log.read_text(errors='replace')[-3000:]}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", server.port)) == 0:
                break
        if time.monotonic() > deadline:
            raise TimeoutError(f"the {server.kind} server is not listening after {timeout:.0f} s")
        time.sleep(0.05)
    if server.kind == "product":
        ready = httpx.get(f"http://127.0.0.1:{server.port}/readyz", timeout=30)
        if ready.status_code != 200:
            raise RuntimeError(f"/readyz: {ready.status_code} {ready.text}")


# The bench runs without FCM credentials on purpose (pushes are recorded, as the product does then).
EXPECTED_LOG = ("push disabled: FIELDLINE_FCM_CREDENTIALS_FILE is not set",)


def report_log(kind: str, log: Path) -> None:
    """The server logs warnings and errors only: anything in its log but the expected is worth a look."""
    lines = log.read_text(errors="replace").splitlines() if log.exists() else []
    lines = [line for line in lines if not any(expected in line for expected in EXPECTED_LOG)]
    if lines:
        print(f"  ! the {kind} server logged {len(lines)} lines ({log.name}), first ones:", flush=True)
        for line in lines[:8]:
            print(f"      {line[:300]}", flush=True)


def client_process(stack: contextlib.ExitStack, plan: dict[str, Any], workdir: Path,
                   ready: bool) -> subprocess.Popen[str]:
    """``bench.http_load`` on the plan, pinned to CPU 1, stopped (if need be) when ``stack`` unwinds."""
    path = workdir / "plan.json"
    path.write_text(json.dumps(plan))
    return started(stack, [PY, "-m", "bench.http_load", str(path), *(["--ready"] if ready else [])],
                   how=signal.SIGTERM, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                   preexec_fn=pinned(LOAD_CPU), start_new_session=True)


def read_json(client: subprocess.Popen[str], what: str) -> dict[str, Any]:
    assert client.stdout is not None
    line = client.stdout.readline()
    if not line:
        client.wait(30)
        raise RuntimeError(f"the load client ended without {what} (exit status {client.returncode}; "
                           "its traceback is above)")
    return json.loads(line)


def warm_up(plan: dict[str, Any], workdir: Path, name: str) -> None:
    with contextlib.ExitStack() as stack:
        client = client_process(stack, plan, workdir, ready=False)
        out = read_json(client, "a result")
        client.wait(30)
    if out["errors"]:
        print(f"  {name} warm-up: {out['errors']} errors of {out['requests']}: {out['error_samples'][:3]}",
              flush=True)


def drive(plan: dict[str, Any], name: str, server: Server, census: Census | None, workdir: Path) -> Result:
    """One measured window: the client connects every lane and waits; the meters are read; go;
    the client's result; the meters are read again."""
    pid = server.process.pid
    with contextlib.ExitStack() as stack:
        client = client_process(stack, plan, workdir, ready=True)
        assert client.stdin is not None
        read_json(client, "connecting")
        if census is not None:
            census.reset()
        load0 = os.getloadavg()[0]
        cpu0, wait0 = cpu_seconds(pid), runqueue_wait_s(pid)
        client.stdin.write("go\n")
        client.stdin.flush()
        out = read_json(client, "a result")
        cpu, waited = cpu_seconds(pid) - cpu0, runqueue_wait_s(pid) - wait0
        statements, control = census.count() if census is not None else (None, None)
        load = max(load0, os.getloadavg()[0])
        client.wait(30)
    for status, body in out["error_samples"][:3]:
        print(f"  {name}: {status} {body[:200]}", flush=True)
    return Result(name, out["requests"], out["errors"], out["seconds"], out["latencies_ms"], cpu, statements,
                  control, waited, load, out["client_cpu_s"])


# --- the plans -----------------------------------------------------------------------------------

def plan_of(port: int, lanes: list[list[dict[str, Any]]]) -> dict[str, Any]:
    return {"host": "127.0.0.1", "port": port, "lanes": lanes}


def login(port: int, usernames: set[str]) -> dict[str, str]:
    tokens = {}
    for username in sorted(usernames):
        response = httpx.post(f"http://127.0.0.1:{port}/api/auth/login", timeout=30,
                              json={"username": username, "password": PASSWORD})
        response.raise_for_status()
        tokens[username] = f"Bearer {response.json()['access_token']}"
    return tokens


def action_lanes(orders: list[tuple[int, str]], n: int, tokens: dict[str, str],
                 now: datetime) -> list[list[dict[str, Any]]]:
    """Orders dealt to ``n`` lanes in turn; a lane does each of its orders' steps in order."""
    bodies = {step: json.dumps(body_of(step, now), separators=(",", ":")) for step in STEPS}
    lanes: list[list[dict[str, Any]]] = [[] for _ in range(n)]
    for i, (order_id, user) in enumerate(orders):
        headers = {"Authorization": tokens[user], "Idempotency-Key": "{idempotency_key}",
                   "Content-Type": "application/json"}
        lanes[i % n].extend({"method": "POST", "path": f"{API}/work-orders/{order_id}/{step}", "headers": headers,
                             "body": bodies[step]} for step in STEPS)
    return lanes


def floor_lanes(per_lane: int, n: int) -> list[list[dict[str, Any]]]:
    """Lane i acts on its own orders (i, i + n, ...) in turn: never two requests on one order at once."""
    mine = [list(range(1 + i, FLOOR_ORDERS + 1, n))[:max(1, per_lane // 10)] for i in range(n)]
    headers = {"Idempotency-Key": "{idempotency_key}", "Content-Type": "application/json"}
    return [[{"method": "POST", "path": f"/floor/{orders[j % len(orders)]}", "headers": headers,
              "body": '{"reason":"waiting_for_parts"}'} for j in range(per_lane)] for orders in mine]


def insert_lanes(per_lane: int, n: int) -> list[list[dict[str, Any]]]:
    request = {"method": "POST", "path": "/insert", "body": '{"occurred_at":null}',
               "headers": {"Idempotency-Key": "{idempotency_key}", "Content-Type": "application/json"}}
    return [[request] * per_lane for _ in range(n)]


# --- the systems ---------------------------------------------------------------------------------

@dataclass
class Bench:
    url: str
    clock: BusinessHoursClock
    census: Census | None
    workdir: Path


def product(bench: Bench, warm: list[tuple[int, str]], measured: list[tuple[int, str]], lanes: int,
            name: str, root: Path = ROOT) -> Result:
    """The product on a fresh server: the first order of every lane unmeasured, then the rest."""
    with served("product", bench.url, bench.clock, bench.workdir, root) as server:
        tokens = login(server.port, {u for _, u in warm + measured})
        now = bench.clock.now()
        warm_up(plan_of(server.port, action_lanes(warm, lanes, tokens, now)), bench.workdir, name)
        plan = plan_of(server.port, action_lanes(measured, lanes, tokens, now))
        return drive(plan, name, server, bench.census, bench.workdir)


def ceiling(bench: Bench, requests: int, lanes: int, on_driver: bool = False) -> Result:
    kind = "ceiling-driver" if on_driver else "ceiling"
    name = "bare Starlette + 1 INSERT, driver" if on_driver else "bare Starlette + 1 INSERT"
    with served(kind, bench.url, bench.clock, bench.workdir) as server:
        warm_up(plan_of(server.port, insert_lanes(25, lanes)), bench.workdir, name)
        plan = plan_of(server.port, insert_lanes(max(1, requests // lanes), lanes))
        return drive(plan, name, server, bench.census, bench.workdir)


def floor(bench: Bench, requests: int, lanes: int) -> Result:
    name = "the action's statements alone"
    with served("floor", bench.url, bench.clock, bench.workdir) as server:
        warm_up(plan_of(server.port, floor_lanes(25, lanes)), bench.workdir, name)
        plan = plan_of(server.port, floor_lanes(max(1, requests // lanes), lanes))
        return drive(plan, name, server, bench.census, bench.workdir)


def compare(runner: asyncio.Runner, backend: str, url: str, actions: int, concurrency: int,
            census: Census | None, workdir: Path) -> dict[str, Any]:
    orders = max(concurrency, actions // len(STEPS))
    light_orders = max(LIGHT_LANES, orders // 4)
    clock = BusinessHoursClock()
    # Warm-up orders of their own (one per lane), so the measured runs do exactly ``orders`` each.
    made = runner.run(prepared(url, clock, concurrency + orders + LIGHT_LANES + light_orders))
    warm, made = made[:concurrency], made[concurrency:]
    measured, made = made[:orders], made[orders:]
    light_warm, light = made[:LIGHT_LANES], made[LIGHT_LANES:]
    bench = Bench(url, clock, census, workdir)
    print(f"[{backend}] concurrency {concurrency}, {orders} orders x {len(STEPS)} actions", flush=True)
    result = product(bench, warm, measured, concurrency, "mobile action (idempotent)")
    print("  " + result.line(), flush=True)
    calm = product(bench, light_warm, light, LIGHT_LANES, f"... at {LIGHT_LANES} lanes")
    print("  " + calm.line(), flush=True)
    # The peers take a few milliseconds a request: three times the requests, so that a run of them
    # lasts long enough for a steady figure on a machine whose speed drifts.
    peer = ceiling(bench, 3 * result.requests, concurrency)
    print("  " + peer.line(), flush=True)
    driver_peer = ceiling(bench, 3 * result.requests, concurrency, on_driver=True)
    print("  " + driver_peer.line(), flush=True)
    floor_peer = floor(bench, 3 * result.requests, concurrency) if backend == "postgresql" else None
    if floor_peer is not None:
        print("  " + floor_peer.line(), flush=True)
    for name, ref in (("ceiling", peer), ("ceiling on the driver", driver_peer), ("statements alone", floor_peer)):
        if ref is not None:
            print(f"  mobile actions / {name}: {result.per_s / ref.per_s:.0%}   (server CPU per request: {name} / "
                  f"action = {(ref.cpu_s / ref.requests) / (result.cpu_s / result.requests):.0%})")
    if floor_peer is not None:
        cpu_share = (peer.cpu_s / peer.requests) / (floor_peer.cpu_s / floor_peer.requests)
        print(f"  statements alone / ceiling: {floor_peer.per_s / peer.per_s:.0%}   (server CPU per request: "
              f"ceiling / statements alone = {cpu_share:.0%})")
    rows = tuple(r for r in (result, calm, peer, driver_peer, floor_peer) if r is not None)
    busy = [r.name for r in rows if r.client_pct > CLIENT_BUSY_PCT]
    if busy:
        print(f"  ! the load client used over {CLIENT_BUSY_PCT:.0f} % of its core for: {', '.join(busy)}")
    starved = [r.name for r in rows if 100 * r.starved_s / r.seconds > STARVED_PCT]
    if starved:
        print(f"  ! starved over {STARVED_PCT:.0f} % (other work on the server's core; its req/s and latency are "
              f"the machine's): {', '.join(starved)}")
    print("  (server CPU: the server process alone, from /proc; "
          + ("statements: pg_stat_statements, every connection to the bench database in the window, "
             "BEGIN/COMMIT/ROLLBACK included (track_utility on), shown apart)" if census is not None
             else "no statement count on this backend)"), flush=True)
    return {"backend": backend, "product": result, "peer": peer, "driver_peer": driver_peer, "calm": calm,
            "floor": floor_peer, "share": result.per_s / peer.per_s}


def pin_postgres(pg: Postgres) -> None:
    """The cluster's processes to the load's CPU; backends forked later inherit it."""
    postmaster = int((pg.datadir / "postmaster.pid").read_text().split()[0])
    moved = pin_tree(postmaster, LOAD_CPU)
    print(f"PostgreSQL: {moved} processes on CPU {sorted(LOAD_CPU)}; servers on CPU {sorted(SERVER_CPU)}", flush=True)


def main(actions: int, concurrency: int, backends: list[str]) -> None:
    # This process (and so PostgreSQL, started below) stays off the server's core.
    os.sched_setaffinity(0, LOAD_CPU)
    terminate_as_interrupt()
    results = []
    with (asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner,
          tempfile.TemporaryDirectory(prefix="fieldline-bench-") as tmp):
        workdir = Path(tmp)
        if "postgresql" in backends:
            counting = pg_stat_statements_installed()
            if not counting:
                print("  (no statement count: pg_stat_statements.so is not installed)")
            with contextlib.ExitStack() as stack:
                with interrupts_held():  # its stop on the stack before a Ctrl-C can land
                    pg = stack.enter_context(
                        postgres_server("-c shared_preload_libraries=pg_stat_statements" if counting else ""))
                pin_postgres(pg)
                pg.psql("CREATE DATABASE bench")
                census = Census.open(runner, pg, "bench") if counting else None
                if census is not None:
                    stack.callback(census.close)
                results.append(compare(runner, "postgresql", pg.url("bench"), actions, concurrency, census, workdir))
        if "sqlite" in backends:
            url = f"sqlite+aiosqlite:///{workdir / 'bench.db'}"
            results.append(compare(runner, "sqlite", url, actions, concurrency, None, workdir))
    for r in results:
        if r["backend"] != "postgresql":
            continue
        p = r["product"]
        calm_p99 = pct(r["calm"].latencies_ms, 99) if r["calm"] is not None else float("inf")
        checks = {"actions/s >= 1,000": p.per_s >= TARGET["actions_per_s"],
                  "p99 <= 50 ms": pct(p.latencies_ms, 99) <= TARGET["p99_ms"],
                  f"p99 <= 50 ms at {LIGHT_LANES} lanes": calm_p99 <= TARGET["p99_ms"],
                  ">= 50 % of the ceiling": r["share"] >= TARGET["share_of_ceiling"]}
        print("PostgreSQL targets: " + ", ".join(f"{k}: {'met' if ok else 'MISSED'}" for k, ok in checks.items()))


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.mobile_actions")
    parser.add_argument("--actions", type=int, default=10_000, help="mobile actions per backend")
    parser.add_argument("--concurrency", type=int, default=16, help="phones acting at once (lanes)")
    parser.add_argument("--backend", choices=["postgresql", "sqlite", "both"], default="both")
    parser.add_argument("--quick", action="store_true", help="smoke run: 500 actions per backend")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    backends = ["postgresql", "sqlite"] if args.backend == "both" else [args.backend]
    main(500 if args.quick else args.actions, args.concurrency, backends)


if __name__ == "__main__":
    cli()
