"""What a check tells of its advance (`check.CheckProgress`): each step in order, each
control (or each run of a split check) counted once, on every way a check is evaluated."""

from __future__ import annotations

import dataclasses
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from iso_social import check, pipeline
from iso_social.check import COUNTING_RUNS, EVALUATING, IncrementalState
from iso_social.config import resource_dir
from iso_social.policy import Policy, load_policies
from iso_social.synthetic import synthetic_records

START = datetime(2026, 10, 1, tzinfo=UTC)
END = START + timedelta(days=31)

Heard = list[tuple[str, int, int]]


def _ingest(tmp_path: Path, db: str) -> None:
    path = tmp_path / "log.jsonl"
    records = synthetic_records(600, seed=9, start=START)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    pipeline.ingest_logs([path], db=db)


def _policies() -> list[Policy]:
    return load_policies([resource_dir("policies")])


def _steps(heard: Heard) -> list[str]:
    """The steps in the order first heard."""
    return list(dict.fromkeys(step for step, _, _ in heard))


def _counted(heard: Heard, step: str) -> list[int]:
    return [done for name, done, _ in heard if name == step]


def _heard(policies: list[Policy], db: str, **options: Any) -> Heard:
    """What a check of the window over `db` tells of its advance (`options`: workers, state)."""
    heard: Heard = []
    pipeline.run_check_with_findings(
        policies, db=db, start=START, end=END, progress=lambda *a: heard.append(a), **options
    )
    return heard


def test_a_check_in_one_process_tells_each_step_and_each_control(
    tmp_path: Path, sqlite_url: str
) -> None:
    _ingest(tmp_path, sqlite_url)
    policies = _policies()
    controls = sum(len(p.controls) for p in policies)
    heard = _heard(policies, sqlite_url)
    assert _steps(heard) == [
        pipeline.READING,
        EVALUATING,
        pipeline.KEEPING,  # a first check keeps what the text scanners found
        pipeline.RECORDING,
    ]
    assert _counted(heard, EVALUATING) == list(range(controls + 1))
    assert {total for step, _, total in heard if step == EVALUATING} == {controls}

    heard = _heard(policies, sqlite_url)  # the scanners' findings are kept: nothing to keep
    assert _steps(heard) == [pipeline.READING, EVALUATING, pipeline.RECORDING]


@pytest.mark.skipif(sys.platform != "linux", reason="splitting forks worker processes (Linux)")
def test_a_split_check_tells_each_run_counted(tmp_path: Path, db_url: str) -> None:
    _ingest(tmp_path, db_url)
    heard = _heard(_policies(), db_url, workers=2)
    assert _steps(heard)[:2] == [pipeline.READING, COUNTING_RUNS]
    assert _steps(heard)[-1] == pipeline.RECORDING
    runs = {total for step, _, total in heard if step == COUNTING_RUNS}
    assert runs == {2 * pipeline.RUNS_PER_PROCESS}
    assert _counted(heard, COUNTING_RUNS) == list(range(runs.pop() + 1))
    assert EVALUATING not in _steps(heard)  # the controls are counted within the runs


@pytest.mark.skipif(sys.platform != "linux", reason="sharing controls forks worker processes")
def test_controls_shared_among_workers_are_each_told_once(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ingest(tmp_path, sqlite_url)
    policies = _policies()
    monkeypatch.setattr(pipeline, "splits", lambda controls: False)  # as a plug-in type makes it
    heard = _heard(policies, sqlite_url, workers=2)
    controls = sum(len(p.controls) for p in policies)
    assert _counted(heard, EVALUATING) == list(range(controls + 1))
    assert COUNTING_RUNS not in _steps(heard)


def test_a_scheduled_check_tells_each_control(tmp_path: Path, sqlite_url: str) -> None:
    _ingest(tmp_path, sqlite_url)
    policies = _policies()
    state = IncrementalState()
    for _ in range(2):  # filling the state, then incrementally
        heard = _heard(policies, sqlite_url, state=state)
        assert _steps(heard)[:2] == [pipeline.READING, EVALUATING]
        assert _counted(heard, EVALUATING)[-1] == sum(len(p.controls) for p in policies)


def test_first_response_controls_alone_tell_each_control(tmp_path: Path, sqlite_url: str) -> None:
    """Fed by the first replies the store pairs (`reply_needs`), not by conversations."""
    _ingest(tmp_path, sqlite_url)
    policy = next(p for p in _policies() if any(c.spec.id == "TW-FRT-01" for c in p.controls))
    only = tuple(c for c in policy.controls if c.spec.type == "first_response_time")
    assert only and check.reply_needs(only) is not None
    heard = _heard([dataclasses.replace(policy, controls=only)], sqlite_url)
    assert _counted(heard, EVALUATING) == list(range(len(only) + 1))
