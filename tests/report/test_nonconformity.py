"""Nonconformity reports: one per nonconformity with the sections a certification body expects,
the register's corrective action as recorded (escaped), PDF/A-3b, and clear errors."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime
from pathlib import Path

import pypdf
import pytest
from typer.testing import CliRunner

from iso_social import pipeline
from iso_social.cli import app
from iso_social.config import Settings, resource_dir
from iso_social.errors import ReportError
from iso_social.evidence.models import RecordedRun
from iso_social.policy import load_policies
from tests.report.conftest import check_demo

SECTIONS = (
    "1. Requirement",
    "2. Objective evidence",
    "3. Statement of nonconformity",
    "4. Correction, cause and corrective action",
    "5. Effectiveness review",
    "6. History",
    "7. Sign-off",
)


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, RecordedRun]:
    """A checked demo data set whose Twitter nonconformity has its corrective action recorded."""
    db, run = check_demo(tmp_path_factory.mktemp("ncr"), 1200)  # its own: the test changes it
    pipeline.update_nonconformity(
        db,
        "NC-TW-FRT-01",
        "Ana QM",
        owner="Social team lead",
        root_cause="No weekend rota <b>at all</b>",
        corrective_action="Weekend rota; alert at 45 min",
    )
    return db, run


def test_one_report_per_nonconformity_with_every_section(
    register: tuple[str, RecordedRun],
) -> None:
    db, run = register
    data, _, ids = pipeline.render_nonconformity_report(db, "latest", [], "pdf", Settings())
    assert ids == [nc["id"] for nc in run.document["nonconformities"]] and len(ids) >= 2
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    for nc_id in ids:
        report = text[text.index(f"{nc_id} ") :]
        positions = [report.index(section) for section in SECTIONS]
        assert positions == sorted(positions), nc_id
    assert "Social team lead" in text and "Weekend rota; alert at 45 min" in text
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode("utf-8")
    assert re.search(r"pdfaid:part(>|=\")3", xmp)


def test_chosen_nonconformities_and_escaped_fields(register: tuple[str, RecordedRun]) -> None:
    db, _ = register
    data, _, ids = pipeline.render_nonconformity_report(
        db, "latest", ["NC-TW-FRT-01"], "html", Settings()
    )
    html = data.decode("utf-8")
    assert ids == ["NC-TW-FRT-01"] and html.count('class="ncr') == 1
    assert "&lt;b&gt;at all&lt;/b&gt;" in html and "<b>at all" not in html


def test_a_run_without_nonconformities_is_a_clear_error(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'empty.db'}"
    pipeline.run_check(
        load_policies([resource_dir("policies") / "phone.yaml"]),
        db=db,
        start=datetime(2026, 10, 1, tzinfo=UTC),
        end=datetime(2026, 11, 1, tzinfo=UTC),
    )
    with pytest.raises(ReportError, match="raised no nonconformity"):
        pipeline.render_nonconformity_report(db, "latest", [], "pdf", Settings())


def test_the_cli_writes_it(register: tuple[str, RecordedRun], tmp_path: Path) -> None:
    db, _ = register
    output = tmp_path / "ncr.pdf"
    result = CliRunner().invoke(
        app,
        [
            "report",
            "--kind",
            "nonconformity",
            "--nc",
            "NC-TW-FRT-01",
            "--db",
            db,
            "-o",
            str(output),
        ],
    )
    assert result.exit_code == 0, result.stderr
    assert "NC-TW-FRT-01" in result.stderr and output.read_bytes().startswith(b"%PDF-")
    bad = CliRunner().invoke(app, ["report", "--kind", "audit", "--db", db, "-o", str(output)])
    assert bad.exit_code == 2 and "--kind" in bad.stderr
