"""Calls get an index on the ingest that stored them, as messages, status records and
escalations have: a scheduled check finds the calls an ingest added since its last run by it,
where it read every call of the window to find them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 19:30:00
"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.create_index("ix_call_ingest_id", ["ingest_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.drop_index("ix_call_ingest_id")
