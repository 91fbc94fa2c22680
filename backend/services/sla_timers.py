"""One pass over the timer rows, shared by the embedded loop and the scaled sweep: announce deadlines
entering their warning margin, fire the due ones, advance the daily clearing. Each item is its own
transaction, so a pass interrupted anywhere loses nothing: the rows are still there next time."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from backend.persistence.repositories import sla as repo
from backend.services import clearing
from backend.services.sla_firing import Fired, Outcome, fire_due, warn_due
from backend.services.uow import UnitOfWorkFactory


@dataclass(frozen=True)
class PassResult:
    warned: int = 0
    fired: list[Fired] = field(default_factory=list)
    cleared: int = 0

    @property
    def breached(self) -> int:
        return sum(1 for f in self.fired if f.outcome is Outcome.BREACHED)

    @property
    def progressed(self) -> bool:
        return bool(self.warned or self.fired or self.cleared)


async def run_pass(uows: UnitOfWorkFactory, clearing_at: time, *, overdue_by: timedelta = timedelta(0),
                   limit: int = 500) -> PassResult:
    """``overdue_by``: fire only deadlines due at least that long ago (the scaled sweep leaves the
    on-time firing to the arq jobs and catches what they missed)."""
    fired = await fire_due(uows, limit, overdue_by=overdue_by)  # breaches first: warnings can wait a pass
    warned = await warn_due(uows, limit)
    cleared = await clearing.step(uows, clearing_at)
    return PassResult(warned, fired, cleared)


# --- scaled mode: what the arq enqueuer reads and records (the jobs themselves live in workers.sla) ---

Upcoming = tuple[int, datetime, datetime, bool]  # (deadline id, due_at, warn_at, already warned)


async def upcoming(uows: UnitOfWorkFactory, until: datetime, *, only_new: bool, limit: int) -> list[Upcoming]:
    """Open deadlines due by ``until`` (``only_new``: not yet given a job)."""
    async with uows() as uow:
        return await repo.to_enqueue(uow.session, until, only_new=only_new, limit=limit)


async def mark_enqueued(uows: UnitOfWorkFactory, deadline_ids: list[int], at: datetime) -> None:
    """Records that these deadlines have their deferred jobs (the sweep re-enqueues any that lost it)."""
    if not deadline_ids:
        return
    async with uows() as uow:
        await repo.mark_enqueued(uow.session, deadline_ids, at)
        await uow.commit()
