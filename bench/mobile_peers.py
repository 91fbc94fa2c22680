"""The peers of ``bench.mobile_actions``, served by ``bench.mobile_server`` as the product is: the
ceiling, a bare Starlette endpoint doing one INSERT and its commit (through SQLAlchemy Core, or on the
driver as the product's hot statements run), and the floor, a bare endpoint that sends PostgreSQL the
round trips of a mobile action and does nothing else: on one pooled connection, BEGIN, the
idempotency lock and look-up with the access token's session check, the order's read, its guarded
UPDATE, one INSERT of the event, outbox, audit and idempotency rows, COMMIT. What no implementation of
the same guarantees on the same database design can do without: raw asyncpg on SQLAlchemy's pool, no
rules, no models, no validation beyond ``json.loads`` (PostgreSQL only)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable

from sqlalchemy import text
from sqlalchemy.util.concurrency import greenlet_spawn  # checking in may close a connection: it awaits
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from backend.persistence.db import create_engine
from backend.persistence.statements import Statement


def engine_lifespan(url: str) -> Callable[[Starlette], contextlib.AbstractAsyncContextManager[None]]:
    """The product's engine (``create_engine``), made on the server's loop and disposed with it."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.engine = create_engine(url)
        try:
            yield
        finally:
            await app.state.engine.dispose()

    return lifespan


# --- the ceiling: a bare Starlette endpoint doing one INSERT ---------------------------------------

CEILING_TABLE = "bench_ceiling"
_INSERT = f"INSERT INTO {CEILING_TABLE} (k, body) VALUES (:k, :b)"


def ceiling_ddl(dialect: str) -> str:
    serial = "SERIAL" if dialect == "postgresql" else "INTEGER"
    return f"CREATE TABLE IF NOT EXISTS {CEILING_TABLE} (id {serial} PRIMARY KEY, k TEXT NOT NULL, body TEXT NOT NULL)"


def ceiling_app(url: str, on_driver: bool) -> Starlette:
    """One INSERT and its commit per request: through SQLAlchemy Core (``engine.begin()``), or with the
    machinery the product's hot statements use (``persistence.statements``: the pool's connection,
    its transaction, the statement on the driver). The engine is the product's (``create_engine``),
    made in the lifespan, on the server's loop. The table exists already (the benchmark makes it)."""
    statement = Statement(text(_INSERT))

    async def insert(request: Request) -> Response:
        body = await request.json()
        values = {"k": request.headers.get("idempotency-key", ""), "b": str(body)}
        async with request.app.state.engine.begin() as conn:
            if on_driver:
                await statement.rowcount(conn, **values)
            else:
                await conn.execute(text(_INSERT), values)
        return JSONResponse({"ok": True})

    return Starlette(routes=[Route("/insert", insert, methods=["POST"])], lifespan=engine_lifespan(url))


# --- the floor: an action's round trips, nothing else -------------------------------------------

FLOOR_ORDERS = 2_000  # rows of floor_order; lane i acts on its own orders

FLOOR_DDL = [
    "CREATE TABLE floor_session (family_id text PRIMARY KEY, user_id int NOT NULL, revoked_at timestamptz)",
    "CREATE TABLE floor_order (id serial PRIMARY KEY, state text NOT NULL, version int NOT NULL)",
    "CREATE TABLE floor_idempotency (user_id int, key text, fingerprint text, status int, body text, "
    "PRIMARY KEY (user_id, key))",
    "CREATE TABLE floor_event (id bigserial PRIMARY KEY, order_id int, seq int, type text, payload jsonb)",
    "CREATE TABLE floor_outbox (id bigserial PRIMARY KEY, type text, payload jsonb, published_at timestamptz)",
    "CREATE TABLE floor_audit (id bigserial PRIMARY KEY, action text, details jsonb)",
    "INSERT INTO floor_session VALUES ('family', 1, NULL) ON CONFLICT DO NOTHING",
    f"INSERT INTO floor_order (state, version) SELECT 'dispatched', 1 FROM generate_series(1, {FLOOR_ORDERS})",
]

# The session check rides on the lock and look-up, as the product's does (mobile_api.idempotent).
_LOCK_AND_FIND = ("SELECT (SELECT count(*) FROM floor_session WHERE family_id = $4 AND user_id = $2 "
                  "AND revoked_at IS NULL) > 0, pg_try_advisory_xact_lock($1::bigint), i.status, i.body "
                  "FROM (SELECT 1) one LEFT JOIN floor_idempotency i ON i.user_id = $2 AND i.key = $3")
_ORDER = "SELECT id, state, version FROM floor_order WHERE id = $1"
_SAVE = "UPDATE floor_order SET state = $1, version = $2 WHERE id = $3 AND version = $4"
_APPEND = ("WITH e AS (INSERT INTO floor_event (order_id, seq, type, payload) VALUES ($1, $2, $3, $4::jsonb)), "
           "o AS (INSERT INTO floor_outbox (type, payload) VALUES ($3, $4::jsonb)), "
           "a AS (INSERT INTO floor_audit (action, details) VALUES ($3, $4::jsonb)) "
           "INSERT INTO floor_idempotency (user_id, key, fingerprint, status, body) VALUES ($5, $6, $7, 200, $8)")


def floor_app(url: str) -> Starlette:
    async def act(request: Request) -> Response:
        engine = request.app.state.engine
        key = request.headers["idempotency-key"]
        order_id = int(request.path_params["id"])
        body = json.loads(await request.body())
        fairy = await engine.raw_connection()
        try:
            driver = fairy.driver_connection
            async with driver.transaction():
                live, locked, status, stored = await driver.fetchrow(_LOCK_AND_FIND, hash(key) & 0x7FFF_FFFF, 1,
                                                                     key, "family")
                if not live:
                    return Response(status_code=401)
                if not locked:
                    return Response(status_code=409)
                if stored is not None:
                    return Response(stored, status_code=status, media_type="application/json")
                _, state, version = await driver.fetchrow(_ORDER, order_id)
                new_state = "on_hold" if state != "on_hold" else "on_site"
                if await driver.execute(_SAVE, new_state, version + 1, order_id, version) != "UPDATE 1":
                    return Response(status_code=409)
                payload = json.dumps({"work_order_id": order_id, "state": new_state, "body": body})
                out = json.dumps({"outcome": "applied", "state": new_state, "version": version + 1})
                await driver.execute(_APPEND, order_id, version + 1, "WorkOrderActed", payload, 1, key, "fp", out)
        finally:
            await greenlet_spawn(fairy.close)
        return Response(out, media_type="application/json")

    return Starlette(routes=[Route("/floor/{id:int}", act, methods=["POST"])], lifespan=engine_lifespan(url))
