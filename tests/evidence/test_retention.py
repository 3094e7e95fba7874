"""Purging old conversation content keeps the evidence chain and re-ingest idempotent."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from iso_social import pipeline
from iso_social.policy import Policy
from iso_social.store.database import opened_engine
from iso_social.store.tables import MESSAGE
from tests.evidence.conftest import run_day


def test_purge_blanks_content_and_the_chain_still_verifies(
    evidence_db: str, policy: Policy, tmp_path: Path
) -> None:
    run_day(evidence_db, policy, 1)
    dry = pipeline.purge_content(evidence_db, timedelta(days=1), dry_run=True)
    assert (dry.conversations, dry.messages) == (15, 30)
    result = pipeline.purge_content(evidence_db, timedelta(days=1))
    assert result.messages == 30
    with opened_engine(evidence_db) as engine, engine.connect() as connection:
        texts = set(connection.execute(select(MESSAGE.c.text)).scalars())
        authors = set(connection.execute(select(MESSAGE.c.author)).scalars())
    assert texts == {""} and authors == {"[purged]"}
    assert pipeline.verify_evidence(evidence_db).intact
    summary = pipeline.ingest_logs([tmp_path / "tw.jsonl"], db=evidence_db).files[0]
    assert summary.conflicts == 0 and summary.duplicates == 30
    assert pipeline.purge_content(evidence_db, timedelta(days=1)).messages == 0


def test_recent_content_is_kept(evidence_db: str) -> None:
    assert pipeline.purge_content(evidence_db, timedelta(days=36500)).messages == 0
