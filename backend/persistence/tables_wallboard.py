"""Table of the wallboard's display settings: red/amber thresholds per queue and metric."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from backend.persistence.tables import _dt


class WallboardThreshold(SQLModel, table=True):
    __tablename__ = "wallboard_threshold"
    __table_args__ = (UniqueConstraint("queue", "metric", name="uq_wallboard_threshold_queue_metric"),)
    id: int | None = Field(default=None, primary_key=True)
    queue: str = Field(max_length=32)  # a queue code, or "*" for every queue without its own
    metric: str = Field(max_length=32)
    amber: float
    red: float
    updated_by: int | None = Field(default=None, foreign_key="user.id")
    updated_at: datetime = _dt(nullable=False)
