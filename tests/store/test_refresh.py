"""`refresh_conversations` and `refresh_calls` read only what changed, and give what a fresh
read gives.

Logs arrive in batches (some late, with old timestamps), or all at once ahead of a window that
slides day by day; a retention purge blanks content in between. After each step the refreshed
conversations and calls must equal `conversations_in` and `calls_in` of the same window, and
most of them must be the objects kept from the previous read (not read again).
"""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, update

from iso_social import pipeline
from iso_social.domain import Window
from iso_social.evidence.retention import purge_content
from iso_social.store import repository
from iso_social.store.database import opened_engine
from iso_social.store.repository import WindowCalls, WindowConversations
from iso_social.store.tables import CALL, PURGED_AUTHOR
from iso_social.synthetic import synthetic_records

START = datetime(2026, 10, 1, tzinfo=UTC)
SPAN = timedelta(days=4)


def _moment(record: dict[str, object]) -> datetime:
    text = str(record.get("created_at") or record.get("offered_at"))
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _write(path: Path, records: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _refresh_and_compare(
    db_url: str, window: Window, loaded: WindowConversations | None
) -> tuple[WindowConversations, int]:
    """Refresh, compare with a fresh read, and count the conversations kept as they were."""
    before = dict(loaded.by_id) if loaded is not None else {}
    with opened_engine(db_url) as engine, engine.connect() as connection:
        refreshed = repository.refresh_conversations(connection, window, loaded)
        fresh = repository.conversations_in(connection, window)
    assert refreshed.ordered() == fresh
    kept = sum(before.get(c.conversation_id) is c for c in refreshed.ordered())
    return refreshed, kept


def _refresh_calls_and_compare(
    db_url: str, window: Window, loaded: WindowCalls | None
) -> tuple[WindowCalls, int]:
    """`_refresh_and_compare` for the calls."""
    before = {c.call_id: c for c in loaded.calls} if loaded is not None else {}
    with opened_engine(db_url) as engine, engine.connect() as connection:
        refreshed = repository.refresh_calls(connection, window, loaded)
        fresh = repository.calls_in(connection, window)
    assert refreshed.calls == fresh
    return refreshed, sum(before.get(c.call_id) is c for c in refreshed.calls)


def test_batches_arriving_late_and_a_sliding_window(tmp_path: Path, db_url: str) -> None:
    rng = random.Random(5)
    records = list(synthetic_records(1500, seed=5, start=START, days=10))
    cuts = [START + timedelta(days=d) for d in (3, 4, 5, 6, 8, 10)]
    groups: list[list[dict[str, object]]] = [[] for _ in cuts]
    for record in records:
        index = next((i for i, cut in enumerate(cuts) if _moment(record) < cut), len(cuts) - 1)
        if rng.random() < 0.05:
            index = min(index + 1, len(cuts) - 1)  # a late export: old times, new arrival
        groups[index].append(record)
    loaded, kept_later = None, 0
    calls: WindowCalls | None = None
    calls_kept = 0
    for n, (cut, group) in enumerate(zip(cuts, groups, strict=True)):
        pipeline.ingest_logs([_write(tmp_path / f"batch-{n}.jsonl", group)], db=db_url)
        loaded, kept = _refresh_and_compare(db_url, Window(cut - SPAN, cut), loaded)
        kept_later += kept if n else 0
        calls, kept = _refresh_calls_and_compare(db_url, Window(cut - SPAN, cut), calls)
        calls_kept += kept
    assert kept_later > 0  # later refreshes kept conversations instead of reading them again
    assert calls_kept > 0 and calls is not None and calls.calls


def test_everything_ingested_ahead_of_a_window_sliding_day_by_day(
    tmp_path: Path, db_url: str
) -> None:
    records = list(synthetic_records(1200, seed=9, start=START, days=12))
    pipeline.ingest_logs([_write(tmp_path / "all.jsonl", records)], db=db_url)
    loaded, kept_total = None, 0
    calls: WindowCalls | None = None
    calls_kept = 0
    for day in range(4, 12):
        end = START + timedelta(days=day, hours=7)
        loaded, kept = _refresh_and_compare(db_url, Window(end - SPAN, end), loaded)
        kept_total += kept
        calls, kept = _refresh_calls_and_compare(db_url, Window(end - SPAN, end), calls)
        calls_kept += kept
    assert kept_total > 0 and calls_kept > 0


def test_records_arriving_outside_a_window_that_stays_are_left_out(
    tmp_path: Path, db_url: str
) -> None:
    """A later ingest brings only records from before the window's start and after its end:
    the refreshed window holds none of them, as a fresh read does not."""
    records = list(synthetic_records(1200, seed=11, start=START, days=6))
    window = Window(START + timedelta(days=2), START + timedelta(days=4))
    inside = [r for r in records if window.start <= _moment(r) < window.end]
    outside = [r for r in records if not window.start <= _moment(r) < window.end]
    assert any("offered_at" in r for r in outside)  # calls on both sides of the window
    pipeline.ingest_logs([_write(tmp_path / "inside.jsonl", inside)], db=db_url)
    loaded, _ = _refresh_and_compare(db_url, window, None)
    calls, _ = _refresh_calls_and_compare(db_url, window, None)
    pipeline.ingest_logs([_write(tmp_path / "outside.jsonl", outside)], db=db_url)
    _refresh_and_compare(db_url, window, loaded)
    refreshed, kept = _refresh_calls_and_compare(db_url, window, calls)
    assert kept == len(refreshed.calls) > 0  # none of the arrivals is the window's


def test_calls_read_again_that_the_last_read_held_are_not_held_twice(
    tmp_path: Path, db_url: str
) -> None:
    """An ingest that committed between reading the store's marks and reading the calls left
    its calls in the last read though its id is newer than the read's: the next refresh reads
    them again as arrived, with new calls on either side of them, and holds each once."""
    records = list(synthetic_records(900, seed=4, start=START, days=6))
    window = Window(START, START + timedelta(days=6))
    calls_of = [r for r in records if "offered_at" in r]
    assert len(calls_of) > 6
    early, late = calls_of[: len(calls_of) // 2], calls_of[len(calls_of) // 2 :]
    pipeline.ingest_logs([_write(tmp_path / "first.jsonl", early[::2])], db=db_url)
    pipeline.ingest_logs([_write(tmp_path / "raced.jsonl", early[1::2])], db=db_url)
    calls, _ = _refresh_calls_and_compare(db_url, window, None)
    raced = replace(calls, ingest=calls.ingest - 1)  # as if read before "raced" committed
    pipeline.ingest_logs([_write(tmp_path / "later.jsonl", late)], db=db_url)
    refreshed, kept = _refresh_calls_and_compare(db_url, window, raced)
    assert kept == len(calls.calls) and len(refreshed.calls) > kept


def test_a_purge_or_a_window_moving_back_reads_everything_again(
    tmp_path: Path, db_url: str
) -> None:
    records = list(synthetic_records(600, seed=2, start=START, days=8))
    pipeline.ingest_logs([_write(tmp_path / "all.jsonl", records)], db=db_url)
    window = Window(START, START + timedelta(days=8))
    loaded, _ = _refresh_and_compare(db_url, window, None)
    calls, _ = _refresh_calls_and_compare(db_url, window, None)
    calls, kept = _refresh_calls_and_compare(db_url, window, calls)
    assert kept == len(calls.calls) > 0  # nothing new: all kept
    with opened_engine(db_url) as engine:
        result = purge_content(engine, START + timedelta(days=3))
    assert result.messages > 0 and result.calls > 0
    loaded, kept = _refresh_and_compare(db_url, window, loaded)
    assert kept == 0  # the purge blanked texts without an ingest: nothing kept is trusted
    calls, kept = _refresh_calls_and_compare(db_url, window, calls)
    assert kept == 0  # nor calls, whose customers it blanked
    earlier = Window(START - timedelta(days=1), START + timedelta(days=7))
    _, kept = _refresh_and_compare(db_url, earlier, loaded)
    assert kept == 0
    _, kept = _refresh_calls_and_compare(db_url, earlier, calls)
    assert kept == 0


def test_a_purge_reaching_calls_alone_reads_them_again(tmp_path: Path, db_url: str) -> None:
    """Calls may reach their retention before any conversation does: the newest purge of
    either is what a kept read is compared with."""
    records = list(synthetic_records(600, seed=2, start=START, days=8))
    pipeline.ingest_logs([_write(tmp_path / "all.jsonl", records)], db=db_url)
    window = Window(START, START + timedelta(days=8))
    calls, _ = _refresh_calls_and_compare(db_url, window, None)
    first = calls.calls[0].call_id
    with opened_engine(db_url) as engine, engine.begin() as connection:
        connection.execute(
            update(CALL)
            .where(CALL.c.call_id == first)
            .values(customer=PURGED_AUTHOR, purged_at=datetime.now(UTC))
        )
    calls, kept = _refresh_calls_and_compare(db_url, window, calls)
    assert kept == 0
    assert calls.calls[0].customer == PURGED_AUTHOR


def test_a_refresh_with_nothing_new_reads_no_call(tmp_path: Path, db_url: str) -> None:
    """Nothing arrived and nothing was purged: the refresh reads the store's marks alone (the
    ingests and the newest purge, by its partial index), never the call table, which once
    counted its purged calls at every check."""
    records = list(synthetic_records(300, seed=3, start=START, days=4))
    pipeline.ingest_logs([_write(tmp_path / "all.jsonl", records)], db=db_url)
    window = Window(START, START + timedelta(days=4))
    statements: list[str] = []
    with opened_engine(db_url) as engine, engine.connect() as connection:
        calls = repository.refresh_calls(connection, window, None)
        event.listen(
            engine,
            "before_cursor_execute",
            lambda _c, _u, statement, *_: statements.append(statement),
        )
        again = repository.refresh_calls(connection, window, calls)
    assert again.calls is calls.calls
    assert statements and not [s for s in statements if "count(" in s.lower()]
    assert all("FROM call " not in s or "purged_at IS NOT NULL" in s for s in statements)


def test_a_status_after_the_last_message_enters_when_the_window_end_passes_it(
    tmp_path: Path, db_url: str
) -> None:
    """Statuses and escalations are not part of a conversation's activity span: the refresh
    finds those the previous window's end left out by their own time."""
    base = {"conversation_id": "c1", "channel": "email", "visibility": "private"}
    records: list[dict[str, object]] = [
        {
            **base,
            "kind": "message",
            "message_id": "m1",
            "direction": "inbound",
            "author": "customer@example.com",
            "author_role": "customer",
            "created_at": "2026-10-01T10:00:00Z",
            "text": "hello",
        },
        {
            "kind": "status",
            "conversation_id": "c1",
            "created_at": "2026-10-03T10:00:00Z",
            "status": "resolved",
        },
        {
            "kind": "escalation",
            "conversation_id": "c1",
            "created_at": "2026-10-03T11:00:00Z",
            "to": "supervisor",
        },
    ]
    pipeline.ingest_logs([_write(tmp_path / "c1.jsonl", records)], db=db_url)
    loaded, _ = _refresh_and_compare(db_url, Window(START, START + timedelta(days=2)), None)
    loaded, _ = _refresh_and_compare(db_url, Window(START, START + timedelta(days=4)), loaded)
    (conversation,) = loaded.ordered()
    assert len(conversation.statuses) == 1 and len(conversation.escalations) == 1


def test_conversations_kept_from_another_database_are_not_reused(tmp_path: Path) -> None:
    first, second = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    for url, seed in ((first, 1), (second, 2)):
        records = list(synthetic_records(200, seed=seed, start=START, days=4))
        pipeline.ingest_logs([_write(tmp_path / f"{seed}.jsonl", records)], db=url)
    window = Window(START, START + SPAN)
    loaded, _ = _refresh_and_compare(first, window, None)
    _, kept = _refresh_and_compare(second, window, loaded)
    assert kept == 0


def test_a_failed_refresh_leaves_what_was_kept_as_it_was(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = list(synthetic_records(400, seed=4, start=START, days=6))
    early = [r for r in records if _moment(r) < START + timedelta(days=3)]
    late = [r for r in records if _moment(r) >= START + timedelta(days=3)]
    pipeline.ingest_logs([_write(tmp_path / "early.jsonl", early)], db=sqlite_url)
    window = Window(START, START + timedelta(days=6))
    loaded, _ = _refresh_and_compare(sqlite_url, window, None)
    kept = dict(loaded.by_id)
    pipeline.ingest_logs([_write(tmp_path / "late.jsonl", late)], db=sqlite_url)

    def broken(*args: object, **kwargs: object) -> list[object]:
        raise RuntimeError("the database went away")

    with monkeypatch.context() as patch:
        patch.setattr(repository, "conversations_in", broken)
        with (
            pytest.raises(RuntimeError),
            opened_engine(sqlite_url) as engine,
            engine.connect() as connection,
        ):
            repository.refresh_conversations(connection, window, loaded)
    assert loaded.by_id == kept
    _refresh_and_compare(sqlite_url, window, loaded)
