"""Reading and writing the store. Takes and returns domain objects, never rows.

Writes are bulk and idempotent: records go in batches through `INSERT ... ON CONFLICT DO NOTHING`;
when a batch stores fewer rows than it holds, the stored copies are compared to tell a duplicate
(same content, skipped) from a conflict (same id, other content: rejected, never overwritten).
"""

from __future__ import annotations

import functools
import itertools
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    Boolean,
    Integer,
    String,
    Table,
    bindparam,
    func,
    insert,
    literal,
    select,
    text,
    true,
    type_coerce,
    update,
)
from sqlalchemy.engine import Connection

from iso_social.domain import (
    CALL_OUTCOME_OF,
    CHANNEL_OF,
    DIRECTION_OF,
    ROLE_OF,
    STATUS_OF,
    VISIBILITY_OF,
    AuthorRole,
    Call,
    Channel,
    Conversation,
    Escalation,
    FirstReply,
    Message,
    ResponseFilter,
    StatusChange,
    Visibility,
    Window,
)
from iso_social.ingest.base import Rejection
from iso_social.store.rows import Rows
from iso_social.store.tables import (
    CALL,
    CONVERSATION,
    ESCALATION,
    INGEST,
    MESSAGE,
    REJECT,
    STATUS,
    UTCDateTime,
)

_T = {
    "message": MESSAGE,
    "status": STATUS,
    "escalation": ESCALATION,
    "call": CALL,
}
_KEY_COLUMN = {"message": "message_id", "status": "id", "escalation": "id", "call": "call_id"}
_COLUMNS = {
    "message": (
        "message_id",
        "conversation_id",
        "channel",
        "direction",
        "author",
        "author_role",
        "visibility",
        "created_at",
        "text",
        "in_reply_to",
        "automated",
        "digest",
        "ingest_id",
        "source_line",
    ),
    "status": (
        "id",
        "conversation_id",
        "created_at",
        "status",
        "digest",
        "ingest_id",
        "source_line",
    ),
    "escalation": (
        "id",
        "conversation_id",
        "created_at",
        "to_level",
        "by_author",
        "digest",
        "ingest_id",
        "source_line",
    ),
    "call": (
        "call_id",
        "channel",
        "queue",
        "customer",
        "offered_at",
        "answered_at",
        "ended_at",
        "outcome",
        "digest",
        "ingest_id",
        "source_line",
    ),
}
IN_CHUNK = 900  # ids per IN (...) query, under every backend's parameter limit
_CONVERSATION_COLUMNS = ("conversation_id", "channel", "first_activity_at", "last_activity_at")
_MERGE_CONVERSATION = (
    "ON CONFLICT (conversation_id) DO UPDATE SET "
    "channel = CASE WHEN excluded.first_activity_at < conversation.first_activity_at "
    "THEN excluded.channel ELSE conversation.channel END, "
    "first_activity_at = CASE WHEN excluded.first_activity_at < conversation.first_activity_at "
    "THEN excluded.first_activity_at ELSE conversation.first_activity_at END, "
    "last_activity_at = CASE WHEN excluded.last_activity_at > conversation.last_activity_at "
    "THEN excluded.last_activity_at ELSE conversation.last_activity_at END"
)
_UPSERT_CONVERSATION = (
    "INSERT INTO conversation (conversation_id, channel, first_activity_at, last_activity_at) "
    "VALUES (?, ?, ?, ?) " + _MERGE_CONVERSATION
)


@dataclass
class BatchResult:
    """What one batch did: stored counts per kind, duplicates, conflicts (as rejections)."""

    stored: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    duplicates: int = 0
    conflicts: list[Rejection] = field(default_factory=list)
    conversation_ids: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class IngestedFile:
    """An input file as recorded at ingest: audit evidence of what the checks read."""

    path: str
    sha256: str
    size: int
    format: str
    ingested_at: datetime
    records_read: int
    stored: int
    duplicates: int
    conflicts: int
    rejected: int


def _insert_sql(kind: str) -> str:
    """SQLite's batch insert (PostgreSQL's is `copy_rows`)."""
    columns = _COLUMNS[kind]
    return (
        f"INSERT INTO {_T[kind].name} ({', '.join(columns)}) "  # noqa: S608 (fixed names)
        f"VALUES ({', '.join('?' * len(columns))}) ON CONFLICT DO NOTHING"
    )


def copy_rows(
    connection: Connection,
    into: Table,
    columns: Sequence[str],
    rows: Sequence[Any],
    then: str,
    *,
    direct: bool = False,
) -> int | None:
    """PostgreSQL's bulk path: COPY the rows into a staging table, then move them `into` their
    table with `then` (ordering and the conflict clause: COPY itself cannot skip or merge
    existing keys); the number of rows inserted or merged. `direct` first tries COPY straight
    into the table (half the server's work), under a savepoint: a row whose key is already
    there undoes it and returns None, for the caller to go the staging way."""
    table, names, types = into.name, ", ".join(columns), _copy_types(into, tuple(columns))
    stage = f"iso_social_load_{table}"
    driver = connection.connection.driver_connection
    assert driver is not None  # noqa: S101 (a connection in use has one)
    with driver.cursor() as cursor:
        # fixed names only: no value is ever formatted into these statements
        if direct:
            from psycopg.errors import UniqueViolation

            cursor.execute("SAVEPOINT iso_social_copy")
            try:
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    copy.set_types(types)
                    for row in rows:
                        copy.write_row(row)
            except UniqueViolation:
                cursor.execute("ROLLBACK TO SAVEPOINT iso_social_copy")
                return None
            cursor.execute("RELEASE SAVEPOINT iso_social_copy")
            return len(rows)
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} (LIKE {table}) ON COMMIT DROP")
        with cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
            copy.set_types(types)
            for row in rows:
                copy.write_row(row)
        cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} {then}")  # noqa: S608
        inserted = cursor.rowcount
        cursor.execute(f"TRUNCATE {stage}")
    return int(inserted)


@functools.cache
def _copy_types(table: Table, columns: tuple[str, ...]) -> list[str]:
    """What a `COPY`'s rows hold in each column, for psycopg to format them without looking
    up each value's type (a third of its time a row): integers and booleans as themselves,
    the rest as text, timestamps included (rows hold them as ISO text, which the server
    reads by the column's type as it reads any text `COPY`)."""

    def kind(column: Any) -> str:
        if isinstance(column.type, Boolean):
            return "bool"
        return "int8" if isinstance(column.type, Integer) else "text"

    return [kind(table.c[name]) for name in columns]


def begin_ingest(connection: Connection, path: str, fmt: str, started_at: datetime) -> int:
    """Record the start of a file's ingest and return its id."""
    result = connection.execute(
        insert(INGEST).values(
            path=path, sha256="", size=0, format=fmt, started_at=started_at, finished_at=started_at
        )
    )
    key = result.inserted_primary_key
    assert key is not None  # noqa: S101
    return int(key[0])


def finish_ingest(
    connection: Connection,
    ingest_id: int,
    *,
    sha256: str,
    size: int,
    records_read: int,
    stored: int,
    duplicates: int,
    conflicts: int,
    rejected: int,
    first_at: datetime | None,
    last_at: datetime | None,
    finished_at: datetime,
) -> None:
    """Complete the file's ingest record with its hash and counts."""
    table = INGEST
    connection.execute(
        update(table)
        .where(table.c.id == ingest_id)
        .values(
            sha256=sha256,
            size=size,
            records_read=records_read,
            stored=stored,
            duplicates=duplicates,
            conflicts=conflicts,
            rejected=rejected,
            first_at=first_at,
            last_at=last_at,
            finished_at=finished_at,
        )
    )


def save_rejections(
    connection: Connection, ingest_id: int, rejections: Sequence[Rejection]
) -> None:
    """Keep rejected records with their line, reason and raw text."""
    if rejections:
        connection.execute(
            insert(REJECT),
            [
                {"ingest_id": ingest_id, "line": r.line, "reason": r.reason, "raw": r.raw}
                for r in rejections
            ],
        )


_DIRECT_COPY = "iso_social: ingest that met a stored key"  # key of `Connection.info`
COPY_ROWS = 20_000  # rows of a kind gathered for one COPY on PostgreSQL


def rows_per_store(connection: Connection) -> int:
    """How many rows of a kind a loader gathers before it calls `store_rows`: on PostgreSQL
    each COPY costs a few round trips to the server (a savepoint, the COPY, its release), and
    a batch of 5,000 records holds a few hundred calls or statuses, which cost twice as much
    a row as stored 20,000 at a time; SQLite's inserts cost nothing per call (1: as they
    come)."""
    return COPY_ROWS if connection.dialect.name == "postgresql" else 1


def store_rows(
    connection: Connection,
    ingest_id: int,
    by_kind: Rows,
    spans: ConversationSpans | None = None,
) -> BatchResult:
    """Store a batch's rows (of `rows.batch_rows`); duplicates are skipped and conflicts reported.
    The stored messages' conversations are merged into `spans`, for the caller to `write`
    before it commits, or written at once without it."""
    result = BatchResult()
    for kind, rows in by_kind.items():
        if connection.dialect.name == "postgresql":
            # straight into the table until a batch of this ingest meets a stored key (then
            # the rest probably overlaps too: a re-ingest, an export overlapping the last)
            direct = connection.info.get(_DIRECT_COPY) != ingest_id
            inserted = None
            if direct:
                inserted = copy_rows(connection, _T[kind], _COLUMNS[kind], rows, "", direct=True)
                if inserted is None:
                    connection.info[_DIRECT_COPY] = ingest_id
            if inserted is None:
                inserted = copy_rows(
                    connection,
                    _T[kind],
                    _COLUMNS[kind],
                    rows,
                    "ORDER BY source_line ON CONFLICT DO NOTHING",  # the first in the file is kept
                )
        else:
            inserted = connection.exec_driver_sql(_insert_sql(kind), rows).rowcount
        stored = (
            rows if inserted == len(rows) else _classify(connection, kind, ingest_id, rows, result)
        )
        result.stored[kind] += len(stored)
        if kind == "message":
            if spans is None:
                ConversationSpans(stored).write(connection)
            else:
                spans.add(stored)
                if len(spans) >= spans.LIMIT:
                    spans.write(connection)
            result.conversation_ids.update(row[1] for row in stored)
    return result


def _classify(
    connection: Connection,
    kind: str,
    ingest_id: int,
    rows: list[tuple[Any, ...]],
    result: BatchResult,
) -> list[tuple[Any, ...]]:
    """Sort a batch that hit existing ids into stored, duplicate and conflicting rows."""
    table = _T[kind]
    key_column = table.c[_KEY_COLUMN[kind]]
    at_digest = _COLUMNS[kind].index("digest")
    keys = list({row[0] for row in rows})
    stored_rows: dict[str, tuple[int, int, str, bool]] = {}
    # a purged message is a duplicate whatever it holds now; a call is compared by its digest
    purged = table.c.purged_at.is_not(None) if kind == "message" else literal(False)
    for start in range(0, len(keys), IN_CHUNK):
        query = select(
            key_column, table.c.ingest_id, table.c.source_line, table.c.digest, purged
        ).where(key_column.in_(keys[start : start + IN_CHUNK]))
        for key, row_ingest, line, digest, is_purged in connection.execute(query):
            stored_rows[key] = (row_ingest, line, digest, bool(is_purged))
    stored: list[tuple[Any, ...]] = []
    for row in rows:
        key, digest, source_line = row[0], row[at_digest], row[-1]
        row_ingest, line, stored_digest, is_purged = stored_rows[key]
        if row_ingest == ingest_id and line == source_line:
            stored.append(row)
        elif stored_digest == digest or is_purged:  # purged content cannot be compared
            result.duplicates += 1
        else:
            where = (
                f"line {line} of this file"
                if row_ingest == ingest_id
                else f"ingest #{row_ingest}, line {line}"
            )
            fields = _differing_fields(connection, kind, row)
            result.conflicts.append(
                Rejection.of(
                    source_line,
                    f"conflict: {_KEY_COLUMN[kind]} '{key}' is already stored with a "
                    f"different {', '.join(fields) or 'content'} ({where}); the stored record "
                    "is kept",
                    "",
                )
            )
    return stored


_NOT_CONTENT = {"digest", "ingest_id", "source_line", "purged_at"}


def _differing_fields(connection: Connection, kind: str, row: tuple[Any, ...]) -> list[str]:
    """Which fields of an incoming row differ from the stored one (names, never values)."""
    table = _T[kind]
    columns = [c for c in _COLUMNS[kind] if c not in _NOT_CONTENT]
    sqlite = connection.dialect.name == "sqlite"  # compare timestamps as the row has them
    moments = {c for c in columns if isinstance(table.c[c].type, UTCDateTime)}
    wanted = [_raw(table.c[c]) if sqlite and c in moments else table.c[c] for c in columns]
    stored = connection.execute(select(*wanted).where(table.c[_KEY_COLUMN[kind]] == row[0])).first()
    if stored is None:
        return []
    incoming = dict(zip(_COLUMNS[kind], row, strict=True))
    if not sqlite:  # the row's text against the stored datetime
        for c in moments & incoming.keys():
            if incoming[c] is not None:
                incoming[c] = datetime.fromisoformat(incoming[c])
    return [c for c, old in zip(columns, stored, strict=True) if old != incoming[c]]


class ConversationSpans:
    """Stored message rows' conversations, merged in memory (channel and time of the first
    message, time of the last; timestamps as the rows hold them, text in time order) until
    `write` merges them into the store. A conversation's messages arrive over several batches
    of a file: merging its span once, not once per batch, saves a third of the upserts."""

    LIMIT = 100_000  # conversations kept before they are written (about 35 MB)

    def __init__(self, rows: Sequence[tuple[Any, ...]] = ()) -> None:
        self.spans: dict[str, list[Any]] = {}
        self.add(rows)

    def __len__(self) -> int:
        return len(self.spans)

    def add(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Merge message rows (of `rows.batch_rows`) into the spans."""
        spans = self.spans
        for row in rows:
            cid, channel, created = row[1], row[2], row[7]
            span = spans.get(cid)
            if span is None:
                spans[cid] = [channel, created, created]
            else:
                if created < span[1]:
                    span[0], span[1] = channel, created
                if created > span[2]:
                    span[2] = created

    def write(self, connection: Connection) -> None:
        """Merge the spans into the conversation table and forget them."""
        if not self.spans:
            return
        merged = [(cid, *span) for cid, span in self.spans.items()]
        self.spans = {}
        if connection.dialect.name == "postgresql":
            _merge_conversations(connection, merged)
        else:
            connection.exec_driver_sql(_UPSERT_CONVERSATION, merged)


def _merge_conversations(connection: Connection, spans: list[tuple[Any, ...]]) -> None:
    """PostgreSQL's merge of spans into the conversation table: those of conversations not
    stored yet go straight in by `COPY`, the others through a staging table and
    `_MERGE_CONVERSATION`, which costs the server half as much again a row (a large ingest's
    conversations are nearly all new: the server's 4.2 s for 340,000 became 2.2 s). One that
    a concurrent ingest stores meanwhile fails the straight `COPY`: then all are merged."""
    stored = _stored_conversations(connection, [span[0] for span in spans])
    new = [span for span in spans if span[0] not in stored]
    merged = [span for span in spans if span[0] in stored]
    columns = _CONVERSATION_COLUMNS
    if new and copy_rows(connection, CONVERSATION, columns, new, "", direct=True) is None:
        merged += new
    if merged:
        copy_rows(connection, CONVERSATION, columns, merged, _MERGE_CONVERSATION)


def _stored_conversations(connection: Connection, ids: list[str]) -> set[str]:
    """Which of the conversations are stored already (PostgreSQL: the ids as one array, sent
    in binary, which psycopg makes without quoting each id)."""
    driver = connection.connection.driver_connection
    assert driver is not None  # noqa: S101 (a connection in use has one)
    with driver.cursor() as cursor:
        cursor.execute(
            "SELECT conversation_id FROM conversation WHERE conversation_id = ANY(%b)", (ids,)
        )
        return {row[0] for row in cursor}


def activity_span(connection: Connection) -> tuple[datetime | None, datetime | None]:
    """The earliest and latest activity in the store (messages and calls)."""
    conv = CONVERSATION
    call = CALL
    first, last = connection.execute(
        select(func.min(conv.c.first_activity_at), func.max(conv.c.last_activity_at))
    ).one()
    call_first, call_last = connection.execute(
        select(func.min(call.c.offered_at), func.max(call.c.ended_at))
    ).one()
    firsts = [v for v in (first, call_first) if v is not None]
    lasts = [v for v in (last, call_last) if v is not None]
    return (min(firsts) if firsts else None, max(lasts) if lasts else None)


def _raw(column: Any) -> Any:
    """A timestamp column as the driver returns it (ISO text on SQLite, an aware datetime on
    PostgreSQL), for `_moment_of`: a million messages skip SQLAlchemy's per-value parsing."""
    return type_coerce(column, String)


def driver_rows(
    connection: Connection, query: Any, *, stream: bool = True
) -> Iterator[Sequence[Any]]:
    """The rows of `query` as the driver gives them, for reads of many rows: straight off the
    DBAPI cursor once SQLAlchemy has bound and run the statement (its `Row` objects cost a
    third of reading a million messages), except on PostgreSQL with `stream`, where they come
    in blocks of a server-side cursor (a window's messages, which would not fit the client's
    memory at once). The columns must need no result processing: text, integers, `_raw`
    timestamps."""
    sqlite = connection.dialect.name == "sqlite"
    if stream and not sqlite:
        yield from connection.execute(query.execution_options(yield_per=10_000))
        return
    result = connection.execute(query)
    try:
        cursor = cast(Any, result.cursor)
        yield from cursor if sqlite else cursor.fetchall()  # psycopg's rows loaded at once
    finally:
        result.close()


def _moment_of(connection: Connection) -> Callable[[Any], datetime]:
    """How to read a raw timestamp of `_raw` as an aware UTC datetime on this connection."""
    if connection.dialect.name == "sqlite":
        parse = datetime.fromisoformat
        return lambda text: parse(text + "+00:00")  # ten times faster than .replace(tzinfo=)
    driver = connection.connection.driver_connection
    if getattr(getattr(driver, "info", None), "timezone", None) is UTC:
        return _as_is  # a session in UTC (`database.make_engine`): psycopg gives UTC already
    return lambda moment: moment.astimezone(UTC)


def _as_is(moment: datetime) -> datetime:
    return moment


def _in_window(window: Window) -> Any:
    conv = CONVERSATION
    return (conv.c.last_activity_at >= window.start) & (conv.c.first_activity_at < window.end)


def _id_order(connection: Connection) -> Any:
    """Conversation ids compared as Python compares strings (by code point): SQLite's binary
    collation does; PostgreSQL's default collation may not, "C" does (UTF-8 bytes sort in
    code point order)."""
    column = CONVERSATION.c.conversation_id
    return column if connection.dialect.name == "sqlite" else column.collate("C")


def run_filter(
    connection: Connection, window: Window, between: tuple[str | None, str | None]
) -> Any:
    """The window's conversations (`_in_window`) with ids from `between[0]` (included) to
    `between[1]` (excluded) where either is given: a run of `conversation_split`."""
    where = _in_window(window)
    low, high = between
    if low is not None:
        where &= _id_order(connection) >= low
    if high is not None:
        where &= _id_order(connection) < high
    return where


def conversation_count(connection: Connection, window: Window) -> int:
    """How many conversations have activity in the window."""
    return int(
        connection.execute(
            select(func.count()).select_from(CONVERSATION).where(_in_window(window))
        ).scalar_one()
    )


def conversation_split(
    connection: Connection, window: Window, parts: int, total: int | None = None
) -> list[str]:
    """The ids that cut the window's conversations into `parts` runs of about equal size, in
    `conversations_in`'s order: the first id of every run but the first (fewer when there
    are fewer conversations). For `conversations_in(..., between=...)`. `total`: the
    window's `conversation_count`, when the caller has it already. One query: the ids are
    numbered in order and those at the cuts' positions kept."""
    if total is None:
        total = conversation_count(connection, window)
    positions = sorted({total * part // parts + 1 for part in range(1, parts)} - {1})
    if not positions:
        return []
    numbered = (
        select(
            CONVERSATION.c.conversation_id,
            func.row_number().over(order_by=_id_order(connection)).label("position"),
        )
        .where(_in_window(window))
        .subquery()
    )
    query = (
        select(numbered.c.conversation_id)
        .where(numbered.c.position.in_(positions))
        .order_by(numbered.c.position)
    )
    return list(connection.execute(query).scalars())


def conversations_in(
    connection: Connection,
    window: Window,
    channels: Iterable[Channel] = (),
    ids: Iterable[str] | None = None,
    between: tuple[str | None, str | None] = (None, None),
) -> list[Conversation]:
    """Conversations with activity in the window, with every message before the window's end,
    ordered by id; only those named in `ids`, when given, and those with ids from
    `between[0]` (included) to `between[1]` (excluded) where either is given (a run of
    `conversation_split`)."""
    conv = CONVERSATION
    wanted = [c.value for c in channels]
    in_window = run_filter(connection, window, between)
    if wanted:
        in_window &= conv.c.channel.in_(wanted)
    if ids is None:
        conversations = _read_conversations(connection, window, in_window)
    else:
        names = sorted(set(ids))
        conversations = [
            conversation
            for start in range(0, len(names), IN_CHUNK)
            for conversation in _read_conversations(
                connection,
                window,
                in_window & conv.c.conversation_id.in_(names[start : start + IN_CHUNK]),
            )
        ]
    # the same order on every backend (PostgreSQL sorts text by its collation)
    conversations.sort(key=lambda c: c.conversation_id)
    return conversations


def _read_conversations(connection: Connection, window: Window, where: Any) -> list[Conversation]:
    conv, msg = CONVERSATION, MESSAGE
    query = (
        select(
            msg.c.message_id,
            msg.c.conversation_id,
            msg.c.channel,
            msg.c.direction,
            msg.c.author,
            msg.c.author_role,
            msg.c.visibility,
            _raw(msg.c.created_at),
            msg.c.text,
            msg.c.in_reply_to,
            type_coerce(msg.c.automated, Integer),  # 0 or 1: no column left to process
            conv.c.channel,
        )
        .join(conv, conv.c.conversation_id == msg.c.conversation_id)
        .where(where, msg.c.created_at < window.end)
        .order_by(msg.c.conversation_id, msg.c.created_at, msg.c.message_id)
    )
    statuses = _statuses(connection, window, where)
    escalations = _escalations(connection, window, where)
    moment = _moment_of(connection)
    new_tuple = tuple.__new__
    conversations: list[Conversation] = []
    current: list[Message] = []
    current_id, current_channel = None, None
    for row in driver_rows(connection, query):
        if row[1] != current_id:
            if current_id is not None:
                conversations.append(
                    _conversation(current_id, current_channel, current, statuses, escalations)
                )
            current_id, current_channel, current = row[1], row[11], []
        current.append(
            new_tuple(  # Message(...) without its Python-level __new__: every field given
                Message,
                (
                    row[0],
                    row[1],
                    CHANNEL_OF[row[2]],
                    DIRECTION_OF[row[3]],
                    row[4],
                    ROLE_OF[row[5]],
                    VISIBILITY_OF[row[6]],
                    moment(row[7]),
                    row[8],
                    row[9],
                    bool(row[10]),
                ),
            )
        )
    if current_id is not None:
        conversations.append(
            _conversation(current_id, current_channel, current, statuses, escalations)
        )
    return conversations


def _conversation(
    cid: str,
    channel: Any,
    messages: list[Message],
    statuses: dict[str, list[StatusChange]],
    escalations: dict[str, list[Escalation]],
) -> Conversation:
    return Conversation(
        cid,
        CHANNEL_OF[channel],
        tuple(messages),
        tuple(statuses.get(cid, ())),
        tuple(escalations.get(cid, ())),
    )


def _statuses(
    connection: Connection, window: Window, in_window: Any
) -> dict[str, list[StatusChange]]:
    conv, table = CONVERSATION, STATUS
    query = (
        select(table.c.conversation_id, _raw(table.c.created_at), table.c.status)
        .join(conv, conv.c.conversation_id == table.c.conversation_id)
        .where(in_window, table.c.created_at < window.end)
        .order_by(table.c.conversation_id, table.c.created_at, table.c.id)
    )
    result: dict[str, list[StatusChange]] = defaultdict(list)
    moment = _moment_of(connection)
    for cid, created, status in driver_rows(connection, query, stream=False):
        result[cid].append(StatusChange(cid, moment(created), STATUS_OF[status]))
    return result


def _escalations(
    connection: Connection, window: Window, in_window: Any
) -> dict[str, list[Escalation]]:
    conv, table = CONVERSATION, ESCALATION
    query = (
        select(
            table.c.conversation_id, _raw(table.c.created_at), table.c.to_level, table.c.by_author
        )
        .join(conv, conv.c.conversation_id == table.c.conversation_id)
        .where(in_window, table.c.created_at < window.end)
        .order_by(table.c.conversation_id, table.c.created_at, table.c.id)
    )
    result: dict[str, list[Escalation]] = defaultdict(list)
    moment = _moment_of(connection)
    for cid, created, to, by in driver_rows(connection, query, stream=False):
        result[cid].append(Escalation(cid, moment(created), to, by))
    return result


_READS = itertools.count(1)  # numbers each `WindowConversations` made in this process


@dataclass
class WindowConversations:
    """A window's conversations as last read, and what the store held then: an incremental
    check reads again only the conversations that changed (`refresh_conversations`)."""

    source: str  # the database they were read from
    window: Window
    ingest: int  # the newest ingest they reflect
    pending: frozenset[int]  # older ingest ids not committed then (concurrent on PostgreSQL)
    purged_at: datetime | None  # the newest purge they reflect (a purge changes no ingest)
    by_id: dict[str, Conversation]
    # what this read changed of the one it refreshed (`since`, by its `serial`): the ids it
    # read again, those no longer in the window among them; every other conversation is
    # the object `since` held. None: everything was read
    read_again: frozenset[str] | None = None
    since: int | None = None
    serial: int = field(default_factory=lambda: next(_READS))
    ids: list[str] | None = field(default=None, repr=False)  # sorted, once `ordered` ran

    def ordered(self) -> list[Conversation]:
        """The conversations in `conversations_in`'s order."""
        if self.ids is None:
            self.ids = sorted(self.by_id)
        by_id = self.by_id
        return [by_id[cid] for cid in self.ids]


_PENDING_SPAN = 100_000  # how far back uncommitted ingest ids are looked for


class StoreMarks(NamedTuple):
    """What the store held when a window was read: the newest committed ingest id, the ids
    below it not committed yet (an ingest still loading on PostgreSQL, or rolled back: read
    again next time), and the newest purge of messages or calls."""

    ingest: int
    pending: frozenset[int]
    purged_at: datetime | None


def store_marks(connection: Connection) -> StoreMarks:
    """The store's marks now (the purges by their partial indexes: nothing to read until a
    purge); read once for both refreshes of a check (`refresh_conversations`,
    `refresh_calls`)."""
    ids = set(connection.execute(select(INGEST.c.id)).scalars())
    newest = max(ids, default=0)
    pending = frozenset(range(max(1, newest - _PENDING_SPAN), newest + 1)) - ids
    purges = [
        connection.execute(
            select(func.max(table.c.purged_at)).where(table.c.purged_at.is_not(None))
        ).scalar()
        for table in (MESSAGE, CALL)
    ]
    return StoreMarks(newest, pending, max((p for p in purges if p is not None), default=None))


def _source(connection: Connection) -> str:
    """The database a connection reads, as a kept read records it."""
    return connection.engine.url.render_as_string(hide_password=True)


def _read_again(
    previous: WindowConversations | WindowCalls, source: str, window: Window, purged: bool
) -> bool:
    """Whether a kept read cannot be refreshed and everything must be read again: it came from
    another database, the window moved back, something was `purged` since, or too many
    ingests were not committed then for a bounded IN list of them."""
    return (
        previous.source != source
        or window.start < previous.window.start
        or window.end < previous.window.end
        or purged
        or len(previous.pending) > IN_CHUNK
    )


def _arrived(table: Any, previous: WindowConversations | WindowCalls) -> Any:
    """The rows of `table` stored since a kept read: by ingests after its newest one, or by
    those not committed then."""
    since = table.c.ingest_id > previous.ingest
    if previous.pending:
        since |= table.c.ingest_id.in_(sorted(previous.pending))
    return since


def refresh_conversations(
    connection: Connection,
    window: Window,
    previous: WindowConversations | None,
    marks: StoreMarks | None = None,
) -> WindowConversations:
    """The window's conversations, as `conversations_in` reads them, reading again only what
    changed since `previous`: conversations that ingests since then touched (a message,
    status or escalation), that have activity after the previous window's end, or that left
    the window at its start. Everything is read again when there is nothing to start from,
    the window moved back, content was purged since, or `previous` came from another
    database. `marks`: the store's, when the caller has read them (else read here)."""
    ingest, pending, purged = marks if marks is not None else store_marks(connection)
    source = _source(connection)
    if previous is None or _read_again(previous, source, window, purged != previous.purged_at):
        everything = conversations_in(connection, window)
        return WindowConversations(
            source, window, ingest, pending, purged, {c.conversation_id: c for c in everything}
        )
    conv, before = CONVERSATION, previous.window
    stale: set[str] = set()
    if ingest != previous.ingest or previous.pending:
        # each arrived row's conversation, repeated (the set keeps one): with DISTINCT, SQLite
        # walked the whole message table in conversation order, the response index giving it
        # that order, instead of searching its ingest index (0.43 s against none for 10,000
        # new messages among a million)
        for table in (MESSAGE, STATUS, ESCALATION):
            stale.update(
                connection.execute(
                    select(table.c.conversation_id).where(_arrived(table, previous))
                ).scalars()
            )
    if window.end > before.end:  # records the previous window's end left out
        stale.update(
            connection.execute(
                select(conv.c.conversation_id).where(
                    conv.c.last_activity_at >= before.end, conv.c.first_activity_at < window.end
                )
            ).scalars()
        )
        for table in (STATUS, ESCALATION):  # not part of a conversation's activity span
            stale.update(
                connection.execute(
                    select(table.c.conversation_id)
                    .where(table.c.created_at >= before.end, table.c.created_at < window.end)
                    .distinct()
                ).scalars()
            )
    if window.start > before.start:  # conversations whose activity ended before the start
        stale.update(
            connection.execute(
                select(conv.c.conversation_id).where(
                    conv.c.last_activity_at >= before.start,
                    conv.c.last_activity_at < window.start,
                )
            ).scalars()
        )
    by_id = dict(previous.by_id)  # a failed refresh leaves `previous` as it was
    for cid in stale:
        by_id.pop(cid, None)
    by_id.update((c.conversation_id, c) for c in conversations_in(connection, window, ids=stale))
    ids = None
    if previous.ids is not None:  # the previous order without the stale ids, then theirs
        ids = [cid for cid in previous.ids if cid not in stale]
        ids += sorted(cid for cid in stale if cid in by_id)
        ids.sort()  # two sorted runs: merged, not sorted afresh (a third of the time)
    return WindowConversations(
        source, window, ingest, pending, purged, by_id, frozenset(stale), previous.serial, ids=ids
    )


@dataclass(frozen=True)
class WindowCalls:
    """A window's calls as last read, and what the store held then: an incremental check
    reads again only the calls that arrived since (`refresh_calls`)."""

    source: str  # the database they were read from
    window: Window
    ingest: int  # the newest ingest they reflect
    pending: frozenset[int]  # older ingest ids not committed then
    purged_at: datetime | None  # the newest purge they reflect (a purge changes no ingest)
    calls: list[Call]  # in `calls_in`'s order


def refresh_calls(
    connection: Connection,
    window: Window,
    previous: WindowCalls | None,
    marks: StoreMarks | None = None,
) -> WindowCalls:
    """The window's calls, as `calls_in` reads them, reading only what is new since
    `previous`: calls that ingests since then stored (a stored call never changes but by a
    purge), and those offered after the previous window's end; calls offered before the
    window's start are left out. Everything is read again when there is nothing to start
    from, the window moved back, content was purged since (calls or messages: the newest
    purge of either is compared), or `previous` came from another database. `marks` as
    `refresh_conversations` takes them."""
    ingest, pending, purged = marks if marks is not None else store_marks(connection)
    source = _source(connection)
    kept = (source, window, ingest, pending, purged)
    if previous is None or _read_again(previous, source, window, purged != previous.purged_at):
        return WindowCalls(*kept, calls_in(connection, window))
    new: list[Call] = []
    if ingest != previous.ingest or previous.pending:
        # by the ingest index alone, then the window: with the window in the query SQLite
        # searched the index of offering times, reading every call of the window
        arrived = _read_calls(connection, None, _arrived(CALL, previous))
        new += [c for c in arrived if window.start <= c.offered_at < window.end]
    if window.end > previous.window.end:  # calls the previous window's end left out
        new += _read_calls(connection, Window(previous.window.end, window.end))
    if not new and window.start == previous.window.start:
        return WindowCalls(*kept, previous.calls)
    calls = previous.calls
    if window.start != previous.window.start:
        calls = [c for c in calls if c.offered_at >= window.start]
    # the new ones not held already (a call stored while the last read ran can be read again)
    fresh = {}
    for call in new:
        at = bisect_left(calls, _CALL_ORDER(call), key=_CALL_ORDER)
        if at == len(calls) or calls[at].call_id != call.call_id:
            fresh[call.call_id] = call
    added = sorted(fresh.values(), key=_CALL_ORDER)
    if added and calls and _CALL_ORDER(added[0]) < _CALL_ORDER(calls[-1]):
        return WindowCalls(*kept, sorted([*calls, *added], key=_CALL_ORDER))  # two runs merged
    return WindowCalls(*kept, [*calls, *added])  # the new ones all come after the others


def message_texts(connection: Connection, message_ids: Iterable[str]) -> dict[str, str]:
    """The text of each named message that is stored ("" once purged), by id."""
    wanted = sorted(set(message_ids))
    texts: dict[str, str] = {}
    for start in range(0, len(wanted), 500):  # bounded IN lists on every backend
        rows = connection.execute(
            select(MESSAGE.c.message_id, MESSAGE.c.text).where(
                MESSAGE.c.message_id.in_(wanted[start : start + 500])
            )
        )
        texts.update((row[0], row[1] or "") for row in rows)
    return texts


# The first customer message of each conversation and the first response at or after it, by
# the response index (`ix_message_response`) without reading the conversations. SQLite has no
# LATERAL join: the smallest `created_at || message_id` (timestamps are fixed-width text)
# is the first message in the order `conversations_in` reads them, with its id; with one
# min() and a unique key, SQLite takes the query's other (bare) columns from that very row.
_FIRST_REPLIES_SQLITE = """
WITH first_in AS (
  SELECT m.conversation_id AS cid, c.channel AS channel, m.visibility AS visibility,
         MIN(m.created_at || m.message_id) AS asked
  FROM message m JOIN conversation c ON c.conversation_id = m.conversation_id
  WHERE {channels} m.direction = 'inbound' AND m.author_role = 'customer'
    AND m.created_at < :end
  GROUP BY m.conversation_id
)
SELECT f.cid, f.channel, f.asked, f.visibility,
  (SELECT MIN(r.created_at || r.message_id) FROM message r
   WHERE r.conversation_id = f.cid AND r.direction IN :directions {filters}
     AND r.created_at >= substr(f.asked, 1, 26) AND r.created_at < :end) AS reply
FROM first_in f WHERE f.asked >= :start
"""
_FIRST_REPLIES_POSTGRESQL = """
WITH first_in AS (
  SELECT DISTINCT ON (m.conversation_id) m.conversation_id AS cid, c.channel AS channel,
         m.message_id AS asked_id, m.created_at AS asked_at, m.visibility AS visibility
  FROM message m JOIN conversation c ON c.conversation_id = m.conversation_id
  WHERE {channels} m.direction = 'inbound' AND m.author_role = 'customer'
    AND m.created_at < :end
  ORDER BY m.conversation_id, m.created_at, m.message_id
)
SELECT f.cid, f.channel, f.asked_id, f.asked_at, f.visibility, r.message_id, r.created_at
FROM first_in f LEFT JOIN LATERAL (
  SELECT r.message_id, r.created_at FROM message r
  WHERE r.conversation_id = f.cid AND r.direction IN :directions {filters}
    AND r.created_at >= f.asked_at AND r.created_at < :end
  ORDER BY r.created_at, r.message_id LIMIT 1
) r ON true
WHERE f.asked_at >= :start
"""


_CONVERSATION_ID = attrgetter("conversation_id")


def first_replies(
    connection: Connection,
    window: Window,
    channels: Iterable[Channel],
    responses: ResponseFilter,
) -> list[FirstReply]:
    """Each conversation (of `channels`; all when empty) whose first customer message lies in
    the window, with the first message at or after it that `responses` matches, before the
    window's end: what `first_reply` finds in a conversation of `conversations_in`, ordered by
    conversation id as they are."""
    sqlite = connection.dialect.name == "sqlite"
    values: dict[str, Any] = {"directions": sorted(d.value for d in responses.directions)}
    filters = []  # a condition every message meets is left out (it would slow the search)
    if responses.roles != frozenset(AuthorRole):
        filters.append("AND r.author_role IN :roles")
        values["roles"] = sorted(r.value for r in responses.roles)
    if responses.visibilities != frozenset(Visibility):
        filters.append("AND r.visibility IN :visibilities")
        values["visibilities"] = sorted(v.value for v in responses.visibilities)
    if not responses.automated:
        filters.append("AND r.automated = false")
    if wanted := sorted(c.value for c in channels):
        values["channels"] = wanted
    query = text(
        (_FIRST_REPLIES_SQLITE if sqlite else _FIRST_REPLIES_POSTGRESQL).format(
            channels="c.channel IN :channels AND" if wanted else "", filters=" ".join(filters)
        )
    ).bindparams(
        *(bindparam(name, expanding=True) for name in values),
        bindparam("start", window.start, type_=UTCDateTime),  # as the column stores them
        bindparam("end", window.end, type_=UTCDateTime),
    )
    rows = connection.execute(query, values)
    moment = _moment_of(connection)
    if sqlite:  # timestamp text and id run together (see _FIRST_REPLIES_SQLITE)
        found = [
            FirstReply(
                cid,
                CHANNEL_OF[channel],
                asked[26:],
                moment(asked[:26]),
                VISIBILITY_OF[visibility],
                None if reply is None else reply[26:],
                None if reply is None else moment(reply[:26]),
            )
            for cid, channel, asked, visibility, reply in rows
        ]
    else:
        found = [
            FirstReply(
                cid,
                CHANNEL_OF[channel],
                asked_id,
                moment(asked_at),
                VISIBILITY_OF[visibility],
                reply_id,
                None if reply_at is None else moment(reply_at),
            )
            for cid, channel, asked_id, asked_at, visibility, reply_id, reply_at in rows
        ]
    found.sort(key=_CONVERSATION_ID)
    return found


def calls_in(connection: Connection, window: Window) -> list[Call]:
    """Calls offered in the window, by time (then id, in code point order on every backend)."""
    calls = _read_calls(connection, window)
    calls.sort(key=_CALL_ORDER)
    return calls


_CALL_ORDER = attrgetter("offered_at", "call_id")


def _read_calls(connection: Connection, window: Window | None, where: Any = None) -> list[Call]:
    """The calls offered in the window (any, with None) that `where` selects, when given, in
    no order."""
    table = CALL
    offered = table.c.offered_at
    in_window = () if window is None else (offered >= window.start, offered < window.end)
    query = select(
        table.c.call_id,
        table.c.channel,
        table.c.queue,
        table.c.customer,
        _raw(table.c.offered_at),
        _raw(table.c.answered_at),
        _raw(table.c.ended_at),
        table.c.outcome,
    ).where(*in_window, true() if where is None else where)
    moment = _moment_of(connection)
    return [
        Call(
            r[0],
            CHANNEL_OF[r[1]],
            r[2],
            r[3],
            moment(r[4]),
            None if r[5] is None else moment(r[5]),
            moment(r[6]),
            CALL_OUTCOME_OF[r[7]],
        )
        for r in driver_rows(connection, query)
    ]


def ingested_files(connection: Connection) -> list[IngestedFile]:
    """Every completed ingest, oldest first: the input manifest of a run."""
    table = INGEST
    query = select(table).where(table.c.sha256 != literal("")).order_by(table.c.id)
    return [
        IngestedFile(
            r.path,
            r.sha256,
            r.size,
            r.format,
            r.finished_at,
            r.records_read,
            r.stored,
            r.duplicates,
            r.conflicts,
            r.rejected,
        )
        for r in connection.execute(query)
    ]


def rejections_of(connection: Connection, ingest_id: int) -> list[Rejection]:
    """The rejected records of one ingest, in file order."""
    table = REJECT
    query = (
        select(table.c.line, table.c.reason, table.c.raw)
        .where(table.c.ingest_id == ingest_id)
        .order_by(table.c.line, table.c.id)
    )
    return [Rejection(line, reason, raw) for line, reason, raw in connection.execute(query)]
