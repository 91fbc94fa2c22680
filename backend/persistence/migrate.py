"""Run the Alembic migrations programmatically (``fieldline migrate``, start-up, tests)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    cfg = Config(str(MIGRATIONS / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


async def upgrade(engine: AsyncEngine, revision: str = "heads") -> None:
    def _run(connection: Any) -> None:
        cfg = alembic_config()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(_run)


async def current_revision(engine: AsyncEngine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    def _read(connection: Any) -> str | None:
        # One head per feature branch (migrations run to all heads): report them all.
        heads = MigrationContext.configure(connection).get_current_heads()
        return ",".join(sorted(heads)) or None

    async with engine.connect() as conn:
        return await conn.run_sync(_read)
