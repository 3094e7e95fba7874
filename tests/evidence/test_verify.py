"""`evidence verify` catches an edited run, an edited result, a deleted run and reordered runs."""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select, update

from iso_social import pipeline
from iso_social.evidence.ledger import stored_document
from iso_social.evidence.models import canonical_json
from iso_social.policy import Policy
from iso_social.store.database import opened_engine
from iso_social.store.tables import AUDIT_RUN, FINDING
from tests.evidence.conftest import run_day


@pytest.fixture
def three_runs(evidence_db: str, policy: Policy) -> str:
    for n in (1, 2, 3):
        run_day(evidence_db, policy, n)
    return evidence_db


def test_untouched_evidence_verifies(three_runs: str) -> None:
    report = pipeline.verify_evidence(three_runs)
    assert report.intact and report.runs == 3


def test_an_edited_run_document_is_caught(three_runs: str) -> None:
    with opened_engine(three_runs) as engine, engine.begin() as connection:
        row = connection.execute(AUDIT_RUN.select().where(AUDIT_RUN.c.seq == 2)).one()
        document = json.loads(stored_document(row))
        document["controls"][0]["statement"] = "All fine."
        connection.execute(
            update(AUDIT_RUN)
            .where(AUDIT_RUN.c.seq == 2)
            .values(document_zlib=zlib.compress(canonical_json(document)))
        )
    problem = pipeline.verify_evidence(three_runs).problem
    assert problem is not None and problem.seq == 2 and "content does not match" in problem.problem


@pytest.mark.parametrize(
    "edit, says",
    [
        ({"document_zlib": b"x\x9c not zlib"}, "not valid JSON"),
        ({"document_zlib": zlib.compress(b'{"run_id": ')}, "not valid JSON"),
        ({"document": "{}"}, "holds its document twice"),
    ],
    ids=["not-zlib", "not-json", "twice"],
)
def test_a_stored_document_that_does_not_read_is_caught(
    three_runs: str, edit: dict[str, object], says: str
) -> None:
    with opened_engine(three_runs) as engine, engine.begin() as connection:
        connection.execute(update(AUDIT_RUN).where(AUDIT_RUN.c.seq == 1).values(edit))
    problem = pipeline.verify_evidence(three_runs).problem
    assert problem is not None and problem.seq == 1 and says in problem.problem


def test_a_run_document_is_stored_compressed_and_a_text_one_still_verifies(
    three_runs: str,
) -> None:
    """Runs recorded before revision 0006 hold their canonical JSON as text."""
    with opened_engine(three_runs) as engine, engine.begin() as connection:
        row = connection.execute(AUDIT_RUN.select().where(AUDIT_RUN.c.seq == 3)).one()
        body = zlib.decompress(row.document_zlib)
        assert row.document == "" and body == canonical_json(json.loads(body))
        assert len(row.document_zlib) < len(body)
        connection.execute(
            update(AUDIT_RUN)
            .where(AUDIT_RUN.c.seq == 3)
            .values(document=body.decode("utf-8"), document_zlib=None)
        )
    assert pipeline.verify_evidence(three_runs).intact
    assert pipeline.load_run(three_runs).document == json.loads(body)


def test_an_edited_result_row_is_caught(three_runs: str) -> None:
    with opened_engine(three_runs) as engine, engine.begin() as connection:
        connection.execute(update(FINDING).where(FINDING.c.run_seq == 1).values(verdict="conforms"))
    problem = pipeline.verify_evidence(three_runs).problem
    assert problem is not None and problem.seq == 1 and "result was edited" in problem.problem


@pytest.mark.parametrize(
    "column, value",
    [
        ("window_end", datetime(2027, 1, 1, tzinfo=UTC)),
        ("window_start", datetime(2020, 1, 1, tzinfo=UTC)),
        ("created_at", datetime(2020, 1, 1, tzinfo=UTC)),
        ("tool_version", "0.0.1"),
    ],
)
def test_an_edited_run_row_is_caught(three_runs: str, column: str, value: object) -> None:
    """Lists and management reviews read a run's window from its row, not its document."""
    with opened_engine(three_runs) as engine, engine.begin() as connection:
        connection.execute(update(AUDIT_RUN).where(AUDIT_RUN.c.seq == 3).values({column: value}))
    problem = pipeline.verify_evidence(three_runs).problem
    assert problem is not None and problem.seq == 3
    assert "window does not match its document" in problem.problem


def test_a_deleted_run_is_caught(three_runs: str) -> None:
    with opened_engine(three_runs) as engine, engine.begin() as connection:
        connection.execute(delete(FINDING).where(FINDING.c.run_seq == 2))
        connection.execute(delete(AUDIT_RUN).where(AUDIT_RUN.c.seq == 2))
    problem = pipeline.verify_evidence(three_runs).problem
    assert problem is not None and problem.seq == 3 and "deleted" in problem.problem


def test_reordered_runs_are_caught(three_runs: str) -> None:
    columns = (
        "run_id",
        "created_at",
        "tool_version",
        "window_start",
        "window_end",
        "document",
        "digest",
        "previous_digest",
    )
    with opened_engine(three_runs) as engine, engine.begin() as connection:
        rows = {r.seq: r for r in connection.execute(AUDIT_RUN.select())}
        moved = list(
            connection.execute(select(FINDING.c.id).where(FINDING.c.run_seq == 3)).scalars()
        )
        connection.execute(update(AUDIT_RUN).where(AUDIT_RUN.c.seq == 2).values(run_id="tmp"))
        for target, source in ((3, 2), (2, 3)):
            connection.execute(
                update(AUDIT_RUN)
                .where(AUDIT_RUN.c.seq == target)
                .values(**{c: getattr(rows[source], c) for c in columns})
            )
        connection.execute(update(FINDING).where(FINDING.c.run_seq == 2).values(run_seq=3))
        connection.execute(update(FINDING).where(FINDING.c.id.in_(moved)).values(run_seq=2))
    problem = pipeline.verify_evidence(three_runs).problem
    assert problem is not None and problem.seq == 2 and "reordered" in problem.problem


def test_removing_the_newest_run_is_caught_with_a_noted_head(three_runs: str) -> None:
    head = pipeline.load_run(three_runs).digest
    with opened_engine(three_runs) as engine, engine.begin() as connection:
        connection.execute(delete(FINDING).where(FINDING.c.run_seq == 3))
        connection.execute(delete(AUDIT_RUN).where(AUDIT_RUN.c.seq == 3))
    assert pipeline.verify_evidence(three_runs).intact  # the chain alone cannot tell
    problem = pipeline.verify_evidence(three_runs, head=head).problem
    assert problem is not None and "removed from its end" in problem.problem


def test_cli_exit_codes(three_runs: str) -> None:
    from typer.testing import CliRunner

    from iso_social.cli import app

    runner = CliRunner()
    ok = runner.invoke(app, ["evidence", "verify", "--db", three_runs])
    assert ok.exit_code == 0 and ok.stdout.startswith("ok: 3 runs verified")
    with opened_engine(three_runs) as engine, engine.begin() as connection:
        connection.execute(update(AUDIT_RUN).where(AUDIT_RUN.c.seq == 1).values(run_id="forged"))
    bad = runner.invoke(app, ["evidence", "verify", "--db", three_runs])
    assert bad.exit_code == 1 and "run forged (sequence 1)" in bad.stderr
