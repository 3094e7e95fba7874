"""A table of what the text scanners found per conversation (`scan_result`), so that a check
reads a conversation's text again only when it changed: derived data, not evidence, which a
check fills and a retention purge deletes. The downgrade drops it (nothing is lost: a check
scans again).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scan_result",
        sa.Column("conversation_id", sa.String(), nullable=False),
        sa.Column("scanner", sa.String(), nullable=False),
        sa.Column("fingerprint", sa.String(), nullable=False),
        sa.Column("found", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("conversation_id", "scanner"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("scan_result")
