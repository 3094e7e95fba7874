"""Runs store their canonical JSON compressed (zlib): a run over a million messages wrote a
50 MB document, about 5.5 MB compressed (PostgreSQL compressed it on its own, SQLite did not).
Runs recorded before this revision keep their text in `document`; the chain verifies over
both. The downgrade writes the compressed documents back as text before dropping the column.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

import zlib

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_run", sa.Column("document_zlib", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    run = sa.table(
        "audit_run",
        sa.column("seq", sa.Integer()),
        sa.column("document", sa.Text()),
        sa.column("document_zlib", sa.LargeBinary()),
    )
    connection = op.get_bind()
    compressed = connection.execute(
        sa.select(run.c.seq).where(run.c.document_zlib.is_not(None))
    ).scalars()
    for seq in list(compressed):  # one document at a time: each may be 50 MB as text
        body = connection.execute(
            sa.select(run.c.document_zlib).where(run.c.seq == seq)
        ).scalar_one()
        connection.execute(
            run.update()
            .where(run.c.seq == seq)
            .values(document=zlib.decompress(body).decode("utf-8"), document_zlib=None)
        )
    # ALTER TABLE ... DROP COLUMN (SQLite 3.35 on): a batch copy of the table would break the
    # findings' foreign keys to it
    op.drop_column("audit_run", "document_zlib")
