"""A batch's rows as the store takes them (`repository.store_rows`), built without a database:
the reading worker of a large ingest runs this (`reading`), and it imports no SQLAlchemy."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from iso_social.domain import Call, Escalation, Message, StatusChange
from iso_social.ingest.base import ParsedRecord, PlainMessage
from iso_social.ingest.canonical import message_digest, record_digest, record_key


def sqlite_timestamp(value: datetime) -> str:
    """`value` as SQLite stores it (UTC wall time, `YYYY-MM-DD HH:MM:SS.ffffff`, so text order
    is time order): what SQLAlchemy's own `DateTime` writes, formatted in half the time."""
    if value.tzinfo is not UTC:
        value = value.astimezone(UTC)
    return "%04d-%02d-%02d %02d:%02d:%02d.%06d" % (  # noqa: UP031 (faster than f-strings here)
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
    )


def _row(
    kind: str, item: ParsedRecord, key: str, digest: str, ingest_id: int, ts: Any
) -> tuple[Any, ...]:
    r = item.record
    match kind:  # messages: `batch_rows` builds theirs
        case "status":
            assert isinstance(r, StatusChange)  # noqa: S101
            return (
                key,
                r.conversation_id,
                ts(r.created_at),
                r.status.value,
                digest,
                ingest_id,
                item.line,
            )
        case "escalation":
            assert isinstance(r, Escalation)  # noqa: S101
            return (
                key,
                r.conversation_id,
                ts(r.created_at),
                r.to,
                r.by,
                digest,
                ingest_id,
                item.line,
            )
        case _:
            assert isinstance(r, Call)  # noqa: S101
            return (
                key,
                r.channel.value,
                r.queue,
                r.customer,
                ts(r.offered_at),
                ts(r.answered_at),
                ts(r.ended_at),
                r.outcome.value,
                digest,
                ingest_id,
                item.line,
            )


Rows = dict[str, list[tuple[Any, ...]]]  # a batch's rows per kind of record, in file order


def batch_rows(
    batch: Sequence[ParsedRecord | PlainMessage], ingest_id: int, *, sqlite: bool
) -> Rows:
    """A batch's rows as `repository.store_rows` takes them: keys and digests computed,
    timestamps as text the backend reads (`sqlite_timestamp`, with `+00` on PostgreSQL), so a
    row holds only strings, numbers, booleans and None. No database is involved: a worker can
    build them."""
    ts = _sqlite_timestamp_or_none if sqlite else _postgresql_timestamp_or_none
    by_kind: Rows = defaultdict(list)
    messages = by_kind["message"]
    for item in batch:
        if not isinstance(item, PlainMessage):  # most records are
            r = item.record
            if type(r) is not Message:
                kind, key = record_key(r)
                by_kind[kind].append(_row(kind, item, key, record_digest(r), ingest_id, ts))
                continue
            item = PlainMessage.of(item.line, r)
        messages.append(_message_row(item, ingest_id, sqlite))
    if not messages:
        del by_kind["message"]
    return by_kind


def _message_row(m: PlainMessage, ingest_id: int, sqlite: bool) -> tuple[Any, ...]:
    """A message's row (most records), built without `_row`'s dispatch: the timestamp text is
    cut from the ISO form the digest hashes."""
    created, iso = m.created_at, m.created_iso
    if created.tzinfo is not UTC:
        stamp = sqlite_timestamp(created)
    elif created.microsecond:  # 2026-10-01T10:00:00.123456+00:00
        stamp = iso[:10] + " " + iso[11:26]
    else:  # 2026-10-01T10:00:00+00:00
        stamp = iso[:10] + " " + iso[11:19] + ".000000"
    return (
        m.message_id,
        m.conversation_id,
        m.channel,
        m.direction,
        m.author,
        m.author_role,
        m.visibility,
        stamp if sqlite else stamp + "+00",
        m.text,
        m.in_reply_to,
        m.automated,
        message_digest(m, iso),
        ingest_id,
        m.line,
    )


def _sqlite_timestamp_or_none(value: datetime | None) -> str | None:
    return None if value is None else sqlite_timestamp(value)


def _postgresql_timestamp_or_none(value: datetime | None) -> str | None:
    """A timestamp as COPY's text (UTC): faster to write than a datetime, and to send from the
    worker (see `reading.read_in_worker`)."""
    return None if value is None else sqlite_timestamp(value) + "+00"
