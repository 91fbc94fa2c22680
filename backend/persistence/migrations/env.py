"""Alembic environment: runs on the connection handed over by ``backend.persistence.migrate``."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import backend.persistence.schema  # noqa: F401  (registers every table on the metadata)

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes["connection"]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported; run `fieldline migrate`")
run_migrations_online()
