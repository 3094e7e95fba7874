"""The store on SQLite and PostgreSQL: idempotent, atomic bulk loads and window queries."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from iso_social.domain import Channel, Window
from iso_social.errors import IngestError, StoreError
from iso_social.ingest import IngestOptions, get_log_format
from iso_social.store import repository, rows
from iso_social.store.database import make_engine, opened_engine
from iso_social.store.loader import load_files
from iso_social.store.tables import MESSAGE, REJECT
from tests.conftest import canonical_message, write_jsonl

JSONL = get_log_format("jsonl")


def load(db_url: str, *paths: Path, strict: bool = False):  # type: ignore[no-untyped-def]
    with opened_engine(db_url) as engine:
        return load_files(engine, list(paths), [JSONL] * len(paths), IngestOptions(), strict=strict)


def sample(tmp_path: Path, name: str = "log.jsonl") -> Path:
    return write_jsonl(
        tmp_path / name,
        [
            canonical_message("m1", "2026-10-01T10:00:00+02:00"),
            canonical_message(
                "m2",
                "2026-10-01T08:20:00Z",
                direction="outbound",
                author="@brand",
                author_role="agent",
                in_reply_to="m1",
            ),
            "this line is broken",
            canonical_message(
                "m3",
                "2026-10-02T09:00:00Z",
                conversation_id="c2",
                channel="email",
                visibility="private",
            ),
            {
                "kind": "status",
                "conversation_id": "c1",
                "created_at": "2026-10-01T09:00:00Z",
                "status": "resolved",
            },
            {
                "kind": "call",
                "call_id": "k1",
                "channel": "phone",
                "queue": "q",
                "customer": "x",
                "offered_at": "2026-10-01T12:00:00Z",
                "answered_at": None,
                "ended_at": "2026-10-01T12:01:00Z",
                "outcome": "abandoned",
            },
        ],
    )


def count(db_url: str, table) -> int:  # type: ignore[no-untyped-def]
    with opened_engine(db_url) as engine, engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_ingest_stores_good_records_and_keeps_the_bad_line(db_url: str, tmp_path: Path) -> None:
    summary = load(db_url, sample(tmp_path)).files[0]
    assert (summary.records_read, summary.messages_stored, summary.other_stored) == (6, 3, 2)
    assert summary.conversations == 2 and summary.rejected_count == 1
    assert [(r.line, r.raw) for r in summary.rejected] == [(3, "this line is broken")]
    assert len(summary.sha256) == 64 and summary.size == sample(tmp_path, "b").stat().st_size
    assert count(db_url, REJECT) == 1


def test_reingest_stores_nothing_twice(db_url: str, tmp_path: Path) -> None:
    path = sample(tmp_path)
    load(db_url, path)
    again = load(db_url, path).files[0]
    assert again.messages_stored == 0 and again.other_stored == 0
    assert again.duplicates == 5 and again.conflicts == 0
    assert count(db_url, MESSAGE) == 3


def test_same_id_with_other_content_is_a_conflict_not_an_overwrite(
    db_url: str, tmp_path: Path
) -> None:
    load(db_url, sample(tmp_path))
    changed = write_jsonl(
        tmp_path / "changed.jsonl",
        [canonical_message("m1", "2026-10-01T10:00:00+02:00", text="edited afterwards")],
    )
    summary = load(db_url, changed).files[0]
    assert summary.conflicts == 1 and summary.messages_stored == 0
    assert (
        "conflict: message_id 'm1' is already stored with a different text"
        in summary.rejected[0].reason
    )
    with opened_engine(db_url) as engine, engine.connect() as connection:
        text = connection.execute(
            select(MESSAGE.c.text).where(MESSAGE.c.message_id == "m1")
        ).scalar_one()
    assert text == "hello"


def test_a_conflict_names_a_moved_timestamp(db_url: str, tmp_path: Path) -> None:
    load(db_url, sample(tmp_path))
    changed = write_jsonl(
        tmp_path / "moved.jsonl",
        [canonical_message("m1", "2026-10-01T10:00:01+02:00", text="hello")],
    )
    summary = load(db_url, changed).files[0]
    assert summary.conflicts == 1
    assert "already stored with a different created_at (" in summary.rejected[0].reason


@pytest.mark.postgres
def test_postgresql_copies_straight_into_the_tables_until_a_key_is_already_there(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, bool, int | None]] = []
    copy_rows = repository.copy_rows

    def spy(*args: object, direct: bool = False) -> int | None:
        inserted = copy_rows(*args, direct=direct)  # type: ignore[arg-type]
        calls.append((str(args[1]), direct, inserted))
        return inserted

    monkeypatch.setattr(repository, "copy_rows", spy)
    db_url = pg_url
    first = [canonical_message(f"m{i}", f"2026-10-01T10:00:{i:02d}Z") for i in range(6)]
    load(db_url, write_jsonl(tmp_path / "a.jsonl", first))
    assert ("message", True, 6) in calls and ("message", False, 6) not in calls
    calls.clear()
    overlapping = [*first[3:], canonical_message("m9", "2026-10-01T10:00:09Z")]
    summary = load(db_url, write_jsonl(tmp_path / "b.jsonl", overlapping)).files[0]
    assert ("message", True, None) in calls  # undone, then through the staging table
    assert ("message", False, 1) in calls
    assert summary.messages_stored == 1 and summary.duplicates == 3
    assert count(db_url, MESSAGE) == 7


def test_duplicates_inside_one_file(db_url: str, tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "dup.jsonl",
        [
            canonical_message("m1", "2026-10-01T10:00:00Z"),
            canonical_message("m1", "2026-10-01T10:00:00Z"),
            canonical_message("m1", "2026-10-01T10:00:00Z", text="different"),
        ],
    )
    summary = load(db_url, path).files[0]
    assert (summary.messages_stored, summary.duplicates, summary.conflicts) == (1, 1, 1)
    assert summary.rejected[0].line == 3 and "line 1 of this file" in summary.rejected[0].reason


def test_strict_ingest_is_atomic(db_url: str, tmp_path: Path) -> None:
    good = write_jsonl(tmp_path / "good.jsonl", [canonical_message("g1", "2026-10-01T10:00Z")])
    with pytest.raises(IngestError, match=r"log\.jsonl:3: not valid JSON"):
        load(db_url, good, sample(tmp_path), strict=True)
    assert count(db_url, MESSAGE) == 0


def test_a_failure_midway_rolls_everything_back(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = [
        canonical_message(f"m{i}", "2026-10-01T10:00:00Z", conversation_id=f"c{i}")
        for i in range(12_000)
    ]
    path = write_jsonl(tmp_path / "big.jsonl", records)
    calls = {"n": 0}
    original = repository.store_rows

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("simulated crash in the second batch")
        return original(*args, **kwargs)

    monkeypatch.setattr(repository, "store_rows", failing)
    monkeypatch.setattr(repository, "rows_per_store", lambda connection: 1)  # batch by batch
    with pytest.raises(RuntimeError, match="simulated crash"):
        load(db_url, path)
    assert count(db_url, MESSAGE) == 0


def test_conversations_in_window_are_domain_objects_in_utc(db_url: str, tmp_path: Path) -> None:
    load(db_url, sample(tmp_path))
    with opened_engine(db_url) as engine, engine.connect() as connection:
        window = Window(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 2, tzinfo=UTC))
        (conversation,) = repository.conversations_in(connection, window)
        assert conversation.conversation_id == "c1" and conversation.channel is Channel.TWITTER
        assert [m.message_id for m in conversation.messages] == ["m1", "m2"]
        assert conversation.messages[0].created_at == datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
        assert conversation.messages[0].created_at.tzinfo is not None
        assert [s.status.value for s in conversation.statuses] == ["resolved"]
        both = Window(window.start, window.end + timedelta(days=2))
        assert len(repository.conversations_in(connection, both, [Channel.EMAIL])) == 1
        (call,) = repository.calls_in(connection, window)
        assert call.answered_at is None
        first, last = repository.activity_span(connection)
        assert first == datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
        assert last == datetime(2026, 10, 2, 9, 0, tzinfo=UTC)
        (ingested,) = repository.ingested_files(connection)
        assert ingested.records_read == 6 and ingested.rejected == 1


def _moments(connection) -> list[datetime]:  # type: ignore[no-untyped-def]
    window = Window(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 3, tzinfo=UTC))
    conversations = repository.conversations_in(connection, window)
    (call,) = repository.calls_in(connection, window)
    statuses = [s.created_at for c in conversations for s in c.statuses]
    messages = [m.created_at for c in conversations for m in c.messages]
    return [*messages, *statuses, call.offered_at, call.ended_at]


_SAMPLE_MOMENTS = [
    datetime(2026, 10, 1, 8, 0, tzinfo=UTC),
    datetime(2026, 10, 1, 8, 20, tzinfo=UTC),
    datetime(2026, 10, 2, 9, 0, tzinfo=UTC),
    datetime(2026, 10, 1, 9, 0, tzinfo=UTC),
    datetime(2026, 10, 1, 12, 0, tzinfo=UTC),
    datetime(2026, 10, 1, 12, 1, tzinfo=UTC),
]


@pytest.mark.postgres
def test_postgresql_sessions_are_in_utc_whatever_the_connection_asked(
    pg_url: str, tmp_path: Path
) -> None:
    # a user's options (or PGTZ, or the server's default) may name another zone: the engine's
    # sessions are in UTC all the same, and stay so after a rollback
    load(pg_url, sample(tmp_path))
    asked = f"{pg_url}%20-cTimeZone%3DAmerica/New_York"
    with opened_engine(asked) as engine, engine.connect() as connection:
        assert connection.exec_driver_sql("SHOW TIME ZONE").scalar_one() == "UTC"
        connection.rollback()
        assert connection.exec_driver_sql("SHOW TIME ZONE").scalar_one() == "UTC"
        moments = _moments(connection)
    assert moments == _SAMPLE_MOMENTS
    assert {moment.tzinfo for moment in moments} == {UTC}


@pytest.mark.postgres
def test_a_postgresql_session_set_to_another_zone_still_reads_utc(
    pg_url: str, tmp_path: Path
) -> None:
    # psycopg gives timestamps in the session's zone: a session someone moved is converted
    load(pg_url, sample(tmp_path))
    with opened_engine(pg_url) as engine, engine.connect() as connection:
        connection.exec_driver_sql("SET TIME ZONE 'Asia/Kolkata'")
        moments = _moments(connection)
    assert moments == _SAMPLE_MOMENTS
    assert {moment.tzinfo for moment in moments} == {UTC}


def test_messages_after_the_window_end_are_not_loaded(db_url: str, tmp_path: Path) -> None:
    load(db_url, sample(tmp_path))
    with opened_engine(db_url) as engine, engine.connect() as connection:
        window = Window(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 1, 8, 10, tzinfo=UTC))
        (conversation,) = repository.conversations_in(connection, window)
    assert [m.message_id for m in conversation.messages] == ["m1"]


def test_sqlite_file_is_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "private.db"
    make_engine(f"sqlite:///{path}").dispose()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_bad_urls_are_explained(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="not a database URL"):
        make_engine("not a url")
    with pytest.raises(StoreError, match="does not exist"):
        make_engine(f"sqlite:///{tmp_path}/missing/dir/x.db")
    with pytest.raises(StoreError, match="unsupported database"):
        make_engine("oracle://scott@localhost/db")


def test_rejections_are_kept_with_raw_text(db_url: str, tmp_path: Path) -> None:
    load(db_url, sample(tmp_path))
    with opened_engine(db_url) as engine, engine.connect() as connection:
        (rejection,) = repository.rejections_of(connection, 1)
    assert json.dumps(rejection.raw) == '"this line is broken"'


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 10, 1, 10, 0, tzinfo=UTC),
        datetime(2026, 10, 1, 10, 0, 0, 1, tzinfo=UTC),
        datetime(999, 1, 2, 3, 4, 5, 600000, tzinfo=UTC),
        datetime(2026, 3, 29, 3, 30, tzinfo=timezone(timedelta(hours=2))),
    ],
)
def test_message_rows_hold_the_timestamps_and_digests_records_have(moment: datetime) -> None:
    """`batch_rows` cuts SQLite's text out of the ISO form it hashes: the same text as
    `sqlite_timestamp`, the same digest as `record_digest`."""
    from iso_social.domain import AuthorRole, Direction, Message, Visibility
    from iso_social.ingest import ParsedRecord
    from iso_social.ingest.canonical import record_digest

    message = Message(
        "m1",
        "c1",
        Channel.EMAIL,
        Direction.INBOUND,
        "a",
        AuthorRole.CUSTOMER,
        Visibility.PRIVATE,
        moment,
        "hi",
    )
    (row,) = rows.batch_rows([ParsedRecord(1, message)], 7, sqlite=True)["message"]
    assert row[7] == rows.sqlite_timestamp(moment)
    assert row[11] == record_digest(message)
    (row,) = rows.batch_rows([ParsedRecord(1, message)], 7, sqlite=False)["message"]
    assert row[7] == rows.sqlite_timestamp(moment) + "+00"
    assert datetime.fromisoformat(row[7]) == moment


@pytest.mark.parametrize("limit", [2, 1000], ids=["written-mid-file", "written-at-the-end"])
def test_conversation_spans_merge_across_batches_and_files(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    from iso_social.store import reading
    from iso_social.store.tables import CONVERSATION

    monkeypatch.setattr(reading, "BATCH_SIZE", 3)  # a conversation's messages in many batches
    monkeypatch.setattr(repository, "rows_per_store", lambda connection: 1)  # each stored
    monkeypatch.setattr(repository.ConversationSpans, "LIMIT", limit)
    start = datetime(2026, 10, 1, tzinfo=UTC)
    records = [
        canonical_message(
            f"m{i}",
            (start + timedelta(minutes=(i * 37) % 101)).isoformat(),  # out of time order
            conversation_id=f"c{i % 4}",
            channel="email" if i % 7 == 0 else "twitter",
        )
        for i in range(40)
    ]
    load(db_url, write_jsonl(tmp_path / "a.jsonl", records[:25]))
    load(db_url, write_jsonl(tmp_path / "b.jsonl", records[25:]))
    expected = {}
    for record in records:
        moment = datetime.fromisoformat(record["created_at"])
        cid = record["conversation_id"]
        channel, first, last = expected.get(cid, (record["channel"], moment, moment))
        if moment < first:
            channel, first = record["channel"], moment
        expected[cid] = (channel, first, max(last, moment))
    with opened_engine(db_url) as engine, engine.connect() as connection:
        stored = {
            cid: (channel, first, last)
            for cid, channel, first, last in connection.execute(select(CONVERSATION))
        }
    assert stored == expected


@pytest.mark.postgres
def test_a_conversation_stored_meanwhile_is_merged(
    pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL copies the spans of conversations not stored yet straight into the table;
    one that another ingest stored after the look (here: a look that missed it) fails that
    copy, and every span of the write is merged instead."""
    from iso_social.store.tables import CONVERSATION

    def message(number: int, cid: str, hour: int, channel: str = "twitter") -> dict[str, Any]:
        moment = datetime(2026, 10, 1, hour, tzinfo=UTC).isoformat()
        return canonical_message(f"m{number}", moment, conversation_id=cid, channel=channel)

    load(pg_url, write_jsonl(tmp_path / "a.jsonl", [message(1, "c1", 10)]))
    monkeypatch.setattr(repository, "_stored_conversations", lambda connection, ids: set())
    later = [message(2, "c1", 8, "email"), message(3, "c1", 12), message(4, "c2", 9)]
    load(pg_url, write_jsonl(tmp_path / "b.jsonl", later))
    with opened_engine(pg_url) as engine, engine.connect() as connection:
        stored = {row[0]: tuple(row[1:]) for row in connection.execute(select(CONVERSATION))}
    day = datetime(2026, 10, 1, tzinfo=UTC)
    assert stored == {
        "c1": ("email", day.replace(hour=8), day.replace(hour=12)),
        "c2": ("twitter", day.replace(hour=9), day.replace(hour=9)),
    }


@pytest.mark.parametrize("sqlite", [True, False])
@pytest.mark.parametrize(
    "created_at",
    [
        "2026-10-01T10:00:00Z",
        "2026-10-01T10:00:00.000001+00:00",
        "0999-01-02T03:04:05.600000+00:00",
        "2026-03-29T03:30:00+02:00",
        "2026-10-01 10:00:00.123-05:30",
    ],
)
def test_a_plain_message_gives_the_row_of_its_record(created_at: str, sqlite: bool) -> None:
    """The loader's fast path (`PlainMessage`, no domain object) stores what the record's
    path stores: every column, the timestamp text and the digest included."""
    from iso_social.ingest.canonical import plain_message

    for extra in ({}, {"in_reply_to": "m0", "automated": True, "text": None}):
        data = {
            "message_id": "m1",
            "conversation_id": "c1",
            "channel": "email",
            "direction": "outbound",
            "author": "agent 7",
            "author_role": "agent",
            "visibility": "private",
            "created_at": created_at,
            "text": "hi\x1fthere",
            **extra,
        }
        plain = plain_message(data, 12)
        assert plain is not None
        fast = rows.batch_rows([plain], 7, sqlite=sqlite)
        assert fast == rows.batch_rows([plain.parsed()], 7, sqlite=sqlite)
        assert list(fast) == ["message"]


class _TextWithNul:
    """A format whose parser builds a record holding a NUL (as a CSV or an e-mail could)."""

    name, description, suffixes = "nul-text", "a record with a NUL character", (".txt",)

    def sniff(self, head: bytes) -> bool:
        return False

    def parse(self, stream, options):  # type: ignore[no-untyped-def]
        from iso_social.domain import AuthorRole, Direction, Message, Visibility
        from iso_social.ingest import ParsedRecord

        stream.read()
        for line, text in ((1, "fine"), (2, "bad\x00text")):
            yield ParsedRecord(
                line,
                Message(
                    f"other-{line}",
                    "c-other",
                    Channel.EMAIL,
                    Direction.INBOUND,
                    "a",
                    AuthorRole.CUSTOMER,
                    Visibility.PRIVATE,
                    datetime(2026, 10, 1, 10, line, tzinfo=UTC),
                    text,
                ),
            )


def test_a_nul_character_is_rejected_on_every_backend(db_url: str, tmp_path: Path) -> None:
    """PostgreSQL's text cannot hold U+0000 (psycopg refused the whole ingest with an internal
    error): such a record is rejected by its field and line, the rest stored, on both."""
    path = write_jsonl(
        tmp_path / "nul.jsonl",
        [
            canonical_message("m1", "2026-10-01T10:00:00Z"),
            canonical_message("m2", "2026-10-01T10:01:00Z", text="bad \x00 text"),
            {
                "kind": "status",
                "conversation_id": "c\x00",
                "created_at": "2026-10-01T10:02:00Z",
                "status": "open",
            },
        ],
    )
    (summary,) = load(db_url, path).files
    assert (summary.messages_stored, summary.other_stored) == (1, 0)
    assert [(r.line, r.reason.split(":")[0]) for r in summary.rejected] == [
        (2, "text"),
        (3, "conversation_id"),
    ]
    other = tmp_path / "other.txt"
    other.write_text("x", encoding="utf-8")
    with opened_engine(db_url) as engine:
        (summary,) = load_files(engine, [other], [_TextWithNul()], IngestOptions()).files
        with engine.connect() as connection:
            rejected = repository.rejections_of(connection, 2)
    assert summary.messages_stored == 1
    assert [(r.line, r.reason.split(":")[0]) for r in rejected] == [(2, "text")]
