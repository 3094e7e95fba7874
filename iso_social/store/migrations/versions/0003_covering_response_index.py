"""Indexes for the checks: a covering response index (with visibility) in place of the old
one; no index on `message.created_at` alone (no query used it; it cost a third of the insert
time of a bulk ingest); and what incremental checks look up: records by ingest in
`status_change` and `escalation`, and the newest purge (a partial index on
`message.purged_at`).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 10:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_OLD = ["conversation_id", "direction", "author_role", "automated", "created_at"]
_NEW = ["conversation_id", "direction", "author_role", "automated", "visibility", "created_at"]


def upgrade() -> None:
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index("ix_message_created_at")
        batch_op.drop_index("ix_message_response")
        batch_op.create_index("ix_message_response", _NEW, unique=False)
        batch_op.create_index(
            "ix_message_purged_at",
            ["purged_at"],
            unique=False,
            sqlite_where=sa.text("purged_at IS NOT NULL"),
            postgresql_where=sa.text("purged_at IS NOT NULL"),
        )
    for table in ("status_change", "escalation"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_index(f"ix_{table}_ingest_id", ["ingest_id"], unique=False)


def downgrade() -> None:
    for table in ("status_change", "escalation"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_index(f"ix_{table}_ingest_id")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index("ix_message_purged_at")
        batch_op.drop_index("ix_message_response")
        batch_op.create_index("ix_message_response", _OLD, unique=False)
        batch_op.create_index("ix_message_created_at", ["created_at"], unique=False)
