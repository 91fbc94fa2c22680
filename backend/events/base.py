"""The base of every event: frozen, no undeclared fields, a literal ``type``, an ordering key."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Event(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    type: str

    @property
    def key(self) -> str:
        """Ordering key: events with the same key are handed on in the order they were written."""
        return "global"


class WorkOrderEvent(Event):
    work_order_id: int

    @property
    def key(self) -> str:
        return f"work_order:{self.work_order_id}"
