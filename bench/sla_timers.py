"""SLA timers at scale, on a throwaway PostgreSQL and Redis: 100,000 open orders with 300,000 live
timers (plus a finished month of 100,000 orders). Measures, side by side in one run:
  - the sweep's cost per tick (time, statements, rows read, transactions) with nothing due;
  - breach-detection lateness p50/p99 for sets of deadlines falling due during a window (steady and
    burst rates), fired by arq deferred jobs (real worker processes) vs the embedded loop (wakes at the
    next due time) vs the sweep alone (the same pass every 30 s);
  - report generation for the month of 100,000 orders, and its CSV/XLSX export.
Run: ``.venv/bin/python -m bench.sla_timers [--orders N] [--steady N] [--burst N] [--window S]
[--workers N] [--quick]`` (about 4 minutes; ``--quick``: 5,000 orders and 10 s windows, a smoke run
of one to two minutes)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event

from backend.brokers.memory import MemoryBroker
from backend.clock import SystemClock
from backend.domain.actors import SYSTEM
from backend.persistence.db import create_engine, session_factory
from backend.persistence.migrate import upgrade
from backend.relay import OutboxRelay
from backend.services import reports, reports_export
from backend.services.sla_firing import fire_due
from backend.services.sla_timers import run_pass
from backend.services.uow import UnitOfWorkFactory
from backend.settings import Settings
from bench import sla_data
from tests.support.servers import postgres_server, redis_server
from workers import sla
from workers.embedded import TimerLoop

ROOT = Path(__file__).resolve().parents[1]
T0 = time.monotonic()


def say(line: str) -> None:
    print(f"[{time.monotonic() - T0:6.1f} s] {line}", flush=True)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))] if ordered else float("nan")


@contextlib.asynccontextmanager
async def counted_uows(settings: Settings, *,
                       relay: bool = False) -> AsyncIterator[tuple[UnitOfWorkFactory, list[int]]]:
    """Units of work counting their statements; ``relay``: with an outbox relay nudged after each
    commit (to an in-process broker), as the embedded app runs, so the in-process modes pay for
    publishing their breaches like the arq workers (whose relay publishes to Redis) do."""
    engine = create_engine(settings.database_url, pool_size=10)
    statements = [0]

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _count(*_: Any) -> None:
        statements[0] += 1

    sessions = session_factory(engine)
    relayer = OutboxRelay(sessions, MemoryBroker(), SystemClock()) if relay else None
    task = asyncio.create_task(relayer.run(), name="bench-relay") if relayer else None
    try:
        yield UnitOfWorkFactory(sessions, SystemClock(), on_commit=relayer.nudge if relayer else None,
                                calendar=settings.calendar), statements
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await engine.dispose()


async def db_stats(conn: asyncpg.Connection) -> dict[str, int]:
    await conn.execute("SELECT pg_stat_clear_snapshot()")
    row = await conn.fetchrow("SELECT xact_commit, xact_rollback, tup_returned, tup_fetched, tup_inserted, tup_updated "
                              "FROM pg_stat_database WHERE datname = current_database()")
    return dict(row)


def delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before[k] for k in after}


async def sweep_cost(settings: Settings, conn: asyncpg.Connection, ticks: int = 10) -> dict[str, float]:
    """One scaled sweep tick (recreate upcoming jobs, then the pass) with nothing due, ``ticks`` times."""
    pool = await sla.open_pool(settings)
    times = []
    async with counted_uows(settings) as (uows, statements):
        before = await db_stats(conn)
        for _ in range(ticks):
            t0 = time.perf_counter()
            await sla.enqueue_upcoming(uows, pool, settings, only_new=False)
            await run_pass(uows, settings.daily_clearing_at, overdue_by=sla.backstop(settings))
            times.append((time.perf_counter() - t0) * 1000)
        await asyncio.sleep(1.5)  # backends report their statistics at most once a second
        load = delta(await db_stats(conn), before)
    await pool.aclose()
    return {"ms_p50": statistics.median(times), "ms_max": max(times), "statements": statements[0] / ticks,
            "rows_read": (load["tup_returned"] + load["tup_fetched"]) / ticks,
            "transactions": (load["xact_commit"] + load["xact_rollback"]) / ticks}


async def lateness(conn: asyncpg.Connection, ids: list[int]) -> list[float]:
    rows = await conn.fetch("SELECT extract(epoch FROM b.detected_at - d.due_at) AS late FROM sla_breach b "
                            "JOIN sla_deadline d ON d.id = b.deadline_id WHERE d.id = ANY($1::int[])", ids)
    return [float(r["late"]) for r in rows]


async def wait_fired(conn: asyncpg.Connection, ids: list[int], deadline_s: float) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        done = await conn.fetchval("SELECT count(*) FROM sla_breach WHERE deadline_id = ANY($1::int[])", ids)
        if done >= len(ids):
            return
        await asyncio.sleep(0.5)


@contextlib.contextmanager
def workers(settings: Settings, log: Path, count: int) -> Iterator[None]:
    """``count`` SLA worker processes (``python -m workers.main sla``), as deployed."""
    env = {**os.environ, "FIELDLINE_ENVIRONMENT": "test", "FIELDLINE_DATABASE_URL": settings.database_url,
           "FIELDLINE_REDIS_URL": settings.redis_url or "", "FIELDLINE_LOG_LEVEL": "WARNING",
           "FIELDLINE_HOLIDAYS": "[" + ",".join(f'"{d}"' for d in settings.holidays) + "]"}
    procs = []
    with log.open("wb") as out:
        for _ in range(count):
            procs.append(subprocess.Popen([sys.executable, "-m", "workers.main", "sla"], cwd=ROOT, env=env,
                                          stdout=out, stderr=subprocess.STDOUT))
    try:
        yield
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


async def measure(name: str, conn: asyncpg.Connection, order_ids: list[int], window: float,
                  runner: Any) -> dict[str, Any]:
    """Start the mode, then let ``order_ids`` fall due over ``window`` seconds; how late each fired."""
    async with runner() as feed:
        start = SystemClock().now() + timedelta(seconds=3)
        hot = await sla_data.hot_deadlines(conn, order_ids, start, window)
        ids = [i for i, _ in hot]
        before = await db_stats(conn)
        await feed(hot)
        await wait_fired(conn, ids, window + 90)
    await asyncio.sleep(1.5)
    load = delta(await db_stats(conn), before)
    late = await lateness(conn, ids)
    return {"mode": name, "fired": len(late), "of": len(ids), "p50_s": pct(late, 50), "p99_s": pct(late, 99),
            "max_s": max(late) if late else float("nan"),
            "load": os.getloadavg()[0],
            "commits_per_breach": load["xact_commit"] / max(len(late), 1),
            "rows_read_per_breach": (load["tup_returned"] + load["tup_fetched"]) / max(len(late), 1)}


async def _nothing(hot: list[tuple[int, Any]]) -> None:
    return None


def arq_runner(settings: Settings, tmp: Path, count: int) -> Any:
    @contextlib.asynccontextmanager
    async def run() -> AsyncIterator[Any]:
        pool = await sla.open_pool(settings)

        async def feed(hot: list[tuple[int, Any]]) -> None:
            for deadline_id, due in hot:  # what the app's after-commit enqueuer does for new deadlines
                await pool.enqueue_job("sla.fire", deadline_id, int(due.timestamp()),
                                       _job_id=sla.fire_job_id(deadline_id, due), _defer_until=due,
                                       _queue_name=sla.SLA_QUEUE)

        with workers(settings, tmp / "bench-worker.log", count):
            for _ in range(600):  # up to a minute for the worker to start polling
                if await pool.exists(f"{sla.SLA_QUEUE}:health-check"):
                    break
                await asyncio.sleep(0.1)
            try:
                yield feed
            finally:
                await pool.aclose()

    return run


def sweep_runner(settings: Settings, interval: float) -> Any:
    @contextlib.asynccontextmanager
    async def run() -> AsyncIterator[Any]:
        async with counted_uows(settings, relay=True) as (uows, _):
            async def loop() -> None:
                while True:
                    await fire_due(uows, limit=10_000)
                    await asyncio.sleep(interval)

            task = asyncio.create_task(loop())
            try:
                yield _nothing
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    return run


def embedded_runner(settings: Settings) -> Any:
    @contextlib.asynccontextmanager
    async def run() -> AsyncIterator[Any]:
        async with counted_uows(settings, relay=True) as (uows, _):
            timer = TimerLoop(uows, SystemClock(), settings)
            task = asyncio.create_task(timer.run())
            try:
                yield _nothing
            finally:
                timer.waker.stop()
                await asyncio.wait_for(task, 30)

    return run


async def report_times(settings: Settings, period: str) -> list[dict[str, Any]]:
    out = []
    async with counted_uows(settings) as (uows, _):
        for name in ("providers", "engineers", "fault_structure"):
            async with uows() as uow:
                job = await reports.request_report(uow, SYSTEM, name, period)
                await uow.commit()
            t0 = time.perf_counter()
            await reports.run_next(uows, settings, job.id)
            elapsed = time.perf_counter() - t0
            async with uows() as uow:
                _, table = await reports.result(uow, job.id)
            t1 = time.perf_counter()
            size = len(reports_export.to_csv(table)) + len(reports_export.to_xlsx(table, name))
            out.append({"report": name, "generate_s": elapsed, "rows": len(table.rows),
                        "volume": table.totals.get("volume", table.totals.get("faults")),
                        "export_s": time.perf_counter() - t1, "export_kb": size // 1024})
    return out



async def main(orders: int, steady: int, burst: int, window: float, n_workers: int) -> None:
    rng = random.Random(5)
    tmp = Path("/tmp")
    say(f"load average at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (shared machine)")
    with postgres_server() as pg, redis_server() as rs:
        pg.psql("CREATE DATABASE bench")
        today = SystemClock().now().date()
        settings = Settings(environment="test", database_url=pg.url("bench"), redis_url=rs.url, log_json=False,
                            holidays=[today - timedelta(days=1), today, today + timedelta(days=1)])  # no clearing
        engine = create_engine(settings.database_url)
        await upgrade(engine)
        await engine.dispose()
        conn = await asyncpg.connect(sla_data.dsn(settings.database_url))
        now = SystemClock().now()
        t0 = time.perf_counter()
        ref = await sla_data.reference(conn, now)
        month = sla_data.utc(2026, 9, 30, 16)  # October 2026 in Shanghai
        await sla_data.finished_month(conn, ref, 1, orders, month, rng)
        live = await sla_data.open_orders(conn, ref, orders + 1, orders, now, rng)
        await sla_data.fix_sequences(conn)
        await conn.execute("ANALYZE")
        say(f"data: {orders:,} finished orders (October), {orders:,} open orders with {live:,} live timers "
              f"in {time.perf_counter() - t0:.1f} s")
        cost = await sweep_cost(settings, conn)
        say(f"sweep tick, nothing due: p50 {cost['ms_p50']:.1f} ms (max {cost['ms_max']:.1f}), "
              f"{cost['statements']:.0f} statements, {cost['rows_read']:.0f} rows read")
        plan = await conn.fetch("EXPLAIN SELECT id FROM sla_deadline WHERE state = 'open' AND due_at <= now() "
                                "ORDER BY due_at LIMIT 500")
        say("due query plan: " + " / ".join(r[0].strip() for r in plan[:2]))
        pick = iter(range(orders + 1, 2 * orders + 1))
        modes = [(f"arq deferred jobs, {n_workers} workers", arq_runner(settings, tmp, n_workers)),
                 ("embedded loop", embedded_runner(settings)),
                 ("sweep only, every 30 s", sweep_runner(settings, settings.sla_sweep_interval_s))]
        for load_name, count in ((f"steady {steady / window:.0f}/s", steady), (f"burst {burst / window:.0f}/s", burst)):
            for name, runner in modes:
                if count == burst and name.startswith("sweep"):
                    continue  # its lateness is the sweep interval whatever the load
                ids = [next(pick) for _ in range(count)]
                r = await measure(name, conn, ids, window, runner)
                say(f"{load_name:<12} {r['mode']:<28} fired {r['fired']}/{r['of']}  lateness p50 {r['p50_s']:.3f} s"
                      f"  p99 {r['p99_s']:.3f} s  max {r['max_s']:.3f} s  commits/breach {r['commits_per_breach']:.1f}"
                      f"  rows read/breach {r['rows_read_per_breach']:.0f}"
                    f"  [p99 <= 2 s: {'yes' if r['p99_s'] <= 2 else 'NO'}; load {r['load']:.1f}]")
        for r in await report_times(settings, "2026-10"):
            say(f"report {r['report']:<16} {r['generate_s']:.1f} s for {r['volume']:,} orders -> {r['rows']} rows; "
                  f"CSV+XLSX {r['export_s']:.2f} s, {r['export_kb']} KB")
        await conn.close()
    say("done")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.sla_timers")
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--steady", type=int, default=150, help="deadlines falling due in a steady window")
    parser.add_argument("--burst", type=int, default=750, help="deadlines falling due in a burst window")
    parser.add_argument("--window", type=float, default=25.0, help="seconds over which each set falls due")
    parser.add_argument("--workers", type=int, default=2, help="SLA worker processes in the arq mode")
    parser.add_argument("--quick", action="store_true", help="smoke run: 5,000 orders, 10 s windows")
    args = parser.parse_args()
    if args.quick:
        args.orders, args.steady, args.burst, args.window = 5_000, 50, 200, 10.0
    asyncio.run(main(args.orders, args.steady, args.burst, args.window, args.workers))
