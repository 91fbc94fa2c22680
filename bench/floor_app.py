"""The floor peer of ``bench.mobile_actions``: a bare Starlette endpoint that sends PostgreSQL the
round trips of a mobile action and does nothing else. What no implementation of the same guarantees
on the same database design can do without: the access token's session checked on a pooled
connection; then, on another, BEGIN, the idempotency lock and look-up, the order's read, its guarded
UPDATE, one INSERT of the event, outbox, audit and idempotency rows, COMMIT. Raw asyncpg on
SQLAlchemy's pool, no rules, no models, no validation beyond ``json.loads``. PostgreSQL only."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator

from sqlalchemy.util.concurrency import greenlet_spawn  # checking in may close a connection: it awaits
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from backend.persistence.db import create_engine

ORDERS = 2_000  # rows of floor_order; lane i acts on its own orders

DDL = [
    "CREATE TABLE floor_session (family_id text PRIMARY KEY, user_id int NOT NULL, revoked_at timestamptz)",
    "CREATE TABLE floor_order (id serial PRIMARY KEY, state text NOT NULL, version int NOT NULL)",
    "CREATE TABLE floor_idempotency (user_id int, key text, fingerprint text, status int, body text, "
    "PRIMARY KEY (user_id, key))",
    "CREATE TABLE floor_event (id bigserial PRIMARY KEY, order_id int, seq int, type text, payload jsonb)",
    "CREATE TABLE floor_outbox (id bigserial PRIMARY KEY, type text, payload jsonb, published_at timestamptz)",
    "CREATE TABLE floor_audit (id bigserial PRIMARY KEY, action text, details jsonb)",
    "INSERT INTO floor_session VALUES ('family', 1, NULL) ON CONFLICT DO NOTHING",
    f"INSERT INTO floor_order (state, version) SELECT 'dispatched', 1 FROM generate_series(1, {ORDERS})",
]

_SESSION = "SELECT count(*) FROM floor_session WHERE family_id = $1 AND user_id = $2 AND revoked_at IS NULL"
_LOCK_AND_FIND = ("SELECT pg_try_advisory_xact_lock($1::bigint), i.status, i.body FROM (SELECT 1) one "
                  "LEFT JOIN floor_idempotency i ON i.user_id = $2 AND i.key = $3")
_ORDER = "SELECT id, state, version FROM floor_order WHERE id = $1"
_SAVE = "UPDATE floor_order SET state = $1, version = $2 WHERE id = $3 AND version = $4"
_APPEND = ("WITH e AS (INSERT INTO floor_event (order_id, seq, type, payload) VALUES ($1, $2, $3, $4::jsonb)), "
           "o AS (INSERT INTO floor_outbox (type, payload) VALUES ($3, $4::jsonb)), "
           "a AS (INSERT INTO floor_audit (action, details) VALUES ($3, $4::jsonb)) "
           "INSERT INTO floor_idempotency (user_id, key, fingerprint, status, body) VALUES ($5, $6, $7, 200, $8)")


def floor_app(url: str) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        app.state.engine = create_engine(url)
        try:
            yield
        finally:
            await app.state.engine.dispose()

    async def act(request: Request) -> Response:
        engine = request.app.state.engine
        key = request.headers["idempotency-key"]
        order_id = int(request.path_params["id"])
        fairy = await engine.raw_connection()
        try:
            live = await fairy.driver_connection.fetchval(_SESSION, "family", 1)
        finally:
            await greenlet_spawn(fairy.close)
        if not live:
            return Response(status_code=401)
        body = json.loads(await request.body())
        fairy = await engine.raw_connection()
        try:
            driver = fairy.driver_connection
            async with driver.transaction():
                locked, status, stored = await driver.fetchrow(_LOCK_AND_FIND, hash(key) & 0x7FFF_FFFF, 1, key)
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

    return Starlette(routes=[Route("/floor/{id:int}", act, methods=["POST"])], lifespan=lifespan)
