"""The benchmarks' process plumbing: which CPU the server and the load get, free ports, waiting for
a server to listen, a process's CPU time and run-queue wait read from ``/proc``, and stopping what a
benchmark started. Shared by ``bench.hub`` and ``bench.mobile_actions``.

The server under test gets CPU 0 to itself; everything else the benchmark runs (load clients,
Redis, PostgreSQL, the benchmark's own process) goes to CPU 1, so the server's CPU per request is
its own and its latency is not the load's queueing. On a one-core machine both are CPU 0."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from tests.support.servers import wait_for_port

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
TICK = os.sysconf("SC_CLK_TCK")
SERVER_CPU, LOAD_CPU = {0}, {1} if (os.cpu_count() or 1) > 1 else {0}
HELD = (signal.SIGINT, signal.SIGTERM)


def pinned(cpus: set[int]) -> Callable[[], None]:
    """A ``preexec_fn``: the child starts on ``cpus`` (and its own children inherit them)."""
    return lambda: os.sched_setaffinity(0, cpus)


def wait_port(port: int, timeout: float = 60.0) -> None:
    wait_for_port(port, timeout)  # a server that migrates and seeds first takes a while


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the whole process (all its threads), in clock ticks' resolution."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def runqueue_wait_s(pid: int) -> float:
    """Time the process's main thread (the event loop) spent runnable but waiting for a CPU."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def descendants(pid: int) -> list[int]:
    """``pid`` and every process below it, from the parent links in ``/proc``."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):  # gone meanwhile
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, ()))
    return found


def pin_tree(pid: int, cpus: set[int]) -> int:
    """Move a running process and its children to ``cpus``; the children it forks later inherit
    the affinity (a PostgreSQL postmaster's connection backends). Returns how many were moved."""
    moved = 0
    for each in descendants(pid):
        try:
            os.sched_setaffinity(each, cpus)
            moved += 1
        except (ProcessLookupError, PermissionError):
            pass
    return moved


def stop(process: subprocess.Popen[bytes] | subprocess.Popen[str] | None, *, how: int = signal.SIGINT,
         timeout: float = 15.0) -> None:
    """Ask a child to stop (SIGINT: Ctrl-C, a server's graceful shutdown), then kill it if it has
    not within ``timeout``. Safe to call on a child that has already exited."""
    if process is None or process.poll() is not None:
        return
    try:
        process.send_signal(how)
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)
    except ProcessLookupError:
        pass


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM wait until the block ends, then stop the benchmark as usual. For the
    moments a child is being started: interrupted halfway, it would run on with nobody to stop
    it (a context manager that has not finished entering never exits). The children get the
    default handlers, not these (a Python handler does not survive ``exec``)."""
    caught: list[int] = []
    previous = {s: signal.signal(s, lambda signum, _frame: caught.append(signum)) for s in HELD}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    if caught:
        raise KeyboardInterrupt


def terminate_as_interrupt() -> None:
    """SIGTERM stops a benchmark the way Ctrl-C does: through its ``finally`` blocks, which stop its
    children (the default action would end it at once and leave them running)."""
    def interrupt(_signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def started(stack: contextlib.ExitStack, args: list[str], *, how: int = signal.SIGINT,
            **popen: Any) -> subprocess.Popen[Any]:
    """``subprocess.Popen(args, **popen)`` whose ``stop`` is on ``stack`` before an interrupt can
    land: the child is stopped when the stack unwinds, whatever ends it."""
    with interrupts_held():
        process: subprocess.Popen[Any] = subprocess.Popen(args, **popen)
        stack.callback(stop, process, how=how)
    return process
