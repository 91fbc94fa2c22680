"""Imports every table module so the metadata (Alembic, tests) sees the whole schema.
Each feature keeps its tables in its own module: ``tables.py`` (core), ``tables_<feature>.py``."""

# Feature table modules are listed below, one line each.
from backend.persistence import (  # noqa: F401
    tables,
    tables_mobile,
    tables_sla,
    tables_telephony,
    tables_wallboard,
)
