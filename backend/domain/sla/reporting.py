"""Report aggregation over the orders reported in a period (the cohort): per provider and per engineer
(volume, completed, on-time %, overdue, urges, complaints, second dispatches, follow-up results and
satisfaction), the fault structure by equipment model x faulty part, and the complaint register.
Pure: the service loads ``OrderFacts``; every total reconciles with the cohort it was given."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from backend.domain.work_orders.model import FAULT_KINDS, FIELD_KINDS, Kind


class Report(StrEnum):
    PROVIDERS = "providers"
    ENGINEERS = "engineers"
    FAULT_STRUCTURE = "fault_structure"
    COMPLAINTS = "complaints"


@dataclass(frozen=True, slots=True)
class OrderFacts:
    id: int
    number: str
    kind: str
    state: str
    provider_id: int | None
    engineer_id: int | None
    reported_at: datetime
    completed_at: datetime | None = None
    urge_count: int = 0
    response: str | None = None  # the response deadline's state: met | breached | open | cancelled
    parent_id: int | None = None
    second_dispatched: bool = False  # a second dispatch was opened from this order
    follow_up: dict[str, Any] | None = None
    faulty_part: str | None = None
    equipment_model: str | None = None
    # complaints: who the complaint is about (the parent order's provider/engineer), and the register
    about_provider_id: int | None = None
    about_engineer_id: int | None = None
    register_number: str | None = None
    contact_name: str = ""
    contact_phone: str = ""
    description: str = ""
    complaint_level: str | None = None
    answer: str | None = None
    closed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Table:
    columns: list[str]
    rows: list[list[Any]]
    totals: dict[str, Any]


PERFORMANCE_COLUMNS = ["volume", "completed", "on_time", "overdue", "on_time_pct", "urges", "complaints",
                       "second_dispatches", "follow_ups", "reached", "resolved", "unresolved",
                       "avg_satisfaction"]


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _performance(orders: list[OrderFacts], complaints: int) -> dict[str, Any]:
    on_time = sum(1 for o in orders if o.response == "met")
    overdue = sum(1 for o in orders if o.response == "breached")
    calls = [o.follow_up for o in orders if o.follow_up]
    reached = [f for f in calls if f.get("reachable")]
    scores = [f["satisfaction"] for f in reached if isinstance(f.get("satisfaction"), int)]
    return {
        "volume": len(orders),
        "completed": sum(1 for o in orders if o.completed_at is not None),
        "on_time": on_time, "overdue": overdue, "on_time_pct": _pct(on_time, on_time + overdue),
        "urges": sum(o.urge_count for o in orders),
        "complaints": complaints,
        "second_dispatches": sum(1 for o in orders if o.second_dispatched),
        "follow_ups": len(calls), "reached": len(reached),
        "resolved": sum(1 for f in reached if f.get("resolved") is True),
        "unresolved": sum(1 for f in reached if f.get("resolved") is False),
        "avg_satisfaction": round(sum(scores) / len(scores), 2) if scores else None,
    }


def performance(cohort: Iterable[OrderFacts], by: str, names: dict[int, str]) -> Table:
    """Per provider (``by="provider"``) or engineer: field orders by who has them, complaints by who
    they are about. The unassigned appear as a row with no id, so the rows sum to the totals."""
    field: dict[int | None, list[OrderFacts]] = {}
    complaints: dict[int | None, int] = {}
    all_field: list[OrderFacts] = []
    all_complaints = 0
    for o in cohort:
        if o.kind in FIELD_KINDS:
            field.setdefault(getattr(o, f"{by}_id"), []).append(o)
            all_field.append(o)
        elif o.kind == Kind.COMPLAINT:
            who = getattr(o, f"about_{by}_id")
            complaints[who] = complaints.get(who, 0) + 1
            all_complaints += 1
    keys = sorted(set(field) | set(complaints), key=lambda k: (k is None, k or 0))
    rows = []
    for key in keys:
        values = _performance(field.get(key, []), complaints.get(key, 0))
        rows.append([key, names.get(key, "(unassigned)") if key is not None else "(unassigned)",
                     *(values[c] for c in PERFORMANCE_COLUMNS)])
    return Table([f"{by}_id", "name", *PERFORMANCE_COLUMNS], rows, _performance(all_field, all_complaints))


def fault_structure(cohort: Iterable[OrderFacts], threshold: float, min_count: int) -> Table:
    """Completed fault orders by equipment model x faulty part, each part's share of its model's faults;
    a share at or above ``threshold`` (with at least ``min_count`` cases) is flagged for head office."""
    counts: dict[tuple[str, str], int] = {}
    per_model: dict[str, int] = {}
    for o in cohort:
        if o.kind in FAULT_KINDS and o.faulty_part:
            model, part = o.equipment_model or "(unknown)", o.faulty_part.strip()
            counts[(model, part)] = counts.get((model, part), 0) + 1
            per_model[model] = per_model.get(model, 0) + 1
    rows = []
    for (model, part), n in sorted(counts.items(), key=lambda kv: (kv[0][0], -kv[1], kv[0][1])):
        share = n / per_model[model]
        rows.append([model, part, n, per_model[model], round(100 * share, 1), share >= threshold and n >= min_count])
    return Table(["equipment_model", "faulty_part", "count", "model_total", "share_pct", "flagged"], rows,
                 {"faults": sum(counts.values()), "models": len(per_model), "flagged": sum(1 for r in rows if r[5]),
                  "threshold_pct": round(100 * threshold, 1)})


REGISTER_COLUMNS = ["register_number", "reported_at", "complainant", "contact", "level", "content", "progress",
                    "result", "satisfaction", "closed_at"]


def complaint_register(cohort: Iterable[OrderFacts]) -> Table:
    rows = []
    for o in sorted((o for o in cohort if o.kind == Kind.COMPLAINT), key=lambda o: (o.reported_at, o.id)):
        satisfaction = (o.follow_up or {}).get("satisfaction")
        rows.append([o.register_number, o.reported_at, o.contact_name, o.contact_phone, o.complaint_level,
                     o.description, o.state, o.answer, satisfaction, o.closed_at])
    return Table(REGISTER_COLUMNS, rows, {"complaints": len(rows),
                                          "answered": sum(1 for r in rows if r[7]),
                                          "closed": sum(1 for r in rows if r[9] is not None)})


def build(report: Report, cohort: list[OrderFacts], *, provider_names: dict[int, str],
          engineer_names: dict[int, str], threshold: float, min_count: int) -> Table:
    match report:
        case Report.PROVIDERS:
            return performance(cohort, "provider", provider_names)
        case Report.ENGINEERS:
            return performance(cohort, "engineer", engineer_names)
        case Report.FAULT_STRUCTURE:
            return fault_structure(cohort, threshold, min_count)
        case Report.COMPLAINTS:
            return complaint_register(cohort)
    raise ValueError(f"unknown report {report}")
