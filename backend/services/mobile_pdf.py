"""Renders the service report PDF (fpdf2): the order, the customer and equipment, the report, the
customer's signature (the PNG, or the strokes drawn as lines when there is no PNG), the hash, and
the order's history. Pure rendering: the data comes in, bytes go out."""

from __future__ import annotations

import io
import itertools
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from fpdf import FPDF

# Fonts tried in order when no FIELDLINE_PDF_FONT_FILE is set: a CJK font first (customer names
# and fault descriptions are often Chinese), then a Unicode Latin one.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)
REPORT_LABELS = {
    "arrival_time": "Arrival time", "completion_time": "Completion time", "fault_description": "Fault",
    "faulty_part": "Faulty part", "repair_method": "Repair method", "running_hours": "Running hours",
    "customer_opinion": "Customer opinion",
}


@dataclass(frozen=True)
class ReportData:
    number: str
    kind: str
    state: str
    customer: str
    site: str
    equipment: str
    engineer: str
    times: list[tuple[str, datetime | None]]
    report: dict[str, Any] | None
    signer: str | None
    signed_at: datetime | None
    signature_png: bytes | None
    strokes: list[list[dict[str, float]]] | None
    signature_sha256: str | None
    checkin_status: str | None
    history: list[tuple[int, datetime, str, str]]  # seq, occurred_at, type, actor role


def font_file(configured: Path | None) -> Path | None:
    if configured is not None:
        return configured
    return next((Path(p) for p in FONT_CANDIDATES if Path(p).exists()), None)


class _Doc(FPDF):
    def __init__(self, font: Path | None) -> None:
        super().__init__(format="A4")
        self.set_auto_page_break(auto=True, margin=15)
        self.unicode = font is not None
        if font is not None:
            self.add_font("Body", fname=str(font))
            self.family_name = "Body"
        else:
            self.family_name = "Helvetica"

    def text_of(self, value: str) -> str:
        # The core Helvetica font covers Latin-1 only: without a Unicode font, degrade, don't fail.
        return value if self.unicode else value.encode("latin-1", "replace").decode("latin-1")

    def heading(self, text: str) -> None:
        self.ln(3)
        self.set_font(self.family_name, size=13)
        self.cell(0, 8, self.text_of(text), new_x="LMARGIN", new_y="NEXT")
        self.set_font(self.family_name, size=10)

    def row(self, label: str, value: str) -> None:
        self.set_font(self.family_name, size=10)
        self.cell(45, 6, self.text_of(label))
        self.multi_cell(0, 6, self.text_of(value or "-"), new_x="LMARGIN", new_y="NEXT")


def _when(value: Any, tz: tzinfo) -> str:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    return "" if value is None else str(value)


def _strokes(doc: _Doc, strokes: list[list[dict[str, float]]], x: float, y: float, w: float, h: float) -> None:
    points = [p for s in strokes for p in s]
    min_x, max_x = min(p["x"] for p in points), max(p["x"] for p in points)
    min_y, max_y = min(p["y"] for p in points), max(p["y"] for p in points)
    scale = min(w / ((max_x - min_x) or 1), h / ((max_y - min_y) or 1))
    doc.set_line_width(0.4)
    for stroke in strokes:
        for a, b in itertools.pairwise(stroke):
            doc.line(x + (a["x"] - min_x) * scale, y + (a["y"] - min_y) * scale,
                     x + (b["x"] - min_x) * scale, y + (b["y"] - min_y) * scale)


def render(data: ReportData, tz: tzinfo, font: Path | None = None) -> bytes:
    doc = _Doc(font_file(font))
    doc.set_title(f"Service report {data.number}")
    doc.add_page()
    doc.set_font(doc.family_name, size=16)
    doc.cell(0, 10, doc.text_of(f"Service report {data.number}"), new_x="LMARGIN", new_y="NEXT")
    doc.heading("Work order")
    for label, value in [("Kind", data.kind), ("State", data.state), ("Customer", data.customer),
                         ("Site", data.site), ("Equipment", data.equipment), ("Engineer", data.engineer)]:
        doc.row(label, value)
    for label, when in data.times:
        doc.row(label, _when(when, tz))
    doc.heading("Report")
    if data.report:
        for name, label in REPORT_LABELS.items():
            value = data.report.get(name)
            doc.row(label, _when(value, tz) if name.endswith("_time") else ("" if value is None else str(value)))
    else:
        doc.row("Report", "not reported yet")
    doc.heading("Customer signature")
    if data.signer is None:
        doc.row("Signature", "not signed")
    else:
        doc.row("Signed by", data.signer)
        doc.row("Signed at", _when(data.signed_at, tz))
        doc.row("Check-in", data.checkin_status or "")
        top = doc.get_y() + 2
        if data.signature_png is not None:
            doc.image(io.BytesIO(data.signature_png), x=doc.l_margin, y=top, h=30, keep_aspect_ratio=True)
        elif data.strokes:
            _strokes(doc, data.strokes, doc.l_margin, top, 80, 30)
        doc.set_y(top + 32)
        doc.row("SHA-256", data.signature_sha256 or "")
    doc.heading("History")
    for seq, at, kind, role in data.history:
        doc.row(f"{seq}. {_when(at, tz)}", f"{kind} ({role})")
    return bytes(doc.output())
