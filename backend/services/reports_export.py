"""A finished report as a download: CSV (UTF-8 with a BOM, so spreadsheet programs read the Chinese
text right) or XLSX (openpyxl, one sheet, a header row and a totals sheet)."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook

from backend.domain.sla.reporting import Table

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def to_csv(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(table.columns)
    writer.writerows([_cell(v) for v in row] for row in table.rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def to_xlsx(table: Table, title: str) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31] or "report")
    sheet.append(table.columns)
    for row in table.rows:
        sheet.append([_cell(v) for v in row])
    totals = book.create_sheet(title="totals")
    totals.append(["total", "value"])
    for key, value in table.totals.items():
        totals.append([key, _cell(value)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def filename(report: str, period: str, extension: str) -> str:
    return f"fieldline-{report}-{period}.{extension}"
