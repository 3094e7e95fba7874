"""Large files are read by a worker process while this one stores: the same store results,
errors and rollbacks as reading them here (on SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from iso_social.domain import Window
from iso_social.errors import IngestError
from iso_social.ingest import IngestOptions, get_log_format
from iso_social.store import repository
from iso_social.store.database import opened_engine
from iso_social.store.loader import FileSummary, load_files
from iso_social.store.tables import MESSAGE
from iso_social.synthetic import synthetic_records
from tests.conftest import canonical_message, modules_loaded_by

JSONL = get_log_format("jsonl")
START = datetime(2026, 10, 1, tzinfo=UTC)
WINDOW = Window(START - timedelta(days=1), START + timedelta(days=40))


def _file(tmp_path: Path) -> Path:
    """Synthetic logs over several batches with an invalid line, a duplicate and a conflict."""
    records = list(synthetic_records(6000, seed=9, start=START))
    lines = [json.dumps(r) for r in records]
    lines.insert(100, '{"kind": "message", "message_id": "broken"')
    lines.append(json.dumps(records[5]))  # the same record again: a duplicate
    changed = canonical_message("clash", "2026-10-02T10:00:00Z", text="one")
    lines += [json.dumps(changed), json.dumps({**changed, "text": "another"})]  # a conflict
    path = tmp_path / "big.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _load(
    db: str,
    path: Path,
    *,
    worker: bool,
    strict: bool = False,
    options: IngestOptions | None = None,
) -> FileSummary:
    with opened_engine(db) as engine:
        summary = load_files(
            engine, [path], [JSONL], options or IngestOptions(), strict=strict, worker=worker
        )
    return summary.files[0]


def _stored(db: str) -> tuple[list[object], list[tuple[int, str]]]:
    with opened_engine(db) as engine, engine.connect() as connection:
        conversations = repository.conversations_in(connection, WINDOW)
        rejections = [(r.line, r.reason) for r in repository.rejections_of(connection, 1)]
    return list(conversations), rejections


def test_a_worker_stores_what_reading_here_stores(tmp_path: Path, db_url: str) -> None:
    path = _file(tmp_path)
    here_db = f"sqlite:///{tmp_path / 'here.db'}"
    here = _load(here_db, path, worker=False)
    there = _load(db_url, path, worker=True)
    assert dataclasses.asdict(there) == dataclasses.asdict(here)
    assert (there.rejected_count, there.duplicates, there.conflicts) == (2, 1, 1)
    assert there.records_read > 5000  # more than one batch crossed the pipe
    assert _stored(db_url) == _stored(here_db)
    again = _load(db_url, path, worker=True)  # everything is now a duplicate
    assert again.duplicates == again.records_read - again.rejected_count  # the clash again


def test_errors_in_the_worker_name_the_line_and_store_nothing(tmp_path: Path, db_url: str) -> None:
    path = _file(tmp_path)
    with pytest.raises(IngestError) as raised:
        _load(db_url, path, worker=True, strict=True)
    assert raised.value.line == 101 and raised.value.path == path
    assert "--strict" in (raised.value.hint or "")
    with opened_engine(db_url) as engine, engine.connect() as connection:
        assert connection.execute(MESSAGE.select().limit(1)).first() is None
    with pytest.raises(IngestError, match="cannot read the file"):
        _load(db_url, tmp_path / "missing.jsonl", worker=True)


def test_a_failure_storing_stops_the_worker_and_rolls_back(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    path, calls = _file(tmp_path), []
    original = repository.store_rows

    def failing(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("simulated crash in the second batch")
        return original(*args, **kwargs)

    monkeypatch.setattr(repository, "store_rows", failing)
    monkeypatch.setattr(repository, "rows_per_store", lambda connection: 1)  # batch by batch
    with pytest.raises(RuntimeError, match="simulated crash"):
        _load(db_url, path, worker=True)
    with opened_engine(db_url) as engine, engine.connect() as connection:
        assert connection.execute(MESSAGE.select().limit(1)).first() is None


def test_a_worker_that_dies_midway_fails_the_load_and_stores_nothing(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The batches read ahead of storing are not taken for the whole file: the end of the
    pipe without the worker's last word is an error, and the load rolls back."""
    import multiprocessing

    records = synthetic_records(60_000, seed=3, start=START)  # more batches than read ahead
    path = tmp_path / "long.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    original, stored = repository.store_rows, []

    def killing(*args, **kwargs):  # type: ignore[no-untyped-def]
        stored.append(1)
        if len(stored) == 2:
            for child in multiprocessing.active_children():
                child.kill()
        return original(*args, **kwargs)

    monkeypatch.setattr(repository, "store_rows", killing)
    with pytest.raises(IngestError, match="stopped unexpectedly") as raised:
        _load(db_url, path, worker=True)
    assert raised.value.path == path
    assert 2 <= len(stored) < 60_000 // 5_000  # it stopped before the file's end
    with opened_engine(db_url) as engine, engine.connect() as connection:
        assert connection.execute(MESSAGE.select().limit(1)).first() is None


def test_rows_gathered_for_fewer_stores_store_what_each_batch_stores(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows of a kind gathered over batches (as on PostgreSQL, where each COPY costs round
    trips) are stored with the same summary, duplicates, conflicts and rejections."""
    path = _file(tmp_path)
    each_db = f"sqlite:///{tmp_path / 'each.db'}"
    each = _load(each_db, path, worker=False)
    original, sizes = repository.store_rows, []

    def spying(connection, ingest_id, rows, spans=None):  # type: ignore[no-untyped-def]
        sizes.append({kind: len(part) for kind, part in rows.items()})
        return original(connection, ingest_id, rows, spans)

    monkeypatch.setattr(repository, "rows_per_store", lambda connection: 700)
    monkeypatch.setattr(repository, "store_rows", spying)
    gathered = _load(db_url, path, worker=True)
    assert dataclasses.asdict(gathered) == dataclasses.asdict(each)
    assert _stored(db_url) == _stored(each_db)
    gathering = sizes[:-1]  # the last: what the end of the file left gathered
    assert gathering and all(n >= 700 for stored in gathering for n in stored.values())
    assert sum(n for stored in sizes for n in stored.values()) == each.records_read - 1


def test_the_worker_loads_no_database_library() -> None:
    """The worker is a fresh interpreter: what it imports delays its first batch (SQLAlchemy
    and the store's tables took 0.3 s of its 0.5 s start). This guards the cause."""
    modules = modules_loaded_by("iso_social.store.reading")
    assert "iso_social.store.reading" in modules
    assert {"sqlalchemy", "sqlmodel", "psycopg"}.isdisjoint(modules)


def test_options_reach_the_worker(tmp_path: Path, sqlite_url: str) -> None:
    """Pseudonyms are made in the worker with the key the command was given."""
    path, options = _file(tmp_path), IngestOptions(pseudonym_key=b"k" * 32)
    here_db = f"sqlite:///{tmp_path / 'here.db'}"
    _load(here_db, path, worker=False, options=options)
    _load(sqlite_url, path, worker=True, options=options)
    assert _stored(sqlite_url) == _stored(here_db)
    conversations, _ = _stored(sqlite_url)
    customers = {
        m.author
        for c in conversations
        for m in c.messages  # type: ignore[attr-defined]
        if m.author_role.value == "customer"
    }
    assert customers and all(author.startswith("p-") for author in customers)


def test_without_a_second_process_the_file_is_read_here(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import multiprocessing.process

    def refused(self: object) -> None:
        raise OSError("Resource temporarily unavailable")

    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", refused)
    summary = _load(sqlite_url, _file(tmp_path), worker=True)
    assert summary.messages_stored > 5000 and summary.conflicts == 1


class _RecordsOnly:
    """JSON Lines without `parse_plain`: every message goes through its domain record."""

    name, description, suffixes = "jsonl-records", "JSON Lines, record by record", (".jsonl",)

    def sniff(self, head: bytes) -> bool:
        return JSONL.sniff(head)

    def parse(self, stream, options):  # type: ignore[no-untyped-def]
        return JSONL.parse(stream, options)


def _digests(db: str) -> list[tuple[str, str, int]]:
    with opened_engine(db) as engine, engine.connect() as connection:
        rows = connection.execute(
            MESSAGE.select().with_only_columns(
                MESSAGE.c.message_id, MESSAGE.c.digest, MESSAGE.c.source_line
            )
        )
        return sorted(tuple(row) for row in rows)


def test_plain_messages_store_what_their_records_store(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast path for documented messages (`parse_plain`, rows without domain objects)
    stores the same rows, summary and rejections as reading every record."""
    path = _file(tmp_path)
    records_db = f"sqlite:///{tmp_path / 'records.db'}"
    with opened_engine(records_db) as engine:
        (by_record,) = load_files(
            engine, [path], [_RecordsOnly()], IngestOptions(), worker=False
        ).files
    monkeypatch.setattr(type(JSONL), "parse", None)  # the fast path must not need it
    plain = _load(db_url, path, worker=False)
    assert dataclasses.asdict(plain) == {**dataclasses.asdict(by_record), "format": "jsonl"}
    assert _stored(db_url) == _stored(records_db)
    assert _digests(db_url) == _digests(records_db)
    assert len(_digests(db_url)) > 5000
