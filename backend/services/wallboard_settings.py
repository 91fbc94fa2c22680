"""The pages' settings and read models: wallboard thresholds (read by everyone who sees the
wallboard, changed by supervisors and admins, audited), the directory labels the console shows,
and today's abandoned callers still to call back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from backend import errors
from backend.domain import thresholds as rules
from backend.domain.actors import Principal, Role
from backend.domain.call_backs import CallBack, Interval, LedgerCall, intraday, to_call_back
from backend.persistence.repositories import wallboard as repo
from backend.persistence.tables_wallboard import WallboardThreshold
from backend.services.uow import UnitOfWork

EDITORS = frozenset({Role.SUPERVISOR, Role.ADMIN})


@dataclass(frozen=True)
class ThresholdView:
    queue: str
    metric: str
    amber: float
    red: float


async def list_thresholds(uow: UnitOfWork) -> list[ThresholdView]:
    return [ThresholdView(r.queue, r.metric, r.amber, r.red) for r in await repo.thresholds(uow.session)]


def _require_editor(actor: Principal) -> None:
    if actor.role not in EDITORS:
        raise errors.Forbidden("role-not-allowed", "only supervisors change wallboard thresholds")


async def set_threshold(uow: UnitOfWork, actor: Principal, queue: str, metric: str, amber: float,
                        red: float) -> ThresholdView:
    """Create or replace one threshold; the previous values go into the audit row."""
    _require_editor(actor)
    valid = rules.validate(queue, metric, amber, red)
    row = await repo.threshold(uow.session, queue, metric)
    before = {"amber": row.amber, "red": row.red} if row else None
    if row is None:
        row = WallboardThreshold(queue=queue, metric=metric, amber=valid.amber, red=valid.red)
    row.amber, row.red = valid.amber, valid.red
    row.updated_by, row.updated_at = actor.user_id, uow.now()
    uow.session.add(row)
    uow.audit(actor, "wallboard.threshold.set", "wallboard_threshold", f"{queue}/{metric}",
              before=before, after={"amber": valid.amber, "red": valid.red})
    await uow.session.flush()
    return ThresholdView(queue, metric, valid.amber, valid.red)


async def reset_threshold(uow: UnitOfWork, actor: Principal, queue: str, metric: str) -> None:
    """Back to the all-queues value or the default; resetting one that is not set is a no-op."""
    _require_editor(actor)
    row = await repo.threshold(uow.session, queue, metric)
    if row is not None:
        uow.audit(actor, "wallboard.threshold.reset", "wallboard_threshold", f"{queue}/{metric}",
                  before={"amber": row.amber, "red": row.red})
        await uow.session.delete(row)
        await uow.session.flush()


def metric_specs() -> list[dict[str, Any]]:
    return [{"metric": m.name, "unit": m.unit, "higher_is_worse": m.higher_is_worse,
             "amber": m.default_amber, "red": m.default_red} for m in rules.METRICS.values()]


async def directory_labels(uow: UnitOfWork) -> dict[str, list[dict[str, Any]]]:
    """Names for the ids in work orders and queues; no contact details or credentials."""
    session = uow.session
    return {
        "engineers": [{"id": u.id, "name": u.display_name, "region_id": u.region_id, "provider_id": u.provider_id,
                       "active": u.active} for u in await repo.people(session, [str(Role.ENGINEER)])],
        "agents": [{"id": u.id, "name": u.display_name} for u in await repo.people(session, [str(Role.AGENT)])],
        "providers": [{"id": p.id, "name": p.name, "region_id": p.region_id} for p in await repo.providers(session)],
        "regions": [{"id": r.id, "code": r.code, "name": r.name} for r in await repo.regions(session)],
        "queues": [{"code": q.code, "name": q.name, "line": q.line, "sl_threshold_s": q.sl_threshold_s}
                   for q in await repo.queues(session)],
    }


async def _ledger(uow: UnitOfWork, since: datetime, until: datetime | None = None) -> list[LedgerCall]:
    return [LedgerCall(call_id=r.call_id, queue=r.queue, caller=r.caller, state=r.state, joined_at=r.joined_at,
                       left_at=r.left_at, answered_at=r.answered_at, wait_s=r.wait_s)
            for r in await repo.calls_since(uow.session, since, until)]


async def call_backs(uow: UnitOfWork, since: datetime) -> list[CallBack]:
    """Abandoned (or timed-out) callers since ``since`` who have not got through since."""
    return to_call_back(await _ledger(uow, since))


async def intraday_calls(uow: UnitOfWork, start: datetime, end: datetime) -> list[Interval]:
    """Offered / answered / abandoned per 15 minutes between ``start`` and ``end``."""
    return intraday(await _ledger(uow, start, end), start, end)
