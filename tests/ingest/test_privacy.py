"""Pseudonymisation at ingest: keyed, stable, customers only, key never stored."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from iso_social import pipeline
from iso_social.cli import app
from iso_social.errors import ConfigError
from iso_social.ingest.privacy import pseudonym
from iso_social.store.database import opened_engine
from iso_social.store.tables import MESSAGE
from tests.conftest import canonical_message, write_jsonl

KEY = "0123456789abcdef-test-key"


def test_pseudonyms_are_keyed_and_stable() -> None:
    assert pseudonym("@Ana", b"k" * 16) == pseudonym("@ana ", b"k" * 16)
    assert pseudonym("@ana", b"k" * 16) != pseudonym("@ana", b"j" * 16)
    assert pseudonym("@ana", b"k" * 16).startswith("p-")


def test_customers_are_pseudonymised_agents_are_not(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    log = write_jsonl(
        tmp_path / "log.jsonl",
        [
            canonical_message("m1", "2026-10-01T10:00:00Z", author="@ana", text="@brand hi"),
            canonical_message(
                "m2",
                "2026-10-01T10:05:00Z",
                direction="outbound",
                author="@brand",
                author_role="agent",
            ),
        ],
    )
    monkeypatch.setenv("ISO_SOCIAL_PSEUDONYM_KEY", KEY)
    pipeline.ingest_logs([log], db=db_url, pseudonymise=True)
    with opened_engine(db_url) as engine, engine.connect() as connection:
        authors = dict(connection.execute(select(MESSAGE.c.message_id, MESSAGE.c.author)).all())
        stored = " ".join(str(v) for row in connection.execute(select(MESSAGE)) for v in row)
    assert authors == {"m1": pseudonym("@ana", KEY.encode()), "m2": "@brand"}
    assert KEY not in stored and "@ana" not in stored
    again = pipeline.ingest_logs([log], db=db_url, pseudonymise=True)
    assert again.total("duplicates") == 2  # the same key gives the same pseudonym


def test_missing_key_is_a_configuration_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ISO_SOCIAL_PSEUDONYM_KEY", raising=False)
    log = write_jsonl(tmp_path / "log.jsonl", [canonical_message("m1", "2026-10-01T10:00Z")])
    with pytest.raises(ConfigError, match="secret key"):
        pipeline.ingest_logs([log], db=f"sqlite:///{tmp_path / 'x.db'}", pseudonymise=True)
    result = CliRunner(env={"ISO_SOCIAL_PSEUDONYM_KEY": None}).invoke(
        app, ["ingest", str(log), "--db", f"sqlite:///{tmp_path / 'x.db'}", "--pseudonymise"]
    )
    assert result.exit_code == 2 and result.stderr.startswith("error: ISO_SOCIAL_PSEUDONYM_KEY")
