"""mobile API: idempotency records, mobile action log, devices, push notifications, signatures, photos

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-23 11:54:46.835930
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import backend.persistence.types

revision = "0003"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=False),
        sa.Column("platform", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("app_version", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("deactivated_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("deactivated_reason", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("token"),
    )
    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_device_user_id"), ["user_id"], unique=False)

    op.create_table(
        "idempotency_record",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("method", sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
        sa.Column("path", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column(
            "response_headers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.PrimaryKeyConstraint("user_id", "key"),
    )
    with op.batch_alter_table("idempotency_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_idempotency_record_created_at"), ["created_at"], unique=False)

    op.create_table(
        "mobile_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("client_seq", sa.Integer(), nullable=True),
        sa.Column("occurred_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("queued_offline", sa.Boolean(), nullable=False),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.Column("checkin_status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("version_after", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_order.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("mobile_action", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mobile_action_work_order_id"), ["work_order_id"], unique=False)

    op.create_table(
        "push_notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_key", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=1024), nullable=True),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=True),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=512), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("data", sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql"), nullable=False),
        sa.Column("collapse_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("ttl_s", sa.Integer(), nullable=False),
        sa.Column("high_priority", sa.Boolean(), nullable=False),
        sa.Column("ack_deadline", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("claimed_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("created_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"],
            ["device.id"],
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_order.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("notification_key", "token", name="uq_push_notification_key_token"),
    )
    with op.batch_alter_table("push_notification", schema=None) as batch_op:
        batch_op.create_index("ix_push_notification_due", ["state", "next_attempt_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_push_notification_user_id"), ["user_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_push_notification_work_order_id"), ["work_order_id"], unique=False)

    op.create_table(
        "work_order_photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("caption", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("taken_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_order.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("work_order_photo", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_order_photo_work_order_id"), ["work_order_id"], unique=False)

    op.create_table(
        "work_order_signature",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_order_id", sa.Integer(), nullable=False),
        sa.Column("engineer_id", sa.Integer(), nullable=False),
        sa.Column("signer_name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("signer_role", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("signed_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("received_at", backend.persistence.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("report_json", sa.Text(), nullable=False),
        sa.Column("report_version", sa.Integer(), nullable=False),
        sa.Column("strokes_json", sa.Text(), nullable=True),
        sa.Column("strokes_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("image", sa.LargeBinary(), nullable=True),
        sa.Column("image_sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("image_width", sa.Integer(), nullable=True),
        sa.Column("image_height", sa.Integer(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("accuracy_m", sa.Float(), nullable=True),
        sa.Column("distance_m", sa.Float(), nullable=True),
        sa.Column("checkin_status", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("hash_version", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["engineer_id"],
            ["user.id"],
        ),
        sa.ForeignKeyConstraint(
            ["work_order_id"],
            ["work_order.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("work_order_id"),
    )


def downgrade() -> None:
    op.drop_table("work_order_signature")
    with op.batch_alter_table("work_order_photo", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_order_photo_work_order_id"))

    op.drop_table("work_order_photo")
    with op.batch_alter_table("push_notification", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_push_notification_work_order_id"))
        batch_op.drop_index(batch_op.f("ix_push_notification_user_id"))
        batch_op.drop_index("ix_push_notification_due")

    op.drop_table("push_notification")
    with op.batch_alter_table("mobile_action", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mobile_action_work_order_id"))

    op.drop_table("mobile_action")
    with op.batch_alter_table("idempotency_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_record_created_at"))

    op.drop_table("idempotency_record")
    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_user_id"))

    op.drop_table("device")
