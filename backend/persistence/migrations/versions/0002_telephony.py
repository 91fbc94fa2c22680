"""telephony: call ledger, agents, agent state history, inbound event ids

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:30:00
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import backend.persistence.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), "postgresql")
_DT = backend.persistence.types.UTCDateTime(timezone=True)


def _str(length: int) -> sqlmodel.sql.sqltypes.AutoString:
    return sqlmodel.sql.sqltypes.AutoString(length=length)


def upgrade() -> None:
    op.create_table(
        "telephony_agent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("interface", _str(128), nullable=False),
        sa.Column("name", _str(100), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("presence", _str(16), nullable=False),
        sa.Column("reason", _str(64), nullable=True),
        sa.Column("activity", _str(16), nullable=False),
        sa.Column("call_id", _str(64), nullable=True),
        sa.Column("queues", _JSON, nullable=False),
        sa.Column("state", _str(16), nullable=False),
        sa.Column("since", _DT, nullable=False),
        sa.Column("updated_at", _DT, nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("interface"),
    )
    with op.batch_alter_table("telephony_agent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_telephony_agent_user_id"), ["user_id"], unique=False)

    op.create_table(
        "call_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_id", _str(64), nullable=False),
        sa.Column("queue", _str(32), nullable=False),
        sa.Column("caller", _str(64), nullable=False),
        sa.Column("state", _str(16), nullable=False),
        sa.Column("joined_at", _DT, nullable=False),
        sa.Column("ringing", _JSON, nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=True),
        sa.Column("answered_at", _DT, nullable=True),
        sa.Column("left_at", _DT, nullable=True),
        sa.Column("ended_at", _DT, nullable=True),
        sa.Column("handled_at", _DT, nullable=True),
        sa.Column("end_reason", _str(32), nullable=True),
        sa.Column("wait_s", sa.Float(), nullable=True),
        sa.Column("talk_s", sa.Float(), nullable=True),
        sa.Column("wrap_s", sa.Float(), nullable=True),
        sa.Column("updated_at", _DT, nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["telephony_agent.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("call_id"),
    )
    with op.batch_alter_table("call_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_record_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_call_record_joined_at"), ["joined_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_call_record_state"), ["state"], unique=False)
        batch_op.create_index("ix_call_record_queue_joined_at", ["queue", "joined_at"], unique=False)

    op.create_table(
        "agent_state_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agent_id", sa.Integer(), nullable=False),
        sa.Column("state", _str(16), nullable=False),
        sa.Column("reason", _str(64), nullable=True),
        sa.Column("at", _DT, nullable=False),
        sa.ForeignKeyConstraint(["agent_id"], ["telephony_agent.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("agent_state_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_agent_state_log_agent_id"), ["agent_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_agent_state_log_at"), ["at"], unique=False)

    op.create_table(
        "telephony_inbound",
        sa.Column("event_id", _str(160), nullable=False),
        sa.Column("received_at", _DT, nullable=False),
        sa.PrimaryKeyConstraint("event_id"),
    )
    with op.batch_alter_table("telephony_inbound", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_telephony_inbound_received_at"), ["received_at"], unique=False)


def downgrade() -> None:
    op.drop_table("telephony_inbound")
    op.drop_table("agent_state_log")
    op.drop_table("call_record")
    op.drop_table("telephony_agent")
