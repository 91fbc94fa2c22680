"""The server process of ``bench.mobile_actions``: the app under test served by uvicorn exactly as
``fieldline serve`` serves it (``fieldline.server``: uvloop, httptools, lifespan on, the collector
settled), until SIGINT or SIGTERM. Owns what the server side needs: the bench's business-hours clock
and the product's settings; the peers are ``bench.mobile_peers``.

    python -m bench.mobile_server --port P --database-url URL --app product|ceiling|ceiling-driver|floor
        [--clock-start ISO --clock-t0 MONOTONIC]

The benchmark starts it pinned to CPU 0 and reads its CPU from ``/proc``; it prints nothing but
the app's warnings."""

from __future__ import annotations

import argparse
import contextlib
import time
from datetime import UTC, datetime, timedelta

from starlette.applications import Starlette

from backend.observability import configure_logging
from backend.settings import Settings
from bench.mobile_peers import ceiling_app, floor_app
from fieldline import server
from fieldline.app import create_app

APPS = ("product", "ceiling", "ceiling-driver", "floor")


class BusinessHoursClock:
    """Real time passing from Monday 09:30 in Shanghai: the run happens in business hours whatever
    the hour of the machine, so the daily clearing (17:00) never urges the bench's orders midway
    and deadlines fall due as they would (none within a run: acknowledging takes seconds).

    The benchmark's process (which creates the orders) and each server it starts must agree on
    "now": a server is given the benchmark clock's ``start`` and ``t0``. ``t0`` is a
    ``time.monotonic()`` reading, which Linux takes from CLOCK_MONOTONIC, one clock for every
    process of the machine (and, unlike the wall clock, never stepped by NTP mid-run)."""

    START = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)

    def __init__(self, start: datetime | None = None, t0: float | None = None) -> None:
        self.start = start or self.START
        self.t0 = time.monotonic() if t0 is None else t0

    def now(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self.t0)


def settings_for(url: str) -> Settings:
    return Settings(environment="test", database_url=url, demo_data=False, simulator=False, log_json=False,
                    log_level="WARNING")


def app_for(kind: str, url: str, clock: BusinessHoursClock) -> Starlette:
    if kind == "product":
        return create_app(settings_for(url), clock=clock)
    if kind == "floor":
        return floor_app(url)
    return ceiling_app(url, on_driver=kind == "ceiling-driver")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.mobile_server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--app", choices=APPS, default="product")
    parser.add_argument("--clock-start", type=datetime.fromisoformat, default=BusinessHoursClock.START)
    parser.add_argument("--clock-t0", type=float, default=None, help="the benchmark clock's time.monotonic() origin")
    args = parser.parse_args()
    settings = settings_for(args.database_url)
    configure_logging(settings.log_level, settings.log_json)
    app = app_for(args.app, args.database_url, BusinessHoursClock(args.clock_start, args.clock_t0))
    # As ``fieldline serve`` (fieldline/cli.py): uvicorn shuts down gracefully on SIGINT, then
    # re-raises the interrupt; SIGTERM stops it the same way without the re-raise.
    with contextlib.suppress(KeyboardInterrupt):
        server.Server(server.config(app, port=args.port)).run()


if __name__ == "__main__":
    main()
