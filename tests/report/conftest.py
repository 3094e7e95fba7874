"""A checked demo data set for the report tests: every verdict occurs."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from iso_social import pipeline
from iso_social.config import resource_dir
from iso_social.evidence.models import RecordedRun
from iso_social.policy import load_policies


def check_demo(folder: Path, messages: int) -> tuple[str, RecordedRun]:
    """Demo data in a new database in `folder`, checked against every shipped policy over
    October 2026: the database and the recorded run."""
    log = folder / "demo.jsonl"
    pipeline.write_synthetic(log, messages=messages, seed=7)
    db = f"sqlite:///{folder / 'demo.db'}"
    pipeline.ingest_logs([log], db=db)
    run = pipeline.run_check(
        load_policies([resource_dir("policies")]),
        db=db,
        start=datetime(2026, 10, 1, tzinfo=UTC),
        end=datetime(2026, 11, 1, tzinfo=UTC),
    )
    return db, run


@pytest.fixture(scope="session")
def demo_check(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, RecordedRun]:
    """The database and the recorded run of the demo data (read-only: shared by modules)."""
    return check_demo(tmp_path_factory.mktemp("demo-check"), 1500)
