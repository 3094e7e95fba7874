"""SQLModel table classes, and nothing else. Code outside `store/` never sees these rows.

Timestamps are stored as UTC: `timestamptz` on PostgreSQL, ISO text on SQLite (read back as
aware UTC by `UTCDateTime`). Evidence tables (`audit_run`, `finding`) are append-only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    Table,
    Text,
    TypeDecorator,
    text,
)
from sqlalchemy.engine import Dialect
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store UTC; SQLite keeps the UTC wall time."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """Return aware UTC datetimes."""
        if value is None:
            return None
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        assert isinstance(moment, datetime)  # noqa: S101
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _ts(*, index: bool = False, nullable: bool = False) -> Any:
    return Field(sa_type=UTCDateTime, index=index, nullable=nullable)


ONLY_ON = "iso_social: only on"  # key of a constraint's `info`: the one dialect it is made on


def _stored_by_an_ingest() -> ForeignKeyConstraint:
    """`ingest_id` names the `ingest_file` that stored the record: a foreign key on SQLite
    only. On PostgreSQL its check runs once a row (a query on `ingest_file` each) and made
    the server's `COPY` of a million messages 40% longer (12.0 s against 8.6 s); its manual
    advises dropping such keys for bulk loads ("Populating a Database"). Only the loader
    writes these rows, after their `ingest_file` row in the same transaction, and nothing
    deletes an `ingest_file` row. Migration 0010 dropped it from older PostgreSQL databases."""
    constraint = ForeignKeyConstraint(["ingest_id"], ["ingest_file.id"])
    constraint.info[ONLY_ON] = "sqlite"  # what `migrations.declared_for` compares by
    return constraint.ddl_if(dialect="sqlite")


class IngestRow(SQLModel, table=True):
    """One ingested input file: audit evidence of what the checks were run on."""

    __tablename__ = "ingest_file"

    id: int | None = Field(default=None, primary_key=True)
    path: str
    sha256: str = Field(index=True)
    size: int = Field(sa_type=BigInteger)
    format: str
    started_at: datetime = _ts()
    finished_at: datetime = _ts()
    records_read: int = 0
    stored: int = 0
    duplicates: int = 0
    conflicts: int = 0
    rejected: int = 0
    first_at: datetime | None = _ts(nullable=True)
    last_at: datetime | None = _ts(nullable=True)


class RejectRow(SQLModel, table=True):
    """A record that was not accepted, kept with its location, reason and raw text."""

    __tablename__ = "reject"

    id: int | None = Field(default=None, primary_key=True)
    ingest_id: int = Field(foreign_key="ingest_file.id", index=True)
    line: int
    reason: str
    raw: str = Field(sa_type=Text)


class ConversationRow(SQLModel, table=True):
    """A conversation's channel (of its first message) and activity span."""

    __tablename__ = "conversation"
    # A window's conversations are those whose span meets it: one index holds both ends and
    # the id, so counting them and cutting them into runs for a split check read the index
    # alone (on the end alone, each conversation's row was fetched for its start: a count of
    # 345,000 took 0.4-0.6 s, against 0.03-0.07 s)
    __table_args__ = (
        Index(
            "ix_conversation_activity", "last_activity_at", "first_activity_at", "conversation_id"
        ),
    )

    conversation_id: str = Field(primary_key=True)
    channel: str = Field(index=True)
    first_activity_at: datetime = _ts()
    last_activity_at: datetime = _ts()


class MessageRow(SQLModel, table=True):
    """One message; `digest` tells a re-ingested duplicate from a conflicting record."""

    __tablename__ = "message"
    # The checks read a conversation's messages in time order and search for responses by
    # direction, role, automation and visibility: one covering index answers both without
    # touching the table, with the ids of the first messages it finds (`first_replies`).
    # Windows are selected through `conversation`, so `created_at` has no index of its own
    # (it cost a third of the insert time and no query used it).
    __table_args__ = (
        Index(
            "ix_message_response",
            "conversation_id",
            "direction",
            "author_role",
            "automated",
            "visibility",
            "created_at",
            "message_id",
        ),
        # the newest purge, which incremental checks compare (a partial index: empty until
        # a retention purge, so it costs an ingest nothing)
        Index(
            "ix_message_purged_at",
            "purged_at",
            sqlite_where=text("purged_at IS NOT NULL"),
            postgresql_where=text("purged_at IS NOT NULL"),
        ),
        _stored_by_an_ingest(),
    )

    message_id: str = Field(primary_key=True)
    conversation_id: str
    channel: str
    direction: str
    author: str
    author_role: str
    visibility: str
    created_at: datetime = _ts()
    text: str = Field(sa_type=Text)
    in_reply_to: str | None = None
    automated: bool = False
    digest: str
    ingest_id: int = Field(index=True)  # what an ingest added (`_stored_by_an_ingest`)
    source_line: int
    purged_at: datetime | None = _ts(nullable=True)


class StatusRow(SQLModel, table=True):
    """A status change of a conversation."""

    __tablename__ = "status_change"
    __table_args__ = (_stored_by_an_ingest(),)

    id: str = Field(primary_key=True)
    conversation_id: str = Field(index=True)
    created_at: datetime = _ts()
    status: str
    digest: str
    ingest_id: int = Field(index=True)  # what an ingest added (`_stored_by_an_ingest`)
    source_line: int


class EscalationRow(SQLModel, table=True):
    """An escalation of a conversation to a level."""

    __tablename__ = "escalation"
    __table_args__ = (_stored_by_an_ingest(),)

    id: str = Field(primary_key=True)
    conversation_id: str = Field(index=True)
    created_at: datetime = _ts()
    to_level: str
    by_author: str
    digest: str
    ingest_id: int = Field(index=True)  # what an ingest added (`_stored_by_an_ingest`)
    source_line: int


class CallRow(SQLModel, table=True):
    """One call offered to a phone queue."""

    __tablename__ = "call"
    # the newest purge, which incremental checks compare (partial: empty until a purge)
    __table_args__ = (
        Index(
            "ix_call_purged_at",
            "purged_at",
            sqlite_where=text("purged_at IS NOT NULL"),
            postgresql_where=text("purged_at IS NOT NULL"),
        ),
        _stored_by_an_ingest(),
    )

    call_id: str = Field(primary_key=True)
    channel: str
    queue: str
    customer: str
    offered_at: datetime = _ts(index=True)
    answered_at: datetime | None = _ts(nullable=True)
    ended_at: datetime = _ts(index=True)  # retention purge
    outcome: str
    digest: str
    # what an ingest added (`_stored_by_an_ingest`): a scheduled check reads only the calls
    # stored since its last (without the index it read every call of the window to find them)
    ingest_id: int = Field(index=True)
    source_line: int
    purged_at: datetime | None = _ts(nullable=True)


class AuditRunRow(SQLModel, table=True):
    """One recorded check run: its canonical JSON document, hash and link to the previous run."""

    __tablename__ = "audit_run"

    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    run_id: str = Field(unique=True, index=True)
    created_at: datetime = _ts()
    tool_version: str
    window_start: datetime = _ts()
    window_end: datetime = _ts()
    # the canonical JSON: compressed with zlib since revision 0006 (`document` then empty),
    # as text in `document` for runs recorded before it
    document: str = Field(sa_type=Text)
    document_zlib: bytes | None = Field(default=None, sa_type=LargeBinary, nullable=True)
    digest: str
    previous_digest: str


class PolicySnapshotRow(SQLModel, table=True):
    """A policy file as it was when a run used it, addressed by its SHA-256 (append-only)."""

    __tablename__ = "policy_snapshot"

    sha256: str = Field(primary_key=True)
    path: str
    content: str = Field(sa_type=Text)
    recorded_at: datetime = _ts()


class NonconformityRow(SQLModel, table=True):
    """A nonconformity in the register (ISO 9001 §10.2), one per control and scope."""

    __tablename__ = "nonconformity"

    id: str = Field(primary_key=True)
    control_id: str = Field(index=True)
    policy_id: str
    grade: str
    statement: str = Field(sa_type=Text)
    status: str
    first_seen_run: str
    last_seen_run: str
    opened_at: datetime = _ts()
    closed_at: datetime | None = _ts(nullable=True)
    owner: str | None = None
    due_date: str | None = None
    correction: str | None = Field(default=None, sa_type=Text)
    root_cause: str | None = Field(default=None, sa_type=Text)
    corrective_action: str | None = Field(default=None, sa_type=Text)
    effectiveness_criteria: str | None = Field(default=None, sa_type=Text)
    effectiveness_runs: int = 2
    conforming_runs: int = 0
    repeat_count: int = 0


class NonconformityEventRow(SQLModel, table=True):
    """One change to a nonconformity: who, when, what (append-only history)."""

    __tablename__ = "nonconformity_event"

    id: int | None = Field(default=None, primary_key=True)
    nonconformity_id: str = Field(foreign_key="nonconformity.id", index=True)
    at: datetime = _ts()
    actor: str
    event: str
    detail: str = Field(sa_type=Text)
    run_id: str | None = None


class SampleRow(SQLModel, table=True):
    """An audit sample drawn from a control's population in a run (ISO 19011 6.3.3, A.6)."""

    __tablename__ = "audit_sample"

    id: str = Field(primary_key=True)
    run_id: str = Field(index=True)
    control_id: str
    method: str
    confidence: float
    tolerable_error: float
    expected_deviations: int
    seed: int = Field(sa_type=BigInteger)
    population: int
    size: int
    items: str = Field(sa_type=Text)
    drawn_at: datetime = _ts()


class SampleReviewRow(SQLModel, table=True):
    """A reviewer's manual verdict on one sampled item (append-only; the latest counts)."""

    __tablename__ = "sample_review"

    id: int | None = Field(default=None, primary_key=True)
    sample_id: str = Field(foreign_key="audit_sample.id", index=True)
    item_id: str
    verdict: str
    reviewer: str
    note: str = Field(default="", sa_type=Text)
    recorded_at: datetime = _ts()


class SchedulerLeaseRow(SQLModel, table=True):
    """The lease that lets one scheduler act on a database at a time."""

    __tablename__ = "scheduler_lease"

    name: str = Field(primary_key=True)
    holder: str
    acquired_at: datetime = _ts()
    expires_at: datetime = _ts()


class FindingRow(SQLModel, table=True):
    """One control's result in one run, for trends and queries."""

    __tablename__ = "finding"

    id: int | None = Field(default=None, primary_key=True)
    run_seq: int = Field(foreign_key="audit_run.seq", index=True)
    control_id: str = Field(index=True)
    control_type: str
    policy_id: str
    verdict: str
    population: int
    nonconforming: int
    rate: float | None = None


class ScanResultRow(SQLModel, table=True):
    """What a text scanner found in a conversation's messages, kept so that a later check
    need not read the same text again (`iso_social.controls.base.Scans`). Derived data, not
    evidence: a row holds while the conversation's `fingerprint` (its messages' count, total
    length and last id, as the check read them) is unchanged; a check replaces a stale row,
    and a retention purge deletes the rows of the conversations it blanks (they may hold
    masked values)."""

    __tablename__ = "scan_result"
    # clustered by conversation on SQLite: a check reads the rows of its window's
    # conversations in id order, a purge deletes by conversation
    __table_args__ = {"sqlite_with_rowid": False}

    conversation_id: str = Field(primary_key=True)
    scanner: str = Field(primary_key=True)  # `Scanner.key`: its settings and code version
    fingerprint: str
    # JSON {message id: [what was found, ...]} of the messages with a finding; NULL: none
    found: str | None = Field(default=None, sa_type=Text, nullable=True)


def _table(model: type[SQLModel]) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)  # noqa: S101
    return table


INGEST = _table(IngestRow)
REJECT = _table(RejectRow)
CONVERSATION = _table(ConversationRow)
MESSAGE = _table(MessageRow)
STATUS = _table(StatusRow)
ESCALATION = _table(EscalationRow)
CALL = _table(CallRow)

# what a retention purge writes in place of a message's author or a call's customer
PURGED_AUTHOR = "[purged]"
AUDIT_RUN = _table(AuditRunRow)
FINDING = _table(FindingRow)
POLICY_SNAPSHOT = _table(PolicySnapshotRow)
NONCONFORMITY = _table(NonconformityRow)
NONCONFORMITY_EVENT = _table(NonconformityEventRow)
SAMPLE = _table(SampleRow)
SAMPLE_REVIEW = _table(SampleReviewRow)
SCHEDULER_LEASE = _table(SchedulerLeaseRow)
SCAN_RESULT = _table(ScanResultRow)
