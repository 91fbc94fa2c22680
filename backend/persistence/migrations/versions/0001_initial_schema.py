"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 11:23:40.348857
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import backend.persistence.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("target_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("target_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("request_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_action"), ["action"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_actor_id"), ["actor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)

    op.create_table(
        "call_queue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("line", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("sl_threshold_s", sa.Integer(), nullable=False),
        sa.Column("sl_formula", sqlmodel.sql.sqltypes.AutoString(length=48), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "customer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("contact_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("created_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_customer_phone"), ["phone"], unique=False)

    op.create_table(
        "daily_counter",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("day", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", "day"),
    )
    op.create_table(
        "login_attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("remote", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.create_index("ix_login_attempt_username_at", ["username", "at"], unique=False)

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("published_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
    )
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outbox_key"), ["key"], unique=False)
        batch_op.create_index(batch_op.f("ix_outbox_published_at"), ["published_at"], unique=False)

    op.create_table(
        "region",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("code"),
    )
    op.create_table(
        "provider",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["region.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("provider", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_provider_region_id"), ["region_id"], unique=False)

    op.create_table(
        "site",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("zone", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
        ),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["region.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_site_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_site_phone"), ["phone"], unique=False)
        batch_op.create_index(batch_op.f("ix_site_region_id"), ["region_id"], unique=False)

    op.create_table(
        "equipment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("serial_number", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("model", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("warranty_end", sa.Date(), nullable=True),
        sa.Column("running_hours", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["site.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("serial_number"),
    )
    with op.batch_alter_table("equipment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_equipment_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_equipment_model"), ["model"], unique=False)
        batch_op.create_index(batch_op.f("ix_equipment_site_id"), ["site_id"], unique=False)

    op.create_table(
        "user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("display_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("phone", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column(
            "skills",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider.id"],
        ),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["region.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("username"),
    )
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_user_provider_id"), ["provider_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_user_region_id"), ["region_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_user_role"), ["role"], unique=False)

    op.create_table(
        "refresh_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("created_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token_hash"),
    )
    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refresh_token_family_id"), ["family_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_refresh_token_user_id"), ["user_id"], unique=False)

    op.create_table(
        "work_order",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("subtype", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("channel", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=True),
        sa.Column("site_id", sa.Integer(), nullable=True),
        sa.Column("equipment_id", sa.Integer(), nullable=True),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("provider_id", sa.Integer(), nullable=True),
        sa.Column("engineer_id", sa.Integer(), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("zone", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
        sa.Column("contact_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("contact_phone", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("complaint_level", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("special_incident", sa.Boolean(), nullable=False),
        sa.Column("register_number", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("department", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
        sa.Column(
            "flags",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("reported_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("scheduled_for", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("appointment_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("dispatched_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("contacted_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("departed_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("arrived_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("hold_reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column(
            "report",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("answer", sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=True),
        sa.Column("audit_result", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("void_reason", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("cancel_reason", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column(
            "follow_up",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("urge_count", sa.Integer(), nullable=False),
        sa.Column("last_urged_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("last_agent_id", sa.Integer(), nullable=True),
        sa.Column("created_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customer.id"],
        ),
        sa.ForeignKeyConstraint(
            ["engineer_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["equipment_id"],
            ["equipment.id"],
        ),
        sa.ForeignKeyConstraint(
            ["last_agent_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["work_order.id"],
        ),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["provider.id"],
        ),
        sa.ForeignKeyConstraint(
            ["region_id"],
            ["region.id"],
        ),
        sa.ForeignKeyConstraint(
            ["site_id"],
            ["site.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("number"),
        sa.UniqueConstraint("register_number"),
    )
    with op.batch_alter_table("work_order", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_order_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index("ix_work_order_engineer_state", ["engineer_id", "state"], unique=False)
        batch_op.create_index(
            "ix_work_order_equipment_kind_state", ["equipment_id", "kind", "state"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_work_order_kind"), ["kind"], unique=False)
        batch_op.create_index("ix_work_order_provider_state", ["provider_id", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_order_region_id"), ["region_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_order_state"), ["state"], unique=False)

    op.create_table(
        "work_order_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_role", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("occurred_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_order.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("event_id"),
        sa.UniqueConstraint("work_order_id", "seq", name="uq_work_order_event_seq"),
    )
    with op.batch_alter_table("work_order_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_work_order_event_work_order_id"), ["work_order_id"], unique=False
        )

    _append_only("work_order_event")
    _append_only("audit_log")


def _append_only(table: str) -> None:
    """History is never rewritten: refuse UPDATE and DELETE at the database level."""
    if op.get_bind().dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )
    else:
        op.execute(
            f"CREATE FUNCTION {table}_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{table} is append-only'; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()"
        )


def downgrade() -> None:
    with op.batch_alter_table("work_order_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_order_event_work_order_id"))

    op.drop_table("work_order_event")
    with op.batch_alter_table("work_order", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_order_state"))
        batch_op.drop_index(batch_op.f("ix_work_order_region_id"))
        batch_op.drop_index("ix_work_order_provider_state")
        batch_op.drop_index(batch_op.f("ix_work_order_kind"))
        batch_op.drop_index("ix_work_order_equipment_kind_state")
        batch_op.drop_index("ix_work_order_engineer_state")
        batch_op.drop_index(batch_op.f("ix_work_order_customer_id"))

    op.drop_table("work_order")
    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refresh_token_user_id"))
        batch_op.drop_index(batch_op.f("ix_refresh_token_family_id"))

    op.drop_table("refresh_token")
    with op.batch_alter_table("user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_user_role"))
        batch_op.drop_index(batch_op.f("ix_user_region_id"))
        batch_op.drop_index(batch_op.f("ix_user_provider_id"))

    op.drop_table("user")
    with op.batch_alter_table("equipment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_equipment_site_id"))
        batch_op.drop_index(batch_op.f("ix_equipment_model"))
        batch_op.drop_index(batch_op.f("ix_equipment_customer_id"))

    op.drop_table("equipment")
    with op.batch_alter_table("site", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_site_region_id"))
        batch_op.drop_index(batch_op.f("ix_site_phone"))
        batch_op.drop_index(batch_op.f("ix_site_customer_id"))

    op.drop_table("site")
    with op.batch_alter_table("provider", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_provider_region_id"))

    op.drop_table("provider")
    op.drop_table("region")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_published_at"))
        batch_op.drop_index(batch_op.f("ix_outbox_key"))

    op.drop_table("outbox")
    with op.batch_alter_table("login_attempt", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempt_username_at")

    op.drop_table("login_attempt")
    op.drop_table("daily_counter")
    with op.batch_alter_table("customer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_phone"))

    op.drop_table("customer")
    op.drop_table("call_queue")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
        batch_op.drop_index(batch_op.f("ix_audit_log_actor_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_action"))

    op.drop_table("audit_log")
