"""A store with one late day and two good days of Twitter traffic, and its policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from iso_social import pipeline
from iso_social.evidence.models import RecordedRun
from iso_social.policy import Policy, load_policy
from tests.conftest import EXAMPLE_POLICY, canonical_message, write_jsonl

DAY1 = datetime(2026, 10, 5, tzinfo=UTC)


def day(n: int) -> tuple[datetime, datetime]:
    """The window of day n (1 = late replies, 2 and 3 = replies in time)."""
    start = DAY1 + timedelta(days=n - 1)
    return start, start + timedelta(days=1)


@pytest.fixture
def evidence_db(db_url: str, tmp_path: Path) -> str:
    records = []
    for n, reply_minutes in ((1, 240), (2, 10), (3, 12)):
        start, _ = day(n)
        for i in range(5):
            cid = f"d{n}-c{i}"
            at = start + timedelta(hours=9 + i)
            records.append(
                canonical_message(
                    f"{cid}-in",
                    at.isoformat(),
                    conversation_id=cid,
                    text='=HYPERLINK("http://x") my card is broken',
                )
            )
            records.append(
                canonical_message(
                    f"{cid}-out",
                    (at + timedelta(minutes=reply_minutes)).isoformat(),
                    conversation_id=cid,
                    direction="outbound",
                    author="@brand",
                    author_role="agent",
                )
            )
    pipeline.ingest_logs([write_jsonl(tmp_path / "tw.jsonl", records)], db=db_url)
    return db_url


@pytest.fixture
def policy(tmp_path: Path) -> Policy:
    path = tmp_path / "social.yaml"
    path.write_text(
        EXAMPLE_POLICY.replace(
            "controls:",
            "corrective_action: {effectiveness_runs: 2, escalate_repeated_minor: true}\ncontrols:",
        ).replace("severity: major", "severity: minor"),
        encoding="utf-8",
    )
    return load_policy(path)


def run_day(db: str, policy: Policy, n: int) -> RecordedRun:
    start, end = day(n)
    return pipeline.run_check([policy], db=db, start=start, end=end)
