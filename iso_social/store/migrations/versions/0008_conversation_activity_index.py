"""The conversation's activity index holds both ends of its span and its id: a window's
conversations are counted and cut into a split check's runs from the index alone, where the
index on the span's end alone fetched every conversation's row for its start.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 19:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_NEW = ["last_activity_at", "first_activity_at", "conversation_id"]


def upgrade() -> None:
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.drop_index("ix_conversation_last_activity_at")
        batch_op.create_index("ix_conversation_activity", _NEW, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("conversation", schema=None) as batch_op:
        batch_op.drop_index("ix_conversation_activity")
        batch_op.create_index(
            "ix_conversation_last_activity_at", ["last_activity_at"], unique=False
        )
