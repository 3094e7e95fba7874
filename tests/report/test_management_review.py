"""Management review input: the §9.3.2 inputs over a period's runs and the register."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import pypdf
import pytest
from typer.testing import CliRunner

from iso_social import pipeline
from iso_social.cli import app
from iso_social.config import Settings, resource_dir
from iso_social.errors import ReportError
from iso_social.evidence import ledger
from iso_social.policy import load_policies
from iso_social.report.rendering import percent

SECTIONS = (
    "1. Quality objectives",
    "2. Process performance by channel",
    "3. Customer feedback signals",
    "4. Nonconformities and corrective actions",
    "5. Opportunities for improvement",
)


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Three weekly runs of the demo data; one nonconformity with a due date in the past."""
    folder = tmp_path_factory.mktemp("review")
    log = folder / "demo.jsonl"
    pipeline.write_synthetic(log, messages=1200, seed=7)
    db = f"sqlite:///{folder / 'review.db'}"
    pipeline.ingest_logs([log], db=db)
    policies = load_policies([resource_dir("policies")])
    for day in (8, 15, 22):
        pipeline.run_check(
            policies,
            db=db,
            start=datetime(2026, 10, 1, tzinfo=UTC),
            end=datetime(2026, 10, day, tzinfo=UTC),
        )
    pipeline.update_nonconformity(
        db, "NC-TW-FRT-01", "Ana QM", owner="Social team lead", due_date=date(2026, 10, 30)
    )
    return db


def test_every_input_with_a_trend_per_control(reviewed: str) -> None:
    data, count = pipeline.render_management_review(reviewed, "pdf", Settings())
    assert count == 3
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(data)).pages)
    positions = [text.index(section) for section in SECTIONS]
    assert positions == sorted(positions)
    assert "RUN 3" in text.upper() and "RUN 4" not in text.upper()
    latest = pipeline.load_run(reviewed).document
    for control in latest["controls"]:
        assert control["id"] in text
    assert "NC-TW-FRT-01" in text and "overdue" in text and "Social team lead" in text
    assert "Not covered by this tool" in text


def test_the_period_selects_runs(reviewed: str) -> None:
    _, count = pipeline.render_management_review(
        reviewed, "html", Settings(), start=datetime(2026, 10, 10, tzinfo=UTC)
    )
    assert count == 2  # the runs whose window ends on the 15th and the 22nd
    with pytest.raises(ReportError, match="no recorded run"):
        pipeline.render_management_review(
            reviewed, "html", Settings(), end=datetime(2026, 10, 2, tzinfo=UTC)
        )


def test_the_cli_writes_it(reviewed: str, tmp_path: Path) -> None:
    output = tmp_path / "review.html"
    result = CliRunner().invoke(
        app,
        ["report", "--kind", "management-review", "--from", "2026-10-01", "--db", reviewed,
         "-o", str(output)],
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "over 3 runs" in result.stderr
    assert "Management review input" in output.read_text(encoding="utf-8")


def test_one_run_document_is_read_and_the_trend_comes_from_the_result_rows(
    reviewed: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A period of large runs (50 MB documents) must not be parsed run by run: the trend
    rates come from the per-control result rows, which verify holds equal to the documents."""
    runs = [pipeline.load_run(reviewed, f"latest-{back}") for back in (2, 1, 0)]
    read: list[str] = []
    parse = ledger._run
    monkeypatch.setattr(ledger, "_run", lambda row: read.append(row.run_id) or parse(row))
    html, count = pipeline.render_management_review(reviewed, "html", Settings(report_lang="es"))
    assert count == 3 and read == [runs[-1].run_id]
    for control in runs[-1].document["controls"]:
        rates = [
            next(c["rate"] for c in run.document["controls"] if c["id"] == control["id"])
            for run in runs
        ]
        cells = "".join(f'<td class="num">{percent(rate, "es")}</td>' for rate in rates)
        assert cells in html.decode("utf-8"), control["id"]
