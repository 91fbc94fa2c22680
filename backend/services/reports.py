"""Report jobs: requested at the console (a ``report_job`` row), generated in the background (the
embedded runner or an arq job) with progress, stored as rows (JSON), downloaded as CSV/XLSX
(``reports_export``) and served as JSON for charts. The cohort is the orders reported in the period."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import select

from backend import errors
from backend import events as ev
from backend.domain.actors import Principal
from backend.domain.calendar import BusinessCalendar
from backend.domain.sla.reporting import OrderFacts, Report, Table, build
from backend.domain.work_orders import FIELD_KINDS
from backend.persistence.tables import Equipment, Provider, User, WorkOrder
from backend.persistence.tables_sla import ReportJob, SlaDeadline
from backend.services.uow import UnitOfWork, UnitOfWorkFactory
from backend.settings import Settings

log = logging.getLogger(__name__)
CHUNK = 10_000
STALE_AFTER = timedelta(minutes=15)  # longer than the jobs queue's timeout (600 s)


def parse_period(period: str) -> tuple[date, date]:
    """``YYYY-MM-DD`` (daily) or ``YYYY-MM`` (monthly) -> [first day, day after the last)."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", period):
            day = date.fromisoformat(period)
            return day, day + timedelta(days=1)
        if re.fullmatch(r"\d{4}-\d{2}", period):
            first = date.fromisoformat(f"{period}-01")
            return first, (first + timedelta(days=32)).replace(day=1)
    except ValueError:
        pass
    raise errors.ValidationFailed("report-period-invalid", "a period is YYYY-MM-DD (daily) or YYYY-MM (monthly)",
                                  period=period)


def period_bounds(period: str, calendar: BusinessCalendar) -> tuple[datetime, datetime]:
    first, after = parse_period(period)
    return (datetime.combine(first, datetime.min.time(), tzinfo=calendar.tz),
            datetime.combine(after, datetime.min.time(), tzinfo=calendar.tz))


@dataclass(frozen=True)
class ReportJobView:
    id: int
    report: str
    period: str
    state: str
    progress: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error: str | None
    rows: int | None


def _view(job: ReportJob) -> ReportJobView:
    rows = len(job.result["rows"]) if job.result else None
    return ReportJobView(job.id or 0, job.report, job.period, job.state, job.progress, job.created_at,
                         job.started_at, job.finished_at, job.error, rows)


async def request_report(uow: UnitOfWork, actor: Principal, report: str, period: str) -> ReportJobView:
    try:
        name = Report(report)
    except ValueError:
        raise errors.ValidationFailed("report-unknown", f"unknown report {report!r}",
                                      allowed=[r.value for r in Report]) from None
    parse_period(period)
    job = ReportJob(report=str(name), period=period, state="queued", requested_by=actor.user_id,
                    created_at=uow.now())
    uow.session.add(job)
    await uow.session.flush()
    uow.job_queued()
    uow.audit(actor, "report.requested", "report_job", job.id, report=str(name), period=period)
    return _view(job)


async def _job(uow: UnitOfWork, job_id: int) -> ReportJob:
    job = await uow.session.get(ReportJob, job_id, populate_existing=True)
    if job is None:
        raise errors.NotFound("report-not-found", f"no report job {job_id}")
    return job


async def get_job(uow: UnitOfWork, job_id: int) -> ReportJobView:
    return _view(await _job(uow, job_id))


async def result(uow: UnitOfWork, job_id: int) -> tuple[ReportJobView, Table]:
    job = await _job(uow, job_id)
    if job.state != "done" or job.result is None:
        raise errors.Conflict("report-not-ready", f"the report is {job.state}", state=job.state,
                              progress=job.progress)
    data = job.result
    return _view(job), Table(data["columns"], data["rows"], data["totals"])


# --- generation --------------------------------------------------------------------------------

async def queued_ids(uows: UnitOfWorkFactory, limit: int = 100) -> list[int]:
    """Report jobs waiting for a worker, oldest first (scaled mode gives each an arq job)."""
    async with uows() as uow:
        return list((await uow.session.exec(select(ReportJob.id).where(ReportJob.state == "queued")
                                            .order_by(ReportJob.id).limit(limit))).all())  # type: ignore[arg-type]


async def _claim(uows: UnitOfWorkFactory, job_id: int | None) -> ReportJob | None:
    """A queued job, or one whose runner died (running for longer than any run may take)."""
    async with uows() as uow:
        now = uow.now()
        claimable = or_(ReportJob.state == "queued",
                        and_(ReportJob.state == "running", ReportJob.started_at < now - STALE_AFTER))  # type: ignore[operator]
        stmt = select(ReportJob.id).where(claimable)
        if job_id is not None:
            stmt = stmt.where(ReportJob.id == job_id)
        found = (await uow.session.exec(stmt.order_by(ReportJob.id).limit(1))).first()
        if found is None:
            return None
        claimed = await uow.session.exec(update(ReportJob).where(  # type: ignore[call-overload]
            ReportJob.id == found, claimable).values(state="running", started_at=now, progress=1))
        if claimed.rowcount != 1:
            return None
        job = await uow.session.get(ReportJob, found, populate_existing=True)
        await uow.commit()
        return job


async def _progress(uows: UnitOfWorkFactory, job_id: int, progress: int) -> None:
    async with uows() as uow:
        await uow.session.exec(update(ReportJob).where(ReportJob.id == job_id).values(  # type: ignore[call-overload, arg-type]
            progress=progress))
        await uow.commit()


async def run_next(uows: UnitOfWorkFactory, settings: Settings, job_id: int | None = None) -> bool:
    """Claim one queued job (the oldest, or ``job_id``) and generate it; False if there was none.
    A job that fails is marked failed with the error; it is not retried automatically."""
    job = await _claim(uows, job_id)
    if job is None or job.id is None:
        return False
    try:
        table = await generate(uows, settings, job.id, Report(job.report), job.period)
    except Exception as exc:
        log.exception("report job %s failed", job.id)
        async with uows() as uow:
            await uow.session.exec(update(ReportJob).where(ReportJob.id == job.id).values(  # type: ignore[call-overload, arg-type]
                state="failed", finished_at=uow.now(), error=f"{type(exc).__name__}: {exc}"[:500]))
            uow.emit(ev.ReportFailed(report_job_id=job.id, report=job.report, error=type(exc).__name__))
            await uow.commit()
        return True
    async with uows() as uow:
        await uow.session.exec(update(ReportJob).where(ReportJob.id == job.id).values(  # type: ignore[call-overload, arg-type]
            state="done", progress=100, finished_at=uow.now(),
            result={"columns": table.columns, "rows": _jsonable(table.rows), "totals": table.totals}))
        uow.emit(ev.ReportReady(report_job_id=job.id, report=job.report, period=job.period, rows=len(table.rows)))
        await uow.commit()
    return True


def _jsonable(rows: list[list[Any]]) -> list[list[Any]]:
    return [[v.isoformat() if isinstance(v, datetime) else v for v in row] for row in rows]


async def generate(uows: UnitOfWorkFactory, settings: Settings, job_id: int, report: Report,
                   period: str) -> Table:
    cohort: list[OrderFacts] = []
    async with uows() as uow:
        start, end = period_bounds(period, uow.calendar)
        total = await _count(uow, start, end)
        # Second dispatches are field orders opened from another; a complaint may name an order too.
        second = set((await uow.session.exec(sa_select(WorkOrder.parent_id).where(  # type: ignore[call-overload]
            WorkOrder.parent_id.is_not(None), WorkOrder.kind.in_([str(k) for k in FIELD_KINDS]))  # type: ignore[union-attr, attr-defined]
            .distinct())).scalars().all())
        providers = dict((await uow.session.exec(sa_select(Provider.id, Provider.name))).all())  # type: ignore[call-overload]
        engineers = dict((await uow.session.exec(sa_select(User.id, User.display_name))).all())  # type: ignore[call-overload]
    after = 0
    while True:
        async with uows() as uow:
            chunk = await _load(uow, start, end, after, second)
        if not chunk:
            break
        cohort += chunk
        after = chunk[-1].id
        await _progress(uows, job_id, min(90, 5 + int(85 * len(cohort) / max(total, 1))))
    cohort = await _attribute_complaints(uows, cohort)
    return build(report, cohort, provider_names=providers, engineer_names=engineers,
                 threshold=settings.report_fault_share_threshold, min_count=settings.report_fault_min_count)


async def _count(uow: UnitOfWork, start: datetime, end: datetime) -> int:
    stmt = sa_select(func.count()).select_from(WorkOrder).where(WorkOrder.reported_at >= start,  # type: ignore[arg-type]
                                                                WorkOrder.reported_at < end)  # type: ignore[arg-type]
    return (await uow.session.exec(stmt)).scalar_one()  # type: ignore[call-overload]


async def _load(uow: UnitOfWork, start: datetime, end: datetime, after: int, second: set[int]) -> list[OrderFacts]:
    w, d = WorkOrder, SlaDeadline
    # An order dispatched to an engineer belongs to the engineer's provider.
    provider = func.coalesce(w.provider_id, User.provider_id)
    stmt = (sa_select(w.id, w.number, w.kind, w.state, provider, w.engineer_id, w.reported_at, w.completed_at,
                      w.urge_count, d.state, w.follow_up, w.report, Equipment.model, w.parent_id, w.register_number,
                      w.contact_name, w.contact_phone, w.description, w.complaint_level, w.answer, w.closed_at)
            .outerjoin(User, User.id == w.engineer_id)
            .outerjoin(Equipment, Equipment.id == w.equipment_id)
            .outerjoin(d, and_(d.work_order_id == w.id, d.rule == "response"))
            .where(w.reported_at >= start, w.reported_at < end, w.id > after)  # type: ignore[arg-type, operator]
            .order_by(w.id).limit(CHUNK))
    facts = []
    for r in (await uow.session.exec(stmt)).all():  # type: ignore[call-overload]
        report = r[11] or {}
        facts.append(OrderFacts(
            id=r[0], number=r[1], kind=r[2], state=r[3], provider_id=r[4], engineer_id=r[5], reported_at=r[6],
            completed_at=r[7], urge_count=r[8], response=r[9], second_dispatched=r[0] in second, follow_up=r[10],
            faulty_part=report.get("faulty_part"), equipment_model=r[12], parent_id=r[13],
            register_number=r[14], contact_name=r[15], contact_phone=r[16], description=r[17],
            complaint_level=r[18], answer=r[19], closed_at=r[20]))
    return facts


async def _attribute_complaints(uows: UnitOfWorkFactory, cohort: list[OrderFacts]) -> list[OrderFacts]:
    """A complaint about an order (its parent) counts against that order's provider and engineer."""
    parents = {o.parent_id for o in cohort if o.kind == "complaint" and o.parent_id is not None}
    if not parents:
        return cohort
    async with uows() as uow:
        provider = func.coalesce(WorkOrder.provider_id, User.provider_id)
        rows = (await uow.session.exec(sa_select(WorkOrder.id, provider, WorkOrder.engineer_id)  # type: ignore[call-overload]
                                       .outerjoin(User, User.id == WorkOrder.engineer_id)
                                       .where(WorkOrder.id.in_(parents)))).all()  # type: ignore[union-attr]
    who = {r[0]: (r[1], r[2]) for r in rows}
    return [replace(o, about_provider_id=who[o.parent_id][0], about_engineer_id=who[o.parent_id][1])
            if o.kind == "complaint" and o.parent_id in who else o for o in cohort]


def chart_data(report: str, table: Table) -> dict[str, Any]:
    """The report reshaped for the console's charts."""
    col = {name: i for i, name in enumerate(table.columns)}
    if report in (Report.PROVIDERS, Report.ENGINEERS):
        labels = [row[1] for row in table.rows]
        series = {name: [row[col[name]] for row in table.rows]
                  for name in ("volume", "on_time_pct", "overdue", "urges", "complaints", "second_dispatches",
                               "avg_satisfaction")}
        return {"labels": labels, "series": series, "totals": table.totals}
    if report == Report.FAULT_STRUCTURE:
        models: dict[str, dict[str, list[Any]]] = {}
        for model, part, count, _, share, flagged in table.rows:
            m = models.setdefault(model, {"parts": [], "counts": [], "shares": [], "flagged": []})
            for key, value in (("parts", part), ("counts", count), ("shares", share), ("flagged", flagged)):
                m[key].append(value)
        return {"models": models, "totals": table.totals}
    by_level: dict[str, int] = {}
    by_progress: dict[str, int] = {}
    for row in table.rows:
        by_level[row[col["level"]] or "-"] = by_level.get(row[col["level"]] or "-", 0) + 1
        by_progress[row[col["progress"]]] = by_progress.get(row[col["progress"]], 0) + 1
    return {"by_level": by_level, "by_progress": by_progress, "totals": table.totals}
