"""Calls record when they were purged, as messages do: an incremental check finds the newest
purge of either by a partial index (empty until a purge) instead of counting purged calls
over the whole call table at every check. Calls purged before this revision are marked
purged now (when is not known; that they were is what a check compares).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 02:30:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from iso_social.store.tables import PURGED_AUTHOR, UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_PARTIAL = sa.text("purged_at IS NOT NULL")


def upgrade() -> None:
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.add_column(sa.Column("purged_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_call_purged_at",
            ["purged_at"],
            unique=False,
            sqlite_where=_PARTIAL,
            postgresql_where=_PARTIAL,
        )
    call = sa.table("call", sa.column("customer"), sa.column("purged_at", UTCDateTime()))
    op.execute(
        call.update()
        .where(call.c.customer == PURGED_AUTHOR)
        .values(purged_at=datetime.now(UTC))
    )


def downgrade() -> None:
    with op.batch_alter_table("call", schema=None) as batch_op:
        batch_op.drop_index("ix_call_purged_at")
        batch_op.drop_column("purged_at")
