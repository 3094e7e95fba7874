"""Crash safety: an ingest or a check killed with SIGKILL at random points leaves the database as
it was. A re-run then stores exactly the file's records once (no partial batch), and the
evidence chain still verifies with every recorded run complete.

The kill points are random on purpose (each run of the suite probes other moments); they are
printed in the assertion messages so a failure can be replayed.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from iso_social import pipeline
from iso_social.store.database import opened_engine
from iso_social.store.tables import (
    AUDIT_RUN,
    CONVERSATION,
    FINDING,
    INGEST,
    MESSAGE,
    REJECT,
    STATUS,
)

MESSAGES = 40_000
KILLS = 3
WINDOW = ["--from", "2026-09-01", "--to", "2026-12-01"]


def counts(db: str) -> dict[str, int]:
    with opened_engine(db) as engine, engine.connect() as connection:
        return {
            table.name: int(
                connection.execute(select(func.count()).select_from(table)).scalar_one()
            )
            for table in (MESSAGE, STATUS, CONVERSATION, INGEST, REJECT, AUDIT_RUN, FINDING)
        }


def run_killed(argv: list[str], delay: float) -> int | None:
    """Start the CLI, SIGKILL it after `delay` seconds; its exit code if it finished first."""
    process = subprocess.Popen(
        [sys.executable, "-m", "iso_social", *argv],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        return process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        return None


@pytest.fixture(scope="module")
def big_log(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    path = tmp_path_factory.mktemp("crash") / "big.jsonl"
    records = pipeline.write_synthetic(path, messages=MESSAGES, seed=11)
    return path, records


def test_killed_ingest_leaves_nothing_and_a_rerun_stores_each_record_once(
    db_url: str, big_log: tuple[Path, int]
) -> None:
    path, records = big_log
    rng = random.Random()
    delays = sorted(round(rng.uniform(0.3, 2.0), 2) for _ in range(KILLS))
    for delay in delays:
        code = run_killed(["ingest", str(path), "--db", db_url, "--quiet"], delay)
        if code is not None:  # finished before the kill: nothing left to test at this point
            assert code == 0
            break
        if _has_schema(db_url):  # all of the file or none of it, never a partial batch
            after = counts(db_url)
            complete = after["ingest_file"] >= 1
            assert after["message"] == (MESSAGES if complete else 0), (delays, after)
    summary = pipeline.ingest_logs([path], db=db_url)
    (file,) = summary.files
    final = counts(db_url)
    assert file.records_read == records
    assert final["message"] == MESSAGES, (delays, final)
    assert final["message"] + final["status_change"] <= records
    assert final["ingest_file"] >= 1 and final["reject"] == 0, (delays, final)
    again = pipeline.ingest_logs([path], db=db_url)
    assert again.total("messages_stored") == 0 and again.total("duplicates") == records
    assert counts(db_url)["message"] == MESSAGES


def _has_schema(db: str) -> bool:
    from sqlalchemy import inspect

    with opened_engine(db) as engine:
        return inspect(engine).has_table("message")


def test_killed_check_records_no_half_run_and_the_chain_verifies(
    db_url: str, big_log: tuple[Path, int]
) -> None:
    path, _ = big_log
    pipeline.ingest_logs([path], db=db_url)
    base = ["check", "--db", db_url, *WINDOW, "--format", "json", "--output", os.devnull]
    assert run_killed(base, 120) in (0, 1)  # one complete run to chain onto
    rng = random.Random()
    delays = sorted(round(rng.uniform(0.3, 3.0), 2) for _ in range(KILLS))
    for delay in delays:
        run_killed(base, delay)
        report = pipeline.verify_evidence(db_url)
        assert report.intact, (delays, report)
    assert run_killed(base, 120) in (0, 1)
    report = pipeline.verify_evidence(db_url)
    final = counts(db_url)
    assert report.intact and report.runs == final["audit_run"], (delays, report)
    with opened_engine(db_url) as engine, engine.connect() as connection:
        per_run = connection.execute(
            select(FINDING.c.run_seq, func.count()).group_by(FINDING.c.run_seq)
        ).all()
    controls = dict(per_run)
    assert len(controls) == final["audit_run"], (delays, controls)
    assert len(set(controls.values())) == 1, (delays, controls)  # every run complete


def test_kill_points_vary(big_log: tuple[Path, int]) -> None:
    """The helper really kills: a process told to stop after 0.2 s has not finished."""
    path, _ = big_log
    started = time.monotonic()
    assert run_killed(["ingest", str(path), "--db", "sqlite:///:memory:"], 0.2) is None
    assert time.monotonic() - started < 10
