"""Work-order actions per second in ONE process, idempotency on: every action is a real mobile API
request (``POST /api/mobile/v1/work-orders/{id}/{action}`` with a fresh Idempotency-Key, an access
token, a JSON body) through the whole ASGI app (middleware, auth, idempotency lock, look-up and stored
response, the lifecycle rules, event log, outbox, audit, SLA deadlines and push rows in one
transaction), on a throwaway PostgreSQL and on SQLite. The peer, in the same run, on the same
database, through the same client and concurrency: a bare Starlette endpoint doing one INSERT per
request (the ceiling of "an HTTP request that commits a row"), once through SQLAlchemy Core and once
on the driver as the product's hot statements run (``persistence.statements``). Prints requests/s, p50/p99, the
process's CPU per request and SQL statements per request (more stable than requests/s on a machine
whose speed drifts).

Run: ``flock /tmp/bench.lock .venv/bin/python -m bench.mobile_actions [--actions N] [--concurrency N]
[--quick]`` (about 3 minutes; ``--quick``: a smoke run of a few seconds per backend)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import resource
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvloop
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from backend.domain.work_orders import commands as c
from backend.domain.work_orders.creation import NewWorkOrder
from backend.persistence.db import create_engine, session_factory
from backend.persistence.migrate import upgrade
from backend.persistence.statements import Statement
from backend.services import work_orders as svc
from backend.services.uow import UnitOfWorkFactory
from backend.settings import Settings
from fieldline.app import create_app
from tests.support.factories import PASSWORD, Ref, seed
from tests.support.servers import postgres_server

API = "/api/mobile/v1"
# One order's life on the phone: 4 steps to the site, then waiting for parts and back, 3 times.
STEPS = ["acknowledge", "contact", "depart", "arrive"] + ["hold", "resume"] * 3
TARGET = {"actions_per_s": 1000.0, "p99_ms": 50.0, "share_of_ceiling": 0.5}
LIGHT_LANES = 4  # a second, shorter run: the latency when few phones act at once


class BusinessHoursClock:
    """Real time passing from Monday 09:30 in Shanghai: the run happens in business hours whatever
    the hour of the machine, so the daily clearing (17:00) never urges the bench's orders midway
    and deadlines fall due as they would (none within a run: acknowledging takes seconds)."""

    START = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)

    def __init__(self) -> None:
        self._t0 = time.monotonic()

    def now(self) -> datetime:
        return self.START + timedelta(seconds=time.monotonic() - self._t0)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")


STATEMENTS = [0]  # every SQL statement any engine of this process sends (the census)


@event.listens_for(Engine, "before_cursor_execute")
def _count_statement(*_: Any) -> None:
    STATEMENTS[0] += 1


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Result:
    name: str
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float]
    cpu_s: float = 0.0  # this process's CPU during the run (app, its background loops and the client)
    statements: int = 0

    @property
    def per_s(self) -> float:
        return self.requests / self.seconds

    def line(self) -> str:
        return (f"{self.name:<34} {self.per_s:8.0f} req/s   p50 {pct(self.latencies_ms, 50):6.1f} ms   "
                f"p99 {pct(self.latencies_ms, 99):6.1f} ms   CPU {1000 * self.cpu_s / self.requests:5.2f} ms/req   "
                f"{self.statements / self.requests:4.1f} statements/req   ({self.requests:,} requests, "
                f"{self.errors} errors, {self.seconds:.1f} s)")


def body_of(step: str, now: datetime) -> dict[str, Any]:
    return {
        "contact": {"appointment_at": (now + timedelta(hours=2)).isoformat()},
        "arrive": {"position": {"lat": 31.2001, "lon": 121.5001, "accuracy_m": 12}},
        "hold": {"reason": "waiting_for_parts", "note": "seal on order"},
    }.get(step, {})


async def drive(client: httpx.AsyncClient, lanes: list[list[Callable[[], Awaitable[httpx.Response]]]],
                name: str) -> Result:
    """Each lane runs its requests one after the other (one phone acting on its own orders); the
    lanes run concurrently. Latency is per request, throughput over the whole run."""
    latencies: list[float] = []
    errors = [0]

    async def lane(calls: list[Callable[[], Awaitable[httpx.Response]]]) -> None:
        for call in calls:
            t0 = time.perf_counter()
            response = await call()
            latencies.append((time.perf_counter() - t0) * 1000)
            if response.status_code >= 300:
                errors[0] += 1
                if errors[0] <= 3:
                    print(f"  {name}: {response.status_code} {response.text[:200]}")

    t0, c0, s0 = time.perf_counter(), cpu_s(), STATEMENTS[0]
    await asyncio.gather(*(lane(calls) for calls in lanes))
    return Result(name, len(latencies), errors[0], time.perf_counter() - t0, latencies, cpu_s() - c0,
                  STATEMENTS[0] - s0)


# --- the product: the mobile API --------------------------------------------------------------

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


@contextlib.asynccontextmanager
async def app_client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            yield client


async def mobile_actions(settings: Settings, orders: int, concurrency: int,
                         light: int | None = None) -> tuple[Result, Result | None]:
    """The measured run at ``concurrency`` lanes, then (``light``) a shorter one at ``light`` lanes
    on orders of its own: the latency without queueing behind 16 phones."""
    light_orders = max(light, orders // 4) if light else 0
    clock = BusinessHoursClock()
    engine = create_engine(settings.database_url)
    uows = UnitOfWorkFactory(session_factory(engine), clock, calendar=settings.calendar)
    try:
        async with uows() as uow:
            ref = await seed(uow.session, uow.now())
            await uow.commit()
        made = await create_orders(uows, ref, orders + light_orders)
    finally:
        await engine.dispose()
    app = create_app(settings, clock=clock)
    async with app_client(app) as client:
        tokens = {}
        for username in {u for _, u in made}:
            login = await client.post("/api/auth/login", json={"username": username, "password": PASSWORD})
            login.raise_for_status()
            tokens[username] = {"Authorization": f"Bearer {login.json()['access_token']}"}
        now = clock.now()

        def call(order_id: int, user: str, step: str) -> Callable[[], Awaitable[httpx.Response]]:
            def send() -> Awaitable[httpx.Response]:
                headers = {**tokens[user], "Idempotency-Key": str(uuid.uuid4())}
                return client.post(f"{API}/work-orders/{order_id}/{step}", json=body_of(step, now), headers=headers)
            return send

        def lanes_of(chosen: list[tuple[int, str]], n: int) -> list[list[Callable[[], Awaitable[httpx.Response]]]]:
            lanes: list[list[Callable[[], Awaitable[httpx.Response]]]] = [[] for _ in range(n)]
            for i, (order_id, user) in enumerate(chosen):
                lanes[i % n].extend(call(order_id, user, step) for step in STEPS)
            return lanes

        lanes = lanes_of(made[:orders], concurrency)
        # The first lane's first order warms caches and pools; the rest is measured.
        await drive(client, [lanes[0][:len(STEPS)]], "warm-up")
        lanes[0] = lanes[0][len(STEPS):]
        measured = await drive(client, lanes, "mobile action (idempotent)")
        calm = await drive(client, lanes_of(made[orders:], light), f"... at {light} lanes") if light else None
        return measured, calm


# --- the peer: a bare Starlette endpoint doing one INSERT ---------------------------------------

_INSERT = "INSERT INTO bench_ceiling (k, body) VALUES (:k, :b)"


def ceiling_app(engine: AsyncEngine, on_driver: bool) -> Starlette:
    """One INSERT and its commit per request: through SQLAlchemy Core (``engine.begin()``), or with the
    machinery the product's hot statements use (``persistence.statements``: the pool's connection,
    its transaction, the statement on the driver)."""
    statement = Statement(text(_INSERT))

    async def insert(request: Request) -> Response:
        body = await request.json()
        values = {"k": request.headers.get("idempotency-key", ""), "b": str(body)}
        async with engine.begin() as conn:
            if on_driver:
                await statement.rowcount(conn, **values)
            else:
                await conn.execute(text(_INSERT), values)
        return JSONResponse({"ok": True})

    return Starlette(routes=[Route("/insert", insert, methods=["POST"])])


async def ceiling(settings: Settings, requests: int, concurrency: int, on_driver: bool = False) -> Result:
    engine = create_engine(settings.database_url)
    try:
        async with engine.begin() as conn:
            serial = "SERIAL" if engine.dialect.name == "postgresql" else "INTEGER"
            await conn.execute(text(f"CREATE TABLE IF NOT EXISTS bench_ceiling (id {serial} PRIMARY KEY, "
                                    "k TEXT NOT NULL, body TEXT NOT NULL)"))
        app = ceiling_app(engine, on_driver)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:
            def send() -> Awaitable[httpx.Response]:
                return client.post("/insert", json={"occurred_at": None},
                                   headers={"Idempotency-Key": str(uuid.uuid4())})

            per_lane = max(1, requests // concurrency)
            await drive(client, [[send] * 10], "warm-up")
            name = "bare Starlette + 1 INSERT, driver" if on_driver else "bare Starlette + 1 INSERT"
            return await drive(client, [[send] * per_lane for _ in range(concurrency)], name)
    finally:
        await engine.dispose()


# --- the run -------------------------------------------------------------------------------------

async def migrated(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def settings_for(url: str) -> Settings:
    return Settings(environment="test", database_url=url, demo_data=False, simulator=False, log_json=False,
                    log_level="WARNING")


async def compare(backend: str, url: str, actions: int, concurrency: int) -> dict[str, Any]:
    await migrated(url)
    settings = settings_for(url)
    orders = max(concurrency, actions // len(STEPS))
    product, calm = await mobile_actions(settings, orders, concurrency, light=LIGHT_LANES)
    # The peers take a few milliseconds a request: three times the requests, so that a run of them
    # lasts long enough for a steady figure on a machine whose speed drifts.
    peer = await ceiling(settings, 3 * product.requests, concurrency)
    driver_peer = await ceiling(settings, 3 * product.requests, concurrency, on_driver=True)
    share = product.per_s / peer.per_s
    print(f"[{backend}] concurrency {concurrency}, {orders} orders x {len(STEPS)} actions")
    for result in (product, peer, driver_peer, calm):
        if result is not None:
            print("  " + result.line())
    for name, ref in (("ceiling", peer), ("ceiling on the driver", driver_peer)):
        print(f"  mobile actions / {name}: {product.per_s / ref.per_s:.0%}   (CPU per request: {name} / action = "
              f"{(ref.cpu_s / ref.requests) / (product.cpu_s / product.requests):.0%})")
    return {"backend": backend, "product": product, "peer": peer, "driver_peer": driver_peer, "calm": calm,
            "share": share}


async def main(actions: int, concurrency: int, backends: list[str]) -> None:
    results = []
    with tempfile.TemporaryDirectory(prefix="fieldline-bench-") as tmp:
        if "postgresql" in backends:
            with postgres_server() as pg:
                pg.psql("CREATE DATABASE bench")
                results.append(await compare("postgresql", pg.url("bench"), actions, concurrency))
        if "sqlite" in backends:
            url = f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
            results.append(await compare("sqlite", url, actions, concurrency))
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
    # On uvloop, as `fieldline serve` runs the app (uvicorn's loop="auto"), the peers too.
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main(500 if args.quick else args.actions, args.concurrency, backends))


if __name__ == "__main__":
    cli()
