"""Bulk data for the SLA benchmark, written with PostgreSQL COPY (asyncpg): reference data, a month
of finished orders with their response deadlines (for the reports), open orders with live timers,
and a "hot" set of deadlines falling due during a measurement window."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

WO_COLUMNS = ["id", "number", "kind", "state", "version", "channel", "region_id", "provider_id", "engineer_id",
              "customer_id", "site_id", "equipment_id", "zone", "description", "contact_name", "contact_phone",
              "special_incident", "flags", "reported_at", "scheduled_for", "dispatched_at", "completed_at",
              "report", "follow_up", "urge_count", "created_at", "updated_at"]
DL_COLUMNS = ["work_order_id", "rule", "state", "basis", "starts_at", "due_at", "warn_at", "opened_at", "closed_at"]
MODELS = ["SY215C", "SY75C", "SY365H", "SY135C"]
PARTS = ["main pump seal", "track roller", "hydraulic hose", "swing motor", "injector", "radiator"]


@dataclass
class Reference:
    engineers: list[tuple[int, int, int]]  # (user id, provider id, region id)
    customer: int
    site: int
    equipment: dict[str, int]  # model -> equipment id


def dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def reference(conn: asyncpg.Connection, now: datetime, *, regions: int = 5, providers: int = 20,
                    engineers: int = 100) -> Reference:
    region_ids = [await conn.fetchval("INSERT INTO region (code, name) VALUES ($1, $2) RETURNING id",
                                      f"r{i}", f"Region {i}") for i in range(regions)]
    provider_ids = [(await conn.fetchval(
        "INSERT INTO provider (name, region_id, phone) VALUES ($1, $2, '') RETURNING id", f"Provider {i}",
        region_ids[i % regions]), region_ids[i % regions]) for i in range(providers)]
    people = []
    for i in range(engineers):
        provider, region = provider_ids[i % providers]
        uid = await conn.fetchval(
            "INSERT INTO \"user\" (username, display_name, role, password_hash, phone, skills, active, created_at,"
            " region_id, provider_id) VALUES ($1, $2, 'engineer', 'x', '', '[]', true, $3, $4, $5) RETURNING id",
            f"eng{i}", f"Engineer {i}", now, region, provider)
        people.append((uid, provider, region))
    for r in region_ids:
        await conn.execute("INSERT INTO \"user\" (username, display_name, role, password_hash, phone, skills, active,"
                           " created_at, region_id) VALUES ($1, $1, 'service_manager', 'x', '', '[]', true, $2, $3)",
                           f"mgr{r}", now, r)
    customer = await conn.fetchval("INSERT INTO customer (name, contact_name, phone, created_at) "
                                   "VALUES ('Acme', 'Li', '13800000000', $1) RETURNING id", now)
    site = await conn.fetchval("INSERT INTO site (customer_id, name, address, zone, region_id, phone) "
                               "VALUES ($1, 'Yard', '', 'city', $2, '') RETURNING id", customer, region_ids[0])
    equipment = {m: await conn.fetchval(
        "INSERT INTO equipment (serial_number, model, customer_id, site_id, running_hours) "
        "VALUES ($1, $2, $3, $4, 0) RETURNING id", f"{m}-1", m, customer, site) for m in MODELS}
    return Reference(people, customer, site, equipment)


def _order(i: int, ref: Reference, rng: random.Random, reported: datetime, state: str,
           done: bool) -> tuple[Any, ...]:
    engineer, _, region = rng.choice(ref.engineers)
    model = rng.choice(MODELS)
    completed = reported + timedelta(hours=rng.uniform(2, 90)) if done else None
    report = json.dumps({"faulty_part": rng.choices(PARTS, weights=[5, 2, 2, 1, 1, 1])[0], "running_hours": 100})
    follow = json.dumps({"reachable": True, "satisfaction": rng.randint(1, 5), "resolved": rng.random() < 0.9}) \
        if done and rng.random() < 0.8 else None
    return (i, f"B{i:09d}", "repair", state, 3, "phone", region, None, engineer, ref.customer, ref.site,
            ref.equipment[model], "city", "bench", "Li", "13800000000", False, "[]", reported, reported,
            reported + timedelta(minutes=5), completed, report if done else None, follow,
            rng.choice([0, 0, 0, 1, 2]), reported, completed or reported)


async def finished_month(conn: asyncpg.Connection, ref: Reference, first_id: int, n: int, month_start: datetime,
                         rng: random.Random) -> None:
    """``n`` orders reported over 30 days from ``month_start``, most completed, with response rows."""
    orders, deadlines = [], []
    for k in range(n):
        i = first_id + k
        reported = month_start + timedelta(seconds=rng.uniform(0, 30 * 86400))
        done = rng.random() < 0.85
        orders.append(_order(i, ref, rng, reported, "followed_up" if done else "on_hold", done))
        due = reported + timedelta(hours=24)
        completed = orders[-1][21]
        state = ("met" if completed <= due else "breached") if completed else "breached"
        deadlines.append((i, "response", state, "wall", reported, due, due - timedelta(minutes=10), reported,
                          completed or due))
    await conn.copy_records_to_table("work_order", records=orders, columns=WO_COLUMNS)
    await conn.copy_records_to_table("sla_deadline", records=deadlines, columns=DL_COLUMNS)


async def open_orders(conn: asyncpg.Connection, ref: Reference, first_id: int, n: int, now: datetime,
                      rng: random.Random) -> int:
    """``n`` dispatched orders, each with three live timers due over the next three days."""
    orders, deadlines = [], []
    for k in range(n):
        i = first_id + k
        reported = now - timedelta(minutes=rng.uniform(1, 60))
        orders.append(_order(i, ref, rng, reported, "dispatched", False))
        for rule, hours in (("status_feedback", rng.uniform(1, 8)), ("feedback_urge", rng.uniform(2, 24)),
                            ("response", rng.uniform(20, 72))):
            due = now + timedelta(hours=hours)
            deadlines.append((i, rule, "open", "wall", reported, due, due - timedelta(minutes=10), reported, None))
    await conn.copy_records_to_table("work_order", records=orders, columns=WO_COLUMNS)
    await conn.copy_records_to_table("sla_deadline", records=deadlines, columns=DL_COLUMNS)
    return len(deadlines)


async def hot_deadlines(conn: asyncpg.Connection, order_ids: list[int], start: datetime,
                        window_s: float) -> list[tuple[int, datetime]]:
    """An acknowledge deadline for each order, due evenly over ``window_s`` from ``start``."""
    step = window_s / max(len(order_ids), 1)
    rows = []
    for k, order_id in enumerate(order_ids):
        due = start + timedelta(seconds=k * step)
        rows.append((order_id, "acknowledge", "open", "wall", due - timedelta(minutes=3), due,
                     due - timedelta(seconds=36), due - timedelta(minutes=3), None))
    await conn.copy_records_to_table("sla_deadline", records=rows, columns=DL_COLUMNS)
    found = await conn.fetch("SELECT id, due_at FROM sla_deadline WHERE rule = 'acknowledge' AND state = 'open' "
                             "AND work_order_id = ANY($1::int[])", order_ids)
    return [(r["id"], r["due_at"]) for r in found]


async def fix_sequences(conn: asyncpg.Connection) -> None:
    await conn.execute("SELECT setval('work_order_id_seq', (SELECT max(id) FROM work_order))")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)
