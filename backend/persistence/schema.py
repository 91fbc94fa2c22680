"""Imports every table module so the metadata (Alembic, tests) sees the whole schema.
Each feature keeps its tables in its own module: ``tables.py`` (core), ``tables_<feature>.py``."""

from backend.persistence import tables  # noqa: F401

# Feature table modules are appended below, one line each.
