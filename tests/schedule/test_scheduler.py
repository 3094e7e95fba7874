"""The scheduler: runs on its schedule, one per database, stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from iso_social import pipeline
from iso_social.policy import load_policy
from iso_social.schedule import next_runs
from iso_social.store.database import opened_engine
from iso_social.store.tables import AUDIT_RUN, SCHEDULER_LEASE
from tests.conftest import EXAMPLE_POLICY, canonical_message, write_jsonl


def scheduled_policy(tmp_path: Path, schedule: str = "{every: 1s, window: 3650d}") -> Path:
    path = tmp_path / "scheduled.yaml"
    path.write_text(
        EXAMPLE_POLICY.replace("controls:", f"schedule: {schedule}\ncontrols:"), encoding="utf-8"
    )
    return path


def count(db: str, table) -> int:  # type: ignore[no-untyped-def]
    with opened_engine(db) as engine, engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def start(db: str, policy: Path, *extra: str) -> subprocess.Popen[str]:
    """`schedule run` in a subprocess, its output piped."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "iso_social",
            "schedule",
            "run",
            "--db",
            db,
            "--policies",
            str(policy),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_runs_recorded_second_scheduler_refused_sigterm_is_clean(
    db_url: str, tmp_path: Path
) -> None:
    log = write_jsonl(
        tmp_path / "log.jsonl",
        [
            canonical_message("m1", "2026-10-01T10:00:00Z"),
            canonical_message(
                "m2",
                "2026-10-01T10:20:00Z",
                direction="outbound",
                author="@brand",
                author_role="agent",
            ),
        ],
    )
    pipeline.ingest_logs([log], db=db_url)
    policy = scheduled_policy(tmp_path)
    first = start(db_url, policy)
    try:
        deadline = time.monotonic() + 60
        while count(db_url, AUDIT_RUN) < 2 and time.monotonic() < deadline:
            assert first.poll() is None, first.stderr.read() if first.stderr else ""
            time.sleep(0.5)
        assert count(db_url, AUDIT_RUN) >= 2
        second = subprocess.run(
            [
                sys.executable,
                "-m",
                "iso_social",
                "schedule",
                "run",
                "--db",
                db_url,
                "--policies",
                str(policy),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2
        assert "another scheduler" in second.stderr and "--wait" in second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        _, stderr = first.communicate(timeout=60)
    assert first.returncode == 0, stderr
    events = [json.loads(line)["event"] for line in stderr.splitlines() if line.startswith("{")]
    assert events[0] == "scheduler started" and events[-1] == "scheduler stopped"
    assert "stopping" in events and "check recorded" in events
    report = pipeline.verify_evidence(db_url)
    assert report.intact and report.runs == count(db_url, AUDIT_RUN)
    assert count(db_url, SCHEDULER_LEASE) == 0  # released


def test_list_shows_next_runs(tmp_path: Path) -> None:
    policy = load_policy(scheduled_policy(tmp_path, "{cron: '0 6 * * 1', timezone: Europe/Madrid}"))
    ((job_id, when, described),) = next_runs([policy])
    assert job_id == "check:POL-CS-01" and when is not None and when.weekday() == 0
    assert "cron '0 6 * * 1'" in described


def test_a_policy_without_schedules_is_explained(tmp_path: Path, sqlite_url: str) -> None:
    plain = tmp_path / "plain.yaml"
    plain.write_text(EXAMPLE_POLICY, encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "iso_social",
            "schedule",
            "run",
            "--db",
            sqlite_url,
            "--policies",
            str(plain),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "no policy document declares a schedule" in result.stderr


@pytest.mark.parametrize(
    "schedule", ["{cron: 'every monday'}", "{}", "{cron: '* * * * *', every: 1h}"]
)
def test_bad_schedules_are_policy_errors(tmp_path: Path, schedule: str) -> None:
    from iso_social.errors import PolicyErrors

    with pytest.raises(PolicyErrors, match="schedule"):
        load_policy(scheduled_policy(tmp_path, schedule))


@pytest.mark.parametrize(
    ("field", "names"),
    [
        ("1", "mon"),
        ("0", "sun"),
        ("7", "sun"),
        ("1-5", "mon-fri"),
        ("*/2", "*/2"),
        ("6,0", "sat,sun"),
        ("mon", "mon"),
    ],
)
def test_standard_crontab_weekdays(field: str, names: str) -> None:
    from iso_social.schedule import crontab_weekdays

    assert crontab_weekdays(field) == names
