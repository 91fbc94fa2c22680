"""``python -m bench`` (``make bench``): every benchmark in turn, each printing its figures next to
its peer's. ``--quick`` passes on to each for a short smoke run."""

from __future__ import annotations

import subprocess
import sys

BENCHMARKS = ("bench.hub", "bench.mobile_actions", "bench.sla_timers")


def main(argv: list[str]) -> int:
    failed = []
    for module in BENCHMARKS:
        print(f"\n===== python -m {module} {' '.join(argv)}", flush=True)
        if subprocess.call([sys.executable, "-m", module, *argv]) != 0:
            failed.append(module)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
