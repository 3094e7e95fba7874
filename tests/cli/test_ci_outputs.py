"""CI integration: JUnit, Markdown and CSV outputs, several at once, baselines, CI docs."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from iso_social.cli import app
from tests.conftest import ROOT

WINDOW = ["--from", "2026-10-01", "--to", "2026-11-01"]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("ci")
    result = CliRunner().invoke(app, ["demo", "--dir", str(folder), "--messages", "800"])
    assert result.exit_code == 0
    return f"sqlite:///{folder / 'demo.db'}"


def test_several_outputs_at_once(demo_db: str, tmp_path: Path) -> None:
    files = {name: tmp_path / f"out.{name}" for name in ("json", "junit", "markdown", "csv")}
    result = CliRunner().invoke(
        app,
        [
            "check",
            "--db",
            demo_db,
            *WINDOW,
            "--format",
            "json",
            "--output-junit",
            str(files["junit"]),
            "--output-markdown",
            str(files["markdown"]),
            "--output-csv",
            str(files["csv"]),
            "--output-json",
            str(files["json"]),
        ],
    )
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert json.loads(files["json"].read_text()) == document

    suites = ET.fromstring(files["junit"].read_bytes())  # noqa: S314 - our own output
    cases = suites.findall("testsuite/testcase")
    assert len(cases) == len(document["controls"]) == int(suites.get("tests", "0"))
    failed = [c for c in cases if c.find("failure") is not None]
    expected = [
        c
        for c in document["controls"]
        if c["verdict"] in ("major_nonconformity", "minor_nonconformity")
    ]
    assert len(failed) == len(expected) == int(suites.get("failures", "0"))
    failure = failed[0].find("failure")
    assert failure is not None and failure.get("message") in {c["statement"] for c in expected}
    skipped = [c for c in cases if c.find("skipped") is not None]
    assert len(skipped) == document["summary"]["not_evaluated"]

    markdown = files["markdown"].read_text()
    assert "| Control | Verdict |" in markdown and "🔴 major NC" in markdown
    assert markdown.count("\n| `") == len(document["controls"])

    rows = list(csv.DictReader(io.StringIO(files["csv"].read_text())))
    assert len(rows) == sum(len(c["evidence"]) for c in document["controls"])


def test_baseline_fails_only_on_new_nonconformities(demo_db: str, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["check", "--db", demo_db, *WINDOW]).exit_code == 1
    baseline = tmp_path / "baseline.json"
    written = runner.invoke(app, ["baseline", "write", "--db", demo_db, "-o", str(baseline)])
    assert written.exit_code == 0
    accepted = runner.invoke(
        app, ["check", "--db", demo_db, *WINDOW, "--fail-on", "minor", "--baseline", str(baseline)]
    )
    assert accepted.exit_code == 0 and "0 new or graver" in accepted.stderr
    data = json.loads(baseline.read_text())
    data["nonconformities"] = [nc for nc in data["nonconformities"] if nc["id"] != "NC-TW-FRT-01"]
    baseline.write_text(json.dumps(data))
    new = runner.invoke(app, ["check", "--db", demo_db, *WINDOW, "--baseline", str(baseline)])
    assert new.exit_code == 1 and "1 new or graver" in new.stderr
    baseline.write_text("{}")
    bad = runner.invoke(app, ["check", "--db", demo_db, *WINDOW, "--baseline", str(baseline)])
    assert bad.exit_code == 2 and "not an iso-social baseline" in bad.stderr


@pytest.mark.parametrize(
    ("fail_on", "code"), [("major", 1), ("minor", 1), ("observation", 1), ("never", 0)]
)
def test_exit_codes_match_the_readme_table(demo_db: str, fail_on: str, code: int) -> None:
    result = CliRunner().invoke(app, ["check", "--db", demo_db, *WINDOW, "--fail-on", fail_on])
    assert result.exit_code == code


def test_ci_examples_and_pre_commit_hook_parse() -> None:
    text = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    blocks = [yaml.safe_load(b) for b in text.split("```yaml\n")[1:] for b in [b.split("```")[0]]]
    github, gitlab = blocks
    steps = github["jobs"]["check"]["steps"]
    commands = " ".join(str(step.get("run", "")) for step in steps)
    assert "iso-social check" in commands and "--output-junit" in commands
    assert gitlab["quality-check"]["artifacts"]["reports"]["junit"] == "results.xml"
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["entry"] == "iso-social policy validate"
