"""Retention of records (ISO 9001:2015 §7.5.3.2): what is kept and for how long.

Run evidence (the ledger, the policy snapshots, the nonconformity register and audit samples)
is kept for good: it holds identifiers and measured values, not customer text, and deleting it
would break the chain. Conversation *content* (message text and author handles), callers' numbers
and the raw text of rejected records are personal data: `purge_content` blanks them once they are
older than the retention period (with what the text scanners kept of those conversations,
which holds masked values, and what another version of iso-social kept, which no check of
this one reads). Identifiers and timestamps stay, so earlier runs still verify
and later runs still measure response times. On SQLite the purge turns `secure_delete` on for its
connection, so the old text does not linger in freed pages of the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select, update

from iso_social._version import __version__
from iso_social.domain import now_utc
from iso_social.store.database import create_schema, transaction
from iso_social.store.scans import forget_other_versions, forget_scans
from iso_social.store.tables import CALL, CONVERSATION, INGEST, MESSAGE, PURGED_AUTHOR, REJECT


@dataclass(frozen=True)
class PurgeResult:
    """How much content a purge removed (or would remove, in a dry run)."""

    cutoff: datetime
    conversations: int
    messages: int
    rejections: int
    calls: int = 0


def purge_content(engine: Engine, cutoff: datetime, *, dry_run: bool = False) -> PurgeResult:
    """Blank the content of conversations last active before `cutoff`, in one transaction."""
    create_schema(engine)
    old = select(CONVERSATION.c.conversation_id).where(CONVERSATION.c.last_activity_at < cutoff)
    messages_where = (MESSAGE.c.conversation_id.in_(old), MESSAGE.c.purged_at.is_(None))
    old_ingests = select(INGEST.c.id).where(INGEST.c.finished_at < cutoff)
    rejects_where = (REJECT.c.ingest_id.in_(old_ingests), REJECT.c.raw != "")
    calls_where = (CALL.c.ended_at < cutoff, CALL.c.purged_at.is_(None))
    with transaction(engine) as connection:
        if connection.dialect.name == "sqlite":
            connection.exec_driver_sql("PRAGMA secure_delete=ON")
        conversations = connection.execute(
            select(func.count(func.distinct(MESSAGE.c.conversation_id))).where(*messages_where)
        ).scalar_one()
        if dry_run:
            messages = connection.execute(
                select(func.count()).select_from(MESSAGE).where(*messages_where)
            ).scalar_one()
            rejections = connection.execute(
                select(func.count()).select_from(REJECT).where(*rejects_where)
            ).scalar_one()
            calls = connection.execute(
                select(func.count()).select_from(CALL).where(*calls_where)
            ).scalar_one()
        else:
            now = now_utc()
            messages = connection.execute(
                update(MESSAGE)
                .where(*messages_where)
                .values(text="", author=PURGED_AUTHOR, purged_at=now)
            ).rowcount
            rejections = connection.execute(
                update(REJECT).where(*rejects_where).values(raw="")
            ).rowcount
            calls = connection.execute(
                update(CALL).where(*calls_where).values(customer=PURGED_AUTHOR, purged_at=now)
            ).rowcount
            forget_scans(connection, old)  # what scanners found there: masked values
            forget_other_versions(connection, __version__)  # no check of this version reads them
    return PurgeResult(cutoff, int(conversations), int(messages), int(rejections), int(calls))
