"""wallboard thresholds per queue and metric

Revision ID: 0006
Revises: 0001
Create Date: 2026-11-23 12:00:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import backend.persistence.types

revision = "0006"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wallboard_threshold",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("metric", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("amber", sa.Float(), nullable=False),
        sa.Column("red", sa.Float(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["updated_by"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("queue", "metric", name="uq_wallboard_threshold_queue_metric"),
    )


def downgrade() -> None:
    op.drop_table("wallboard_threshold")
