"""merge the feature branches (telephony, mobile, SLA, wallboard) into one head

The four features were built side by side, each migration revising 0001. This merge makes the
history linear again: every later migration revises 0007.

Revision ID: 0007
Revises: 0002, 0003, 0004, 0006
Create Date: 2026-11-23 14:00:00
"""

revision = "0007"
down_revision = ("0002", "0003", "0004", "0006")
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
