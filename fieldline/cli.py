"""``fieldline`` command line: run (migrate + demo data + serve), migrate, seed, serve."""

from __future__ import annotations

import argparse
import asyncio
import sys

import uvicorn

from backend.observability import configure_logging
from backend.persistence.db import create_engine
from backend.persistence.migrate import upgrade
from backend.settings import Settings
from fieldline.app import create_app


async def _migrate(settings: Settings) -> None:
    engine = create_engine(settings.database_url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


def _serve(settings: Settings) -> None:
    app = create_app(settings)
    config = uvicorn.Config(
        app, host=settings.host, port=settings.port, log_config=None, access_log=False,
        timeout_graceful_shutdown=10, ws_max_size=65536, proxy_headers=False,
    )
    uvicorn.Server(config).run()


def _banner(settings: Settings) -> None:
    base = settings.base_url
    print(f"""
Fieldline is starting on {base}  ({'scaled' if settings.scaled else 'embedded'} mode)
  health        {base}/healthz   readiness {base}/readyz   metrics {base}/metrics
Press Ctrl-C to stop.
""", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fieldline")
    parser.add_argument("command", choices=["run", "migrate", "serve"], help="what to do")
    args = parser.parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    if args.command in ("run", "migrate"):
        asyncio.run(_migrate(settings))
    if args.command == "migrate":
        return 0
    _banner(settings)
    _serve(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
