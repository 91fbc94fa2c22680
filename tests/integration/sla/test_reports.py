"""Reports on a generated month of orders (a seeded mix: on time, overdue, urged, cancelled, open,
followed up, second dispatches, complaints about orders, faults by model and part, plus orders
outside the month): every total reconciles with the orders themselves, counted independently;
the exports carry the same rows; the job reports progress and its event."""

from __future__ import annotations

import csv
import io
import random
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook

from backend.domain.work_orders import FIELD_KINDS
from backend.domain.work_orders import commands as c
from backend.persistence.tables import WorkOrder
from backend.persistence.tables_sla import ReportJob, SlaDeadline
from backend.services import reports, reports_export
from backend.settings import Settings
from tests.integration.sla.support import Env, report

MONTH_START = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)  # 1 November 2026, 00:00 in Shanghai
SETTINGS = Settings(environment="test", report_fault_share_threshold=0.5, report_fault_min_count=2)


async def _generate_month(env: Env, rng: random.Random) -> None:
    """Orders over the month, and one before it."""
    ref = env.ref
    engineers = [ref.eng_a, ref.eng_b, ref.eng_c]
    parts = ["main pump seal", "main pump seal", "track roller", "hydraulic hose"]
    repairs: list[int] = []
    hours = 10_000.0  # meter readings only go up
    for day in range(0, 28, 1):
        env.clock.set(MONTH_START + timedelta(days=day, hours=rng.choice([2, 5, 9])))
        order = await env.create(rng.choice(["repair", "repair", "rescue", "installation"]),
                                 equipment_id=rng.choice([ref.equipment, ref.old_equipment]))
        fate = rng.choice(["open", "cancel", "done", "done", "late", "urged"])
        if fate == "cancel":
            await env.act(ref.agent, order.id, c.Cancel(reason="not needed"))
            continue
        eng = rng.choice(engineers)
        await env.act(ref.agent, order.id, c.Dispatch(engineer_id=eng.user_id))
        if fate == "urged":
            await env.act(ref.agent, order.id, c.Urge(by="customer"))
        if fate == "open":
            continue
        await env.act(eng, order.id, c.Acknowledge())
        await env.act(eng, order.id, c.ContactCustomer(appointment_at=env.clock.now() + timedelta(hours=2)))
        if fate == "late":
            await env.advance(hours=80)  # past every zone's response time: the timer marks it overdue
        await env.act(eng, order.id, c.Depart())
        await env.act(eng, order.id, c.Arrive())
        hours += 10
        await env.act(eng, order.id, c.Complete(report=report(env.clock.now(), part=rng.choice(parts), hours=hours)))
        await env.act(ref.agent, order.id, c.Approve())
        if order.kind != "installation":
            resolved = rng.random() < 0.8
            await env.act(ref.agent, order.id, c.RecordFollowUp(
                reachable=True, satisfaction=rng.randint(1, 5), resolved=resolved, note="" if resolved else "again"))
            repairs.append(order.id)
    for parent in repairs[:3]:  # complaints about some of the repairs
        env.clock.set(MONTH_START + timedelta(days=28, hours=3))
        await env.create("complaint", complaint_level="medium", parent_id=parent, description="late engineer")
    env.clock.set(MONTH_START - timedelta(days=2))  # October: outside the period
    await env.create("repair")
    env.clock.set(MONTH_START + timedelta(days=31))


async def _run(env: Env, name: str) -> reports.Table:
    async with env.uow() as uow:
        job = await reports.request_report(uow, env.ref.supervisor, name, "2026-11")
    assert await reports.run_next(env.uows, SETTINGS)
    [row] = await env.rows(ReportJob, ReportJob.id == job.id)
    assert (row.state, row.progress) == ("done", 100)
    async with env.uows() as uow:
        _, table = await reports.result(uow, job.id)
    return table


async def test_a_month_of_reports_reconciles_with_its_orders(env: Env) -> None:
    await _generate_month(env, random.Random(2026))
    start, end = MONTH_START, MONTH_START + timedelta(days=30)
    cohort = [o for o in await env.rows(WorkOrder) if start <= o.reported_at < end]
    field = [o for o in cohort if o.kind in FIELD_KINDS]
    response = {d.work_order_id: d.state for d in await env.rows(SlaDeadline, SlaDeadline.rule == "response")}
    parents = {o.parent_id for o in await env.rows(WorkOrder) if o.parent_id and o.kind in FIELD_KINDS}
    expected = {
        "volume": len(field),
        "completed": sum(1 for o in field if o.completed_at),
        "on_time": sum(1 for o in field if response.get(o.id) == "met"),
        "overdue": sum(1 for o in field if response.get(o.id) == "breached"),
        "urges": sum(o.urge_count for o in field),
        "complaints": sum(1 for o in cohort if o.kind == "complaint"),
        "second_dispatches": sum(1 for o in field if o.id in parents),
        "follow_ups": sum(1 for o in field if o.follow_up),
        "resolved": sum(1 for o in field if o.follow_up and o.follow_up["resolved"] is True),
        "unresolved": sum(1 for o in field if o.follow_up and o.follow_up["resolved"] is False),
    }
    assert expected["overdue"] > 0 and expected["urges"] > 0 and expected["second_dispatches"] > 0
    for name in ("providers", "engineers"):
        table = await _run(env, name)
        col = {n: i for i, n in enumerate(table.columns)}
        for key, value in expected.items():
            assert table.totals[key] == value, (name, key)
            assert sum(row[col[key]] for row in table.rows) == value, (name, key)
    faults = await _run(env, "fault_structure")
    completed_faults = [o for o in field if o.kind in ("repair", "rescue") and o.report]
    assert faults.totals["faults"] == sum(r[2] for r in faults.rows) == len(completed_faults)
    for model in {r[0] for r in faults.rows}:
        assert round(sum(r[4] for r in faults.rows if r[0] == model)) == 100
    assert any(r[5] for r in faults.rows)  # the pump seal is over the 50 % threshold on some model
    register = await _run(env, "complaints")
    assert [r[0] for r in register.rows] == sorted(o.register_number for o in cohort if o.kind == "complaint")
    csv_rows = list(csv.reader(io.StringIO(reports_export.to_csv(register).decode("utf-8-sig"))))
    assert csv_rows[0] == register.columns and len(csv_rows) == len(register.rows) + 1
    book = load_workbook(io.BytesIO(reports_export.to_xlsx(faults, "fault_structure")))
    sheet = book["fault_structure"]
    assert [c.value for c in sheet[1]] == faults.columns and sheet.max_row == len(faults.rows) + 1
    assert [o.type for o in await env.outbox("ReportReady")] == ["ReportReady"] * 4
