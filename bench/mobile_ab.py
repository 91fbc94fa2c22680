"""An A/B of the mobile action's cost: this checkout against another version of the code, their
product servers alternated in the same minutes on ONE database and data set, with the same client,
lanes and pinning as ``bench.mobile_actions``. The machine's speed drifts by ±25 % between runs
minutes apart, so two full ``bench.mobile_actions`` runs cannot tell a 10 % change from noise; this
can (each round runs both, in alternating order, on orders of their own).

The other version is a git revision, checked out in a temporary worktree (or a directory given
with ``--base-dir``); its server runs from there, so it serves that code (``python -m`` puts the
working directory first on the path). Both must read the same schema: this checkout migrates the
database.

Run: ``flock /tmp/bench.lock .venv/bin/python -m bench.mobile_ab --base <rev> [--rounds 5]
[--orders 250] [--lanes 16]`` (PostgreSQL; ~1 minute a round). Prints each run (server CPU per
action, p99, actions/s, statements per action) and the medians."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import uvloop

from bench.mobile_actions import (
    Bench,
    Census,
    Result,
    pct,
    pg_stat_statements_installed,
    pin_postgres,
    prepared,
    product,
)
from bench.mobile_server import BusinessHoursClock
from bench.processes import LOAD_CPU, ROOT, interrupts_held, terminate_as_interrupt
from tests.support.servers import postgres_server


@contextlib.contextmanager
def checkout(rev: str) -> Iterator[Path]:
    """A detached worktree of ``rev`` for the block's length."""
    with tempfile.TemporaryDirectory(prefix="fieldline-ab-") as tmp:
        path = Path(tmp) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", str(path), rev], cwd=ROOT, check=True,
                       capture_output=True)
        try:
            yield path
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, check=False,
                           capture_output=True)


def figures(result: Result) -> tuple[float, float, float, float | None]:
    statements = result.statements / result.requests if result.statements is not None else None
    return (1000 * result.cpu_s / result.requests, pct(result.latencies_ms, 99), result.per_s, statements)


def main(base: Path, label: str, rounds: int, orders: int, lanes: int) -> None:
    os.sched_setaffinity(0, LOAD_CPU)  # this process and PostgreSQL off the servers' core
    terminate_as_interrupt()
    sides = [(label, base), ("this checkout", ROOT)]
    runs: dict[str, list[tuple[float, float, float, float | None]]] = {name: [] for name, _ in sides}
    counting = pg_stat_statements_installed()
    with (asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner,
          tempfile.TemporaryDirectory(prefix="fieldline-bench-") as tmp, contextlib.ExitStack() as stack):
        with interrupts_held():
            pg = stack.enter_context(postgres_server("-c shared_preload_libraries=pg_stat_statements"
                                                     if counting else ""))
        pin_postgres(pg)
        pg.psql("CREATE DATABASE bench")
        census = Census.open(runner, pg, "bench") if counting else None
        if census is not None:
            stack.callback(census.close)
        clock = BusinessHoursClock()
        per_run = orders + lanes  # one warm-up order a lane, then the measured ones
        made = runner.run(prepared(pg.url("bench"), clock, rounds * len(sides) * per_run))
        bench = Bench(pg.url("bench"), clock, census, Path(tmp))
        for r in range(rounds):
            for name, root in sides if r % 2 == 0 else sides[::-1]:
                chunk, made = made[:per_run], made[per_run:]
                result = product(bench, chunk[:lanes], chunk[lanes:], lanes, name, root)
                cpu, p99, per_s, statements = figures(result)
                runs[name].append((cpu, p99, per_s, statements))
                counted = f"   {statements:4.2f} statements" if statements is not None else ""
                print(f"round {r + 1} {name:<22} {cpu:5.2f} ms CPU/action   p99 {p99:6.1f} ms   "
                      f"{per_s:5.0f} actions/s{counted}   ({result.errors} errors)", flush=True)
    print(f"medians over {rounds} rounds of {orders * 10:,} actions at {lanes} lanes:")
    for name, rows in runs.items():
        print(f"  {name:<22} {statistics.median(c for c, *_ in rows):5.2f} ms CPU/action "
              f"(range {min(c for c, *_ in rows):.2f}-{max(c for c, *_ in rows):.2f})   "
              f"p99 {statistics.median(p for _, p, *_ in rows):6.1f} ms   "
              f"{statistics.median(s for _, _, s, _ in rows):5.0f} actions/s")


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.mobile_ab")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--base", help="a git revision to compare this checkout with")
    which.add_argument("--base-dir", type=Path, help="a checkout of the other version")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--orders", type=int, default=250, help="orders per run (10 actions each)")
    parser.add_argument("--lanes", type=int, default=16)
    args = parser.parse_args()
    with contextlib.ExitStack() as stack:
        base = args.base_dir.resolve() if args.base_dir else stack.enter_context(checkout(args.base))
        main(base, args.base or str(args.base_dir), args.rounds, args.orders, args.lanes)


if __name__ == "__main__":
    cli()
