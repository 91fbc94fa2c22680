"""Test-only injection into a running app's database, run as a subprocess (never shipped, never
mounted): it writes through the real services in a unit of work, and the app's outbox relay hands
the events to the hub as it does for any other writer.

    python -m tests.e2e.inject <database url> '<json>'

``{"sla_breach": {"work_order_id", "number", "rule"}}`` emits an ``SlaBreached`` event the way the
SLA engine does; ``{"telephony": [{"command": "JoinQueue", ...}]}`` ingests telephony commands."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from backend.clock import SystemClock
from backend.domain.telephony import commands as tc
from backend.events.sla import SlaBreached
from backend.persistence.db import create_engine, session_factory
from backend.services import telephony
from backend.services.uow import UnitOfWorkFactory


def _telephony_command(spec: dict[str, Any], now: datetime) -> tc.Command:
    spec = dict(spec)
    cls = getattr(tc, spec.pop("command"))
    if "queues" in spec:
        spec["queues"] = tuple(spec["queues"])
    return cls(event_id=spec.pop("event_id", uuid.uuid4().hex), at=now, **spec)


async def inject(database_url: str, what: dict[str, Any]) -> None:
    engine = create_engine(database_url)
    try:
        uows = UnitOfWorkFactory(session_factory(engine), SystemClock())
        async with uows() as uow:
            now = uow.now()
            if "sla_breach" in what:
                b = what["sla_breach"]
                uow.emit(SlaBreached(
                    work_order_id=b["work_order_id"], number=b["number"], rule=b.get("rule", "acknowledge"),
                    breach_id=b.get("breach_id", 900_000 + b["work_order_id"]), deadline_id=b.get("deadline_id", 0),
                    kind=b.get("kind", "repair"), due_at=now - timedelta(seconds=5), detected_at=now,
                    escalation=b.get("escalation", "phone_engineer")))
            if "telephony" in what:
                commands = [_telephony_command(spec, now) for spec in what["telephony"]]
                result = await telephony.ingest(uow, commands, source="e2e")
                if result.rejected:
                    raise SystemExit(f"rejected: {result.rejected}")
            await uow.commit()
    finally:
        await engine.dispose()


if __name__ == "__main__":
    asyncio.run(inject(sys.argv[1], json.loads(sys.argv[2])))
    print(datetime.now(UTC).isoformat())
