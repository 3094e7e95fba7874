"""The response index also holds `message_id`: the first customer message and the first
response of every conversation, with their ids, come from the index alone (no table read per
message) when a check of response-time controls asks the store for them.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 17:50:00
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_OLD = ["conversation_id", "direction", "author_role", "automated", "visibility", "created_at"]
_NEW = [*_OLD, "message_id"]


def upgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index("ix_message_response")
        batch_op.create_index("ix_message_response", _NEW, unique=False)


def downgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index("ix_message_response")
        batch_op.create_index("ix_message_response", _OLD, unique=False)
