"""Mobile events: what the phones add around a work order without changing its lifecycle state.
They are not part of the order's own event log (``evolve`` folds lifecycle events only), but they
travel in the order's ordering key so consumers see them after the step that preceded them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from backend.events.base import Event


class ServiceReportSigned(Event):
    type: Literal["ServiceReportSigned"] = "ServiceReportSigned"
    work_order_id: int
    signature_id: int
    engineer_id: int
    signer_name: str
    signed_at: datetime
    sha256: str
    checkin_status: str | None = None

    @property
    def key(self) -> str:
        return f"work_order:{self.work_order_id}"


class PhotoAttached(Event):
    type: Literal["PhotoAttached"] = "PhotoAttached"
    work_order_id: int
    photo_id: int
    engineer_id: int
    size: int

    @property
    def key(self) -> str:
        return f"work_order:{self.work_order_id}"
