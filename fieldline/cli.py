"""``fieldline`` command line: run (migrate + demo data + serve), migrate, seed, serve.
The composition root's other half: it may import everything, nothing imports it."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys

from backend.clock import SystemClock
from backend.demo import DEMO_LOGINS, load_demo_data
from backend.observability import configure_logging
from backend.persistence.db import create_engine, session_factory
from backend.persistence.migrate import upgrade
from backend.services.uow import UnitOfWorkFactory
from backend.settings import Settings
from fieldline import server
from fieldline.app import create_app

COMMANDS = {
    "run": "migrate, load demo data on first start, serve",
    "migrate": "bring the database schema up to date",
    "seed": "load the demo data (skipped if the database has users)",
    "serve": "serve only",
}


async def _prepare(settings: Settings, *, migrate: bool, seed: bool) -> None:
    """Migrate and/or load the demo data, on an engine of its own that is gone before serving."""
    engine = create_engine(settings.database_url)
    try:
        if migrate:
            await upgrade(engine)
        if seed:
            clock = SystemClock()
            async with UnitOfWorkFactory(session_factory(engine), clock)() as uow:
                loaded = await load_demo_data(uow, today=clock.now().astimezone(settings.tz).date())
                await uow.commit()
            print("Demo data loaded." if loaded else "Demo data skipped: the database already has users.",
                  flush=True)
    finally:
        await engine.dispose()


def _serve(settings: Settings) -> None:
    app = create_app(settings)
    config = server.config(app, host=settings.host, port=settings.port)
    # uvicorn shuts down gracefully on Ctrl-C, then re-raises the interrupt: that is a clean stop.
    with contextlib.suppress(KeyboardInterrupt):
        server.Server(config).run()


def _logins_table() -> str:
    by_role: dict[str, tuple[list[str], str]] = {}
    for role, username, password in DEMO_LOGINS:
        by_role.setdefault(role, ([], password))[0].append(username)
    rows = [f"  {role:<16}{password:<18}{', '.join(users)}" for role, (users, password) in by_role.items()]
    return "\n".join([f"  {'role':<16}{'password':<18}usernames", *rows])


def _banner(settings: Settings) -> None:
    base = settings.base_url
    logins = f"\nDemo logins:\n{_logins_table()}\n" if settings.demo_data else ""
    print(f"""
Fieldline is starting on {base}  ({'scaled' if settings.scaled else 'embedded'} mode)
  console       {base}/
  wallboard     {base}/wallboard   agent view {base}/agent   reports {base}/reports
  mobile API    {base}/api/mobile/v1/openapi.json   (docs/*.md describe every API)
  health        {base}/healthz   readiness {base}/readyz   metrics {base}/metrics
{logins}
Press Ctrl-C to stop.
""", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fieldline")
    parser.add_argument("command", choices=COMMANDS, help="; ".join(f"{k}: {v}" for k, v in COMMANDS.items()))
    command = parser.parse_args(argv).command
    settings = Settings()
    configure_logging(settings.log_level, settings.log_json)
    migrate = command in ("run", "migrate")
    seed = command == "seed" or (command == "run" and settings.demo_data)
    if migrate or seed:
        asyncio.run(_prepare(settings, migrate=migrate, seed=seed))
    if command in ("run", "serve"):
        _banner(settings)
        _serve(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
