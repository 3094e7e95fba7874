"""A check split among processes by conversation (`check.evaluate_split`): each worker reads
and counts a run of the window's conversations, and the joined findings are those of one
process, on SQLite and PostgreSQL."""

from __future__ import annotations

import concurrent.futures
import itertools
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from iso_social import check, pipeline
from iso_social.config import resource_dir
from iso_social.domain import Window
from iso_social.policy import load_policies
from iso_social.store import repository
from iso_social.store.database import opened_engine
from iso_social.synthetic import synthetic_records
from tests.conftest import canonical_message

START = datetime(2026, 10, 1, tzinfo=UTC)
END = START + timedelta(days=31)
# ids whose order differs between collations: PostgreSQL's default may put "alpha" before
# "Zeta" and "émile" next to "emile"; the runs must follow Python's (code point) order
ODD_IDS = ("Zeta", "alpha", "emile", "Émile", "émile", "_x", "~tilde", "日本")


def _ingest(tmp_path: Path, db: str) -> None:
    records: list[dict[str, Any]] = list(synthetic_records(1500, seed=4, start=START))
    for number, cid in enumerate(ODD_IDS):
        at = START + timedelta(days=2, minutes=number)
        records.append(
            canonical_message(
                f"odd-{number}", at.isoformat(), conversation_id=cid, author=f"@odd{number % 3}"
            )
        )
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    pipeline.ingest_logs([path], db=db)


@pytest.mark.parametrize("parts", [1, 2, 3, 7])
def test_the_runs_of_a_split_cover_the_window_once_in_order(
    tmp_path: Path, db_url: str, parts: int
) -> None:
    _ingest(tmp_path, db_url)
    window = Window(START, END)
    with opened_engine(db_url) as engine, engine.connect() as connection:
        whole = repository.conversations_in(connection, window)
        cuts = repository.conversation_split(connection, window, parts)
        bounds: list[str | None] = [None, *cuts, None]
        joined = [
            conversation
            for low, high in itertools.pairwise(bounds)
            for conversation in repository.conversations_in(connection, window, between=(low, high))
        ]
    assert len(cuts) == parts - 1
    assert [c.conversation_id for c in joined] == [c.conversation_id for c in whole]
    assert joined == whole
    assert {"alpha", "Zeta", "Émile", "日本"} <= {c.conversation_id for c in whole}


@pytest.mark.skipif(sys.platform != "linux", reason="splitting forks worker processes (Linux)")
def test_a_check_split_by_conversation_gives_what_one_process_gives(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every shipped control (per conversation, `repeat_contact` by contacts, the phone
    control over calls) gives the one-process finding with two and three workers; this
    process never reads the window's conversations; a killed worker or a platform that
    cannot fork leaves the check to the other ways, with the same findings."""
    _ingest(tmp_path, db_url)
    policies = load_policies([resource_dir("policies")])
    _, alone = pipeline.run_check_with_findings(policies, db=db_url, start=START, end=END)
    assert sum(f.outcome.population for f in alone) > 1000
    assert {f.control_type for f in alone if f.outcome.population} >= {
        "repeat_contact",
        "phone_service_level",
        "first_response_time",
    }
    assert check.splits([c for p in policies for c in p.controls])

    whole_reads: list[object] = []  # this process's reads of the whole window
    real_read = repository.conversations_in

    def read(connection: Any, window: Any, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("between", (None, None)) == (None, None) and not args:
            whole_reads.append(window)
        return real_read(connection, window, *args, **kwargs)

    monkeypatch.setattr(repository, "conversations_in", read)
    for workers in (2, 3):
        _, split = pipeline.run_check_with_findings(
            policies, db=db_url, start=START, end=END, workers=workers
        )
        assert split == alone
    assert not whole_reads  # the workers read their runs (their appends stay in them)

    parent = os.getpid()
    real_run = pipeline._read_run

    def killed(*args: Any) -> Any:  # a worker dies as the OOM killer does it
        if os.getpid() != parent:
            os._exit(9)
        return real_run(*args)

    monkeypatch.setattr(pipeline, "_read_run", killed)
    _, fallback = pipeline.run_check_with_findings(
        policies, db=db_url, start=START, end=END, workers=2
    )
    assert fallback == alone
    assert whole_reads  # read here once the split failed
    monkeypatch.setattr(check, "_can_fork", lambda: False)
    _, unforked = pipeline.run_check_with_findings(
        policies, db=db_url, start=START, end=END, workers=2
    )
    assert unforked == alone


def test_a_type_that_needs_every_conversation_is_not_split() -> None:
    """A control type that is neither counted per conversation, by contacts, nor over calls
    alone (a plug-in's, say) keeps the check from being split."""
    from iso_social.controls import control_types

    policies = load_policies([resource_dir("policies")])
    controls = [c for p in policies for c in p.controls]
    assert check.splits(controls)

    class Whole:
        type_name = "whole"

        def evaluate(self, data: Any, params: Any) -> Any:  # pragma: no cover
            raise AssertionError

    types = {**control_types(), "repeat_contact": Whole()}
    original = check.control_types
    try:
        check.control_types = lambda: types  # type: ignore[assignment]
        assert not check.splits(controls)
    finally:
        check.control_types = original  # type: ignore[assignment]


@pytest.mark.postgres
def test_runs_follow_pythons_order_whatever_the_columns_collation(
    tmp_path: Path, pg_url: str
) -> None:
    """With ids collated by ICU's English rules ("alpha" before "Zeta"), the runs still cut
    and cover the window in code point order, as `conversations_in` and Python sort."""
    from sqlalchemy import text

    _ingest(tmp_path, pg_url)
    window = Window(START, END)
    with opened_engine(pg_url) as engine:
        with engine.begin() as connection:
            for table in ("conversation", "message", "status_change", "escalation"):
                connection.execute(
                    text(
                        f"ALTER TABLE {table} ALTER COLUMN conversation_id "
                        'TYPE VARCHAR COLLATE "en-x-icu"'
                    )
                )
            assert connection.execute(text("SELECT 'alpha' < 'Zeta' COLLATE \"en-x-icu\"")).scalar()
        with engine.connect() as connection:
            whole = [c.conversation_id for c in repository.conversations_in(connection, window)]
            for parts in (2, 5, 9):
                bounds = [None, *repository.conversation_split(connection, window, parts), None]
                joined = [
                    conversation.conversation_id
                    for low, high in itertools.pairwise(bounds)
                    for conversation in repository.conversations_in(
                        connection, window, between=(low, high)
                    )
                ]
                assert joined == whole == sorted(whole)


@pytest.mark.skipif(sys.platform != "linux", reason="splitting forks worker processes (Linux)")
def test_workers_zero_splits_a_large_window_among_the_cores_only(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`check_workers = 0` (the default): one process for a window under
    `AUTOMATIC_SPLIT_FROM` conversations, or with one core, or whose controls cannot be
    split; one process a core (here two) from there on; the same findings every way."""
    from iso_social.config import Settings

    assert Settings().check_workers == 0
    _ingest(tmp_path, sqlite_url)
    policies = load_policies([resource_dir("policies")])
    _, alone = pipeline.run_check_with_findings(policies, db=sqlite_url, start=START, end=END)
    cuts: list[int] = []
    real_split = repository.conversation_split

    def split(connection: Any, window: Any, parts: int, *rest: Any) -> Any:
        cuts.append(parts)
        return real_split(connection, window, parts, *rest)

    monkeypatch.setattr(repository, "conversation_split", split)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    pools: list[int] = []  # worker processes of each split

    class Pool(concurrent.futures.ProcessPoolExecutor):
        def __init__(self, max_workers: int, **options: Any) -> None:
            pools.append(max_workers)
            super().__init__(max_workers, **options)

    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", Pool)

    def automatic() -> Any:
        return pipeline.run_check_with_findings(
            policies, db=sqlite_url, start=START, end=END, workers=0
        )[1]

    assert automatic() == alone and cuts == []  # a small window: one process
    monkeypatch.setattr(pipeline, "AUTOMATIC_SPLIT_FROM", 100)
    runs = 2 * pipeline.RUNS_PER_PROCESS
    assert automatic() == alone and cuts == [runs]  # runs for two processes (cores)
    assert pools == [2]
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0}, raising=False)
    assert automatic() == alone and cuts == [runs]  # one core: not split
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    monkeypatch.setattr(check, "splits", lambda controls: False)
    monkeypatch.setattr(pipeline, "splits", lambda controls: False)
    forked: list[int] = []
    monkeypatch.setattr(check, "_in_processes", lambda *args: forked.append(1))
    assert automatic() == alone and cuts == [runs] and not forked  # no split: one process
    assert pools == [2]
