"""What the text scanners found, kept in the store between checks (`store.scans`), on SQLite
and PostgreSQL: a repeated check (in one process or split among workers) reads it instead of
the text and gives the same findings; a new message makes its conversation scanned again; a
retention purge deletes what was kept of the conversations it blanks."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select, update

from iso_social import pipeline
from iso_social._version import __version__
from iso_social.check import IncrementalState, evaluate_policy
from iso_social.config import resource_dir
from iso_social.controls.base import Scanner, Scans
from iso_social.domain import Channel, Conversation, Window
from iso_social.evidence.retention import purge_content
from iso_social.policy import load_policies
from iso_social.store import repository
from iso_social.store.database import create_schema, opened_engine, transaction
from iso_social.store.scans import keep_scans, kept_scans
from iso_social.store.tables import CONVERSATION, MESSAGE, SCAN_RESULT
from iso_social.synthetic import synthetic_records
from tests.conftest import canonical_message, write_jsonl

START = datetime(2026, 10, 1, tzinfo=UTC)
END = START + timedelta(days=31)
POLICIES = load_policies([resource_dir("policies")])


def _ingest(tmp_path: Path, db: str) -> None:
    records = list(synthetic_records(1200, seed=5, start=START))
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    pipeline.ingest_logs([path], db=db)


def _controls(run: Any) -> list[dict[str, Any]]:
    return run.document["controls"]  # type: ignore[no-any-return]


def _rows(db: str) -> dict[tuple[str, str], tuple[str, str | None]]:
    scan = SCAN_RESULT
    with opened_engine(db) as engine, engine.connect() as connection:
        query = select(scan.c.conversation_id, scan.c.scanner, scan.c.fingerprint, scan.c.found)
        return {(r[0], r[1]): (r[2], r[3]) for r in connection.execute(query)}


def _plant(db: str, cid: str, scanner: str) -> None:
    """A kept row saying a card was found in the conversation's first public message."""
    with opened_engine(db) as engine, transaction(engine) as connection:
        mid = connection.execute(
            select(MESSAGE.c.message_id)
            .where(MESSAGE.c.conversation_id == cid, MESSAGE.c.visibility == "public")
            .order_by(MESSAGE.c.created_at)
            .limit(1)
        ).scalar_one()
        connection.execute(
            update(SCAN_RESULT)
            .where(SCAN_RESULT.c.conversation_id == cid, SCAN_RESULT.c.scanner == scanner)
            .values(found=json.dumps({mid: ["card:card ••••0000"]}))
        )


def _exposure(controls: list[dict[str, Any]]) -> dict[str, Any]:
    return next(c for c in controls if c["type"] == "sensitive_data_exposure")


def test_kept_rows_are_read_by_conversation_and_replaced(db_url: str) -> None:
    """The rows of the window's conversations (more than a chunk of ids), not of the others;
    a row written again replaces the kept one (on PostgreSQL through the staging table, once
    the straight `COPY` meets it)."""
    with opened_engine(db_url) as engine:
        create_schema(engine)
        ids = [f"c{i:04d}" for i in range(2000)]
        before = START - timedelta(days=20)
        with transaction(engine) as connection:
            connection.execute(
                insert(CONVERSATION),
                [
                    {
                        "conversation_id": cid,
                        "channel": "twitter",
                        "first_activity_at": START if n < 1500 else before,
                        "last_activity_at": START if n < 1500 else before,
                    }
                    for n, cid in enumerate(ids)
                ],
            )
            written = keep_scans(
                connection,
                [("s/1/a", cid, "1 5 m", None) for cid in ids]
                + [("s/1/b", "c0001", "1 5 m", '{"m":["x"]}')]
                + [("s/1/a", "c0002", "2 9 n", '{"n":["y"]}')],  # the same key again: once
            )
        assert written == 2001
        read = [Conversation(cid, Channel.TWITTER, ()) for cid in ids[:1500]]
        with engine.connect() as connection:
            kept = kept_scans(connection, ["s/1/a", "s/1/b", "s/1/c"], read, Window(START, END))
        assert len(kept["s/1/a"]) == 1500 and kept["s/1/c"] == {}
        assert kept["s/1/a"]["c0002"] == ("2 9 n", '{"n":["y"]}')
        assert kept["s/1/b"] == {"c0001": ("1 5 m", '{"m":["x"]}')}
        with transaction(engine) as connection:
            keep_scans(connection, [("s/1/a", "c0002", "3 12 o", None)])
        with engine.connect() as connection:
            again = kept_scans(connection, ["s/1/a"], read[2:3], Window(START, END))
        assert again["s/1/a"]["c0002"] == ("3 12 o", None)


@pytest.mark.parametrize(
    "workers",
    [
        1,
        pytest.param(
            2,
            marks=pytest.mark.skipif(
                sys.platform != "linux", reason="a split check forks workers (Linux)"
            ),
        ),
    ],
)
def test_a_repeated_check_reads_what_the_first_kept(
    tmp_path: Path, db_url: str, workers: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ingest(tmp_path, db_url)
    first = pipeline.run_check(POLICIES, db=db_url, start=START, end=END, workers=workers)
    rows = _rows(db_url)
    scanners = {scanner for _, scanner in rows}
    assert {s.split("/")[0] for s in scanners} == {
        "sensitive_data_exposure",
        "public_to_private_handoff",
    }
    assert any(found is not None for _, found in rows.values())
    assert all(found is None or json.loads(found) for _, found in rows.values())

    if workers == 1:  # in this process: no kept scanner reads a text again
        read: list[str] = []
        scan = Scanner.scan

        def counted(self: Scanner, conversation: Any) -> Any:
            if self.keep:
                read.append(conversation.conversation_id)
            return scan(self, conversation)

        monkeypatch.setattr(Scanner, "scan", counted)
    again = pipeline.run_check(POLICIES, db=db_url, start=START, end=END, workers=workers)
    assert _controls(again) == _controls(first)
    assert _rows(db_url) == rows
    if workers == 1:
        assert read == []

    # a row planted where no card was: the check counts it (it read the row, not the text)
    cid, scanner = next(
        (c, s) for (c, s), (_, found) in rows.items() if s.startswith("sensitive") and found is None
    )
    _plant(db_url, cid, scanner)
    planted = pipeline.run_check(POLICIES, db=db_url, start=START, end=END, workers=workers)
    exposure, before = _exposure(_controls(planted)), _exposure(_controls(first))
    assert exposure["nonconforming"] == before["nonconforming"] + 1

    # a new message in that conversation: scanned again, the planted row replaced
    log = write_jsonl(
        tmp_path / "more.jsonl",
        [canonical_message("late-1", "2026-10-20T10:00:00Z", conversation_id=cid, text="ok")],
    )
    pipeline.ingest_logs([log], db=db_url)
    later = pipeline.run_check(POLICIES, db=db_url, start=START, end=END, workers=workers)
    exposure = _exposure(_controls(later))
    assert exposure["nonconforming"] == before["nonconforming"]
    fingerprint, found = _rows(db_url)[cid, scanner]
    assert found is None and fingerprint != rows[cid, scanner][0]

    # `check --rescan`: the texts read again, a planted row neither counted nor kept
    _plant(db_url, cid, scanner)
    again = pipeline.run_check(
        POLICIES, db=db_url, start=START, end=END, workers=workers, rescan=True
    )
    assert _exposure(_controls(again))["nonconforming"] == before["nonconforming"]
    assert _rows(db_url)[cid, scanner] == (fingerprint, None)


def test_a_schedulers_first_check_reads_what_was_kept(tmp_path: Path, db_url: str) -> None:
    """A scheduler's first check reads what an earlier check kept (a row planted where no
    card was is counted); its later checks scan only what changed."""
    _ingest(tmp_path, db_url)
    first = pipeline.run_check(POLICIES, db=db_url, start=START, end=END)
    cid, scanner = next(
        (c, s)
        for (c, s), (_, found) in _rows(db_url).items()
        if s.startswith("sensitive") and found is None
    )
    _plant(db_url, cid, scanner)
    state = IncrementalState()
    before = _exposure(_controls(first))["nonconforming"]
    for _ in range(2):
        run, _ = pipeline.run_check_with_findings(
            POLICIES, db=db_url, start=START, end=END, state=state
        )
        assert _exposure(_controls(run))["nonconforming"] == before + 1


def test_a_purge_deletes_what_was_kept_of_the_conversations_it_blanks(
    tmp_path: Path, db_url: str
) -> None:
    _ingest(tmp_path, db_url)
    pipeline.run_check(POLICIES, db=db_url, start=START, end=END)
    rows = _rows(db_url)
    assert all(f"/{__version__}/" in scanner for _, scanner in rows)
    cutoff = START + timedelta(days=10)
    with opened_engine(db_url) as engine, transaction(engine) as connection:
        recent = connection.execute(  # a conversation the purge keeps
            select(func.min(CONVERSATION.c.conversation_id)).where(
                CONVERSATION.c.last_activity_at >= cutoff
            )
        ).scalar_one()
        # what another version of iso-social kept (an upgrade changes every key)
        keep_scans(connection, [("sensitive_data_exposure/1/0.0.9/abc", recent, "1 2 x", None)])
    with opened_engine(db_url) as engine:
        result = purge_content(engine, cutoff)
        assert result.conversations > 0
        with engine.connect() as connection:
            old = connection.execute(
                select(func.count())
                .select_from(SCAN_RESULT)
                .where(
                    SCAN_RESULT.c.conversation_id.in_(
                        select(CONVERSATION.c.conversation_id).where(
                            CONVERSATION.c.last_activity_at < cutoff
                        )
                    )
                )
            ).scalar_one()
    assert old == 0
    after = _rows(db_url)
    assert 0 < len(after) < len(rows)
    assert (recent, "sensitive_data_exposure/1/0.0.9/abc") not in after
    assert all(f"/{__version__}/" in scanner for _, scanner in after)


@pytest.mark.skipif(sys.platform != "linux", reason="forks worker processes (Linux)")
def test_controls_shared_among_processes_note_what_one_process_notes(
    tmp_path: Path, sqlite_url: str
) -> None:
    """Whole controls shared among forked workers (`workers=N` where a check is not split by
    conversation): the workers' new findings come back to this process, as one process notes
    them, and the findings are the same."""
    _ingest(tmp_path, sqlite_url)
    window = Window(START, END)
    with opened_engine(sqlite_url) as engine, engine.connect() as connection:
        conversations = repository.conversations_in(connection, window)
        calls = repository.calls_in(connection, window)
    alone, shared = Scans({}), Scans({})
    expected = evaluate_policy(POLICIES, window, conversations, calls, scans=alone)
    assert evaluate_policy(POLICIES, window, conversations, calls, workers=2, scans=shared) == (
        expected
    )
    assert alone.new and sorted(set(shared.new)) == sorted(alone.new)
