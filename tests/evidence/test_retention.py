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


def test_purge_blanks_callers_and_reingest_still_skips_them(db_url: str, tmp_path: Path) -> None:
    """Callers' numbers are personal data too; the call's digest keeps re-ingest idempotent."""
    from iso_social.store.tables import CALL

    cdr = tmp_path / "calls.csv"
    cdr.write_text(
        '"""Ana"" <600111222>","600111222","200","support","SIP/1-1","SIP/2-2","Dial","SIP/2",'
        '"2020-03-02 10:00:00","2020-03-02 10:00:05","2020-03-02 10:02:00","120","115",'
        '"ANSWERED","DOCUMENTATION","","1583143200.1","",1\n',
        encoding="utf-8",
    )
    pipeline.ingest_logs([cdr], db=db_url, assume_tz="Europe/Madrid")
    assert pipeline.purge_content(db_url, timedelta(days=30), dry_run=True).calls == 1
    assert pipeline.purge_content(db_url, timedelta(days=30)).calls == 1
    with opened_engine(db_url) as engine, engine.connect() as connection:
        assert set(connection.execute(select(CALL.c.customer)).scalars()) == {"[purged]"}
    again = pipeline.ingest_logs([cdr], db=db_url, assume_tz="Europe/Madrid").files[0]
    assert again.duplicates == 1 and again.conflicts == 0
    assert pipeline.purge_content(db_url, timedelta(days=30)).calls == 0
