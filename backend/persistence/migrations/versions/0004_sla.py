"""service rules: policies, deadlines, breaches, escalations, follow-ups, clearing, reports

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-23 11:57:49.136795
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import backend.persistence.types

revision = "0004"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daily_clearing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("started_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("unfinished", sa.Integer(), nullable=False),
        sa.Column("urged", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day"),
    )
    op.create_table(
        "report_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("period", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("progress", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.Integer(), nullable=True),
        sa.Column("created_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("started_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("finished_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("enqueued_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("result", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("report_job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_job_state"), ["state"], unique=False)

    op.create_table(
        "sla_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("zone", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=True),
        sa.Column("warn_seconds", sa.Integer(), nullable=True),
        sa.Column("basis", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=True),
        sa.Column("percent", sa.Integer(), nullable=True),
        sa.Column("updated_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("rule", "kind", "zone", name="uq_sla_policy_scope"),
    )
    op.create_table(
        "daily_clearing_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("clearing_id", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("engineer_id", sa.Integer(), nullable=True),
        sa.Column("reported_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("urged_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("urge_error", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["clearing_id"],
            ["daily_clearing.id"],
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_order.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("clearing_id", "work_order_id", name="uq_daily_clearing_item"),
    )
    with op.batch_alter_table("daily_clearing_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_daily_clearing_item_clearing_id"), ["clearing_id"], unique=False)

    op.create_table(
        "follow_up_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("sampled", sa.Boolean(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("created_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.Integer(), nullable=True),
        sa.Column("result", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=True),
        sa.Column("second_dispatch_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_order.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("work_order_id"),
    )
    with op.batch_alter_table("follow_up_task", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_follow_up_task_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_follow_up_task_state"), ["state"], unique=False)

    op.create_table(
        "sla_deadline",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("basis", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("starts_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("warn_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("opened_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("warned_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("enqueued_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_order.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("work_order_id", "rule", name="uq_sla_deadline_order_rule"),
    )
    with op.batch_alter_table("sla_deadline", schema=None) as batch_op:
        batch_op.create_index("ix_sla_deadline_state_due", ["state", "due_at"], unique=False)
        batch_op.create_index("ix_sla_deadline_state_warn", ["state", "warn_at"], unique=False)

    op.create_table(
        "sla_breach",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deadline_id", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("due_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("detected_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("engineer_id", sa.Integer(), nullable=True),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("escalation", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("resolved_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolution", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["deadline_id"],
            ["sla_deadline.id"],
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_order.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("work_order_id", "rule", name="uq_sla_breach_order_rule"),
    )
    with op.batch_alter_table("sla_breach", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sla_breach_deadline_id"), ["deadline_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sla_breach_detected_at"), ["detected_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_sla_breach_engineer_id"), ["engineer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_sla_breach_provider_id"), ["provider_id"], unique=False)
        batch_op.create_index("ix_sla_breach_resolved", ["resolved_at"], unique=False)

    op.create_table(
        "sla_escalation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("breach_id", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("rule", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.Column("task", sa.Boolean(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("urged", sa.Boolean(), nullable=False),
        sa.Column(
            "notify_user_ids",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("created_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["breach_id"],
            ["sla_breach.id"],
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_order.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("breach_id"),
    )
    with op.batch_alter_table("sla_escalation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sla_escalation_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_sla_escalation_work_order_id"), ["work_order_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sla_escalation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sla_escalation_work_order_id"))
        batch_op.drop_index(batch_op.f("ix_sla_escalation_state"))

    op.drop_table("sla_escalation")
    with op.batch_alter_table("sla_breach", schema=None) as batch_op:
        batch_op.drop_index("ix_sla_breach_resolved")
        batch_op.drop_index(batch_op.f("ix_sla_breach_provider_id"))
        batch_op.drop_index(batch_op.f("ix_sla_breach_engineer_id"))
        batch_op.drop_index(batch_op.f("ix_sla_breach_detected_at"))
        batch_op.drop_index(batch_op.f("ix_sla_breach_deadline_id"))

    op.drop_table("sla_breach")
    with op.batch_alter_table("sla_deadline", schema=None) as batch_op:
        batch_op.drop_index("ix_sla_deadline_state_warn")
        batch_op.drop_index("ix_sla_deadline_state_due")

    op.drop_table("sla_deadline")
    with op.batch_alter_table("follow_up_task", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_follow_up_task_state"))
        batch_op.drop_index(batch_op.f("ix_follow_up_task_created_at"))

    op.drop_table("follow_up_task")
    with op.batch_alter_table("daily_clearing_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_daily_clearing_item_clearing_id"))

    op.drop_table("daily_clearing_item")
    op.drop_table("sla_policy")
    with op.batch_alter_table("report_job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_report_job_state"))

    op.drop_table("report_job")
    op.drop_table("daily_clearing")
