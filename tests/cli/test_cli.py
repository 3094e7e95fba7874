"""The command line: one test per exit code, the JSON contract, and the README's promises."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from iso_social import pipeline
from iso_social.cli import app
from iso_social.config import resource_dir
from tests.conftest import EXAMPLE_POLICY, canonical_message, modules_loaded_by, write_jsonl

WINDOW = ["--from", "2026-10-01", "--to", "2026-11-01"]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner(env={"ISO_SOCIAL_DB": None, "ISO_SOCIAL_FORMAT": None})


@pytest.fixture
def demo_db(runner: CliRunner, tmp_path: Path) -> str:
    """The demo's database: seeded breaches on Twitter (major), e-mail and phone (minor)."""
    result = runner.invoke(app, ["demo", "--dir", str(tmp_path / "demo"), "--messages", "800"])
    assert result.exit_code == 0, result.stderr
    return f"sqlite:///{tmp_path / 'demo' / 'demo.db'}"


def minor_only_policy(tmp_path: Path) -> Path:
    folder = tmp_path / "minor"
    folder.mkdir()
    (folder / "email.yaml").write_bytes((resource_dir("policies") / "email.yaml").read_bytes())
    return folder


def test_demo_prints_where_everything_is(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--dir", str(tmp_path / "d"), "--messages", "800"])
    assert result.exit_code == 0
    report = tmp_path / "d" / "audit-evidence.pdf"
    assert f"report:   {report}" in result.stdout
    assert report.read_bytes().startswith(b"%PDF-")
    assert "1 major nonconformity" in result.stdout


def test_demo_is_deterministic_for_a_seed(runner: CliRunner, tmp_path: Path) -> None:
    for name in ("a", "b"):
        runner.invoke(app, ["demo", "--dir", str(tmp_path / name), "--messages", "300"])
    assert (tmp_path / "a" / "demo-logs.jsonl").read_bytes() == (
        tmp_path / "b" / "demo-logs.jsonl"
    ).read_bytes()


def test_check_json_follows_the_contract(runner: CliRunner, demo_db: str) -> None:
    result = runner.invoke(app, ["check", "--db", demo_db, *WINDOW, "--format", "json"])
    assert result.exit_code == 1  # the demo seeds a major nonconformity on Twitter
    document = json.loads(result.stdout)
    schema = json.loads((resource_dir("schemas") / "check-result.schema.json").read_text())
    jsonschema.validate(document, schema)
    assert document["schema_version"] == "1"
    assert document["window"] == {"from": "2026-10-01T00:00:00Z", "to": "2026-11-01T00:00:00Z"}
    (frt,) = [c for c in document["controls"] if c["id"] == "TW-FRT-01"]
    assert {"p50_seconds", "p90_seconds"} <= frt["measures"].keys()
    assert len(frt["evidence"]) == frt["nonconforming"] > 0
    assert document["summary"]["major_nonconformities"] == 1
    assert "1 major nonconformity" in result.stderr and "recorded" in result.stderr


def test_exit_0_when_nothing_reaches_fail_on(
    runner: CliRunner, demo_db: str, tmp_path: Path
) -> None:
    result = runner.invoke(
        app, ["check", "--db", demo_db, *WINDOW, "--policies", str(minor_only_policy(tmp_path))]
    )
    assert result.exit_code == 0
    assert "EM-FRT-01" in result.stdout and "MINOR NC" in result.stdout


def test_fail_on_minor_exits_1_on_a_seeded_minor_nonconformity(
    runner: CliRunner, demo_db: str, tmp_path: Path
) -> None:
    result = runner.invoke(
        app,
        [
            "check",
            "--db",
            demo_db,
            *WINDOW,
            "--fail-on",
            "minor",
            "--policies",
            str(minor_only_policy(tmp_path)),
        ],
    )
    assert result.exit_code == 1
    assert "2 minor nonconformities" in result.stderr


def test_fail_on_never_and_env_var(runner: CliRunner, demo_db: str) -> None:
    result = runner.invoke(
        app, ["check", "--db", demo_db, *WINDOW], env={"ISO_SOCIAL_FAIL_ON": "never"}
    )
    assert result.exit_code == 0


@pytest.mark.parametrize(
    ("quiet", "terminal", "ci", "shown"),
    [
        (False, True, None, True),
        (True, True, None, False),  # --quiet
        (False, False, None, False),  # stderr to a file or a pipe
        (False, True, "true", False),  # CI logs keep no bar
        (False, True, "false", True),
    ],
)
def test_progress_is_drawn_only_for_a_person_at_a_terminal(
    monkeypatch: pytest.MonkeyPatch, quiet: bool, terminal: bool, ci: str | None, shown: bool
) -> None:
    from iso_social.cli import _progress

    monkeypatch.setattr(_progress.sys.stderr, "isatty", lambda: terminal)
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    assert _progress.shows_progress(quiet=quiet) is shown


def test_check_with_its_progress_drawn_gives_the_same_results(
    runner: CliRunner, demo_db: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The display draws on stderr only: stdout, the summary and the exit code are those of a
    check without it (`--quiet`)."""
    from iso_social.cli import check as check_command

    quiet = runner.invoke(app, ["check", "--db", demo_db, *WINDOW, "-f", "json", "--quiet"])
    drawn: list[tuple[str, int, int]] = []
    real_display = check_command.step_display

    def display(*, enabled: bool) -> Any:
        assert enabled
        return real_display(enabled=enabled)

    monkeypatch.setattr(check_command, "shows_progress", lambda *, quiet: not quiet)
    monkeypatch.setattr(check_command, "step_display", display)
    real_check = pipeline.run_check

    def heard(*args: Any, progress: Any = None, **kwargs: Any) -> Any:
        assert callable(progress)  # the display's

        def both(*step: Any) -> None:
            drawn.append(step)
            progress(*step)

        return real_check(*args, progress=both, **kwargs)

    monkeypatch.setattr(pipeline, "run_check", heard)
    shown = runner.invoke(app, ["check", "--db", demo_db, *WINDOW, "-f", "json"])
    assert shown.exit_code == quiet.exit_code == 1
    first, second = json.loads(quiet.stdout), json.loads(shown.stdout)
    assert first["controls"] == second["controls"]
    assert "1 major nonconformity" in shown.stderr
    assert drawn[0][0] == pipeline.READING and drawn[-1][0] == pipeline.RECORDING


def test_policy_typo_exits_2_naming_file_line_and_field(
    runner: CliRunner, demo_db: str, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE_POLICY.replace("deadline: 1h", "deadlin: 1h"))
    result = runner.invoke(app, ["check", "--db", demo_db, "--policies", str(bad)])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"error: {bad}:21: controls[0].params.deadlin: unknown field 'deadlin'" in result.stderr
    assert "hint: did you mean 'deadline'?" in result.stderr
    assert "Traceback" not in result.stderr


def test_usage_errors_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(app, ["check", "--fail-on", "sometimes"]).exit_code == 2
    result = runner.invoke(
        app, ["check", "--db", f"sqlite:///{tmp_path}/x.db", "--from", "yesterday"]
    )
    assert result.exit_code == 2 and "error: --from: 'yesterday' is not a date" in result.stderr
    result = runner.invoke(
        app,
        [
            "check",
            "--db",
            f"sqlite:///{tmp_path}/x.db",
            "--from",
            "2026-11-01",
            "--to",
            "2026-10-01",
        ],
    )
    assert result.exit_code == 2 and "window is empty" in result.stderr


def test_internal_errors_exit_3_with_a_traceback_and_no_locals(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from iso_social import pipeline

    def broken(*args: object, **kwargs: object) -> None:
        card_number = "4111111111111111"  # a local that must not be printed
        raise RuntimeError("boom" if card_number else "")

    monkeypatch.setattr(pipeline, "run_check", broken)
    result = runner.invoke(app, ["check", "--db", f"sqlite:///{tmp_path}/x.db"])
    assert result.exit_code == 3
    assert "internal error" in result.stderr and "RuntimeError: boom" in result.stderr
    assert "4111111111111111" not in result.stderr


def test_ingest_reports_the_bad_line_and_reingest_stores_nothing(
    runner: CliRunner, tmp_path: Path
) -> None:
    log = write_jsonl(
        tmp_path / "log.jsonl",
        [
            canonical_message("m1", "2026-10-01T10:00:00Z"),
            '{"kind": "message", "message_id": ',
            canonical_message(
                "m2",
                "2026-10-01T10:20:00Z",
                direction="outbound",
                author="@brand",
                author_role="agent",
            ),
        ],
    )
    db = f"sqlite:///{tmp_path / 'i.db'}"
    first = runner.invoke(app, ["ingest", str(log), "--db", db, "--json"])
    assert first.exit_code == 0
    summary = json.loads(first.stdout)
    assert {
        "records_read",
        "messages_stored",
        "duplicates",
        "rejected",
        "conversations",
    } <= summary.keys()
    assert (summary["records_read"], summary["messages_stored"], summary["rejected"]) == (3, 2, 1)
    assert summary["files"][0]["rejections"] == [
        {"line": 2, "reason": summary["files"][0]["rejections"][0]["reason"]}
    ]
    text = runner.invoke(app, ["ingest", str(log), "--db", db])
    assert f"{log}:2: not valid JSON" in text.stdout
    assert "0 messages and 0 other records stored, 2 duplicates skipped" in text.stdout


def test_ingest_of_a_missing_file_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["ingest", str(tmp_path / "nope.jsonl"), "--db", f"sqlite:///{tmp_path}/x.db"]
    )
    assert result.exit_code == 2 and "no such file or folder" in result.stderr


def test_report_writes_pdf_and_html(runner: CliRunner, demo_db: str, tmp_path: Path) -> None:
    runner.invoke(app, ["check", "--db", demo_db, *WINDOW])
    pdf, html = tmp_path / "r.pdf", tmp_path / "r.html"
    assert runner.invoke(app, ["report", "--db", demo_db, "-o", str(pdf)]).exit_code == 0
    assert pdf.read_bytes().startswith(b"%PDF-")
    assert runner.invoke(app, ["report", "--db", demo_db, "-o", str(html)]).exit_code == 0
    assert "<!DOCTYPE html>" in html.read_text()
    missing = runner.invoke(app, ["report", "--db", demo_db, "--run", "nope", "-o", str(pdf)])
    assert missing.exit_code == 2 and "no recorded run 'nope'" in missing.stderr


def test_report_shows_what_it_renders_while_a_person_waits(
    runner: CliRunner, demo_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At a terminal the report draws a spinner naming the report (a long pack takes a minute
    or more); the file written and an error's message are those of a quiet run."""
    from iso_social.cli import report as report_command

    runner.invoke(app, ["check", "--db", demo_db, *WINDOW])
    opened: list[str] = []
    real_display = report_command.step_display

    def display(*, enabled: bool, first: str) -> Any:
        opened.append(first if enabled else "")
        return real_display(enabled=enabled, first=first)

    monkeypatch.setattr(report_command, "shows_progress", lambda *, quiet: not quiet)
    monkeypatch.setattr(report_command, "step_display", display)
    quiet, shown = tmp_path / "quiet.pdf", tmp_path / "shown.pdf"
    args = ["report", "--db", demo_db, "--kind", "management-review"]
    assert runner.invoke(app, [*args, "-o", str(quiet), "--quiet"]).exit_code == 0
    result = runner.invoke(app, [*args, "-o", str(shown)])
    assert result.exit_code == 0 and "wrote" in result.stderr
    assert shown.read_bytes().startswith(b"%PDF-") and quiet.stat().st_size > 0
    missing = runner.invoke(app, ["report", "--db", demo_db, "--run", "nope", "-o", str(shown)])
    assert missing.exit_code == 2 and "no recorded run 'nope'" in missing.stderr
    assert opened == ["", "rendering the management review", "rendering the evidence pack"]


def test_policy_commands(runner: CliRunner) -> None:
    shipped = len(list(resource_dir("policies").glob("*.yaml")))
    assert runner.invoke(app, ["policy", "validate"]).stdout.startswith(
        f"ok: {shipped} policy documents"
    )
    assert "TW-FRT-01" in runner.invoke(app, ["policy", "show"]).stdout
    assert "first_response_time" in runner.invoke(app, ["policy", "types"]).stdout


def test_evidence_list(runner: CliRunner, demo_db: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each run as its row and result rows give it: no document is read (a large run's is
    50 MB), and what is listed is what the latest document says."""
    from iso_social.evidence import ledger

    latest = pipeline.load_run(demo_db)
    monkeypatch.setattr(ledger, "_run", lambda row: pytest.fail("a run document was read"))
    result = runner.invoke(app, ["evidence", "list", "--db", demo_db])
    assert result.exit_code == 0, result.output
    summary, window = latest.document["summary"], latest.document["window"]
    assert result.stdout.splitlines()[0].split() == [
        str(latest.seq),
        latest.run_id,
        window["from"],
        "→",
        window["to"],
        "major",
        str(summary["major_nonconformities"]),
        "minor",
        str(summary["minor_nonconformities"]),
        "obs",
        str(summary["observations"]),
        latest.digest[:12],
    ]


def test_generate(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "g.jsonl"
    result = runner.invoke(app, ["generate", "--messages", "50", "--seed", "3", "-o", str(out)])
    assert result.exit_code == 0
    kinds = [json.loads(line)["kind"] for line in out.read_text().splitlines()]
    assert kinds.count("message") == 50


def test_module_entry_point_and_help_imports_nothing_heavy() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "iso_social", "--help"], check=True, capture_output=True, text=True
    )
    assert "ingest" in result.stdout and "check" in result.stdout
    # the start-up time is measured by benchmarks/startup.py; this guards the cause of slowness
    modules = modules_loaded_by("iso_social.cli")
    heavy = {"weasyprint", "sqlalchemy", "sqlmodel", "jinja2", "holidays", "pydantic"}
    assert heavy.isdisjoint(modules), heavy.intersection(modules)


def test_the_cli_lists_every_built_in_log_format() -> None:
    from iso_social.cli.ingest import FORMAT_NAMES
    from iso_social.ingest import BUILTIN_LOG_FORMATS

    assert tuple(cls.name for cls in BUILTIN_LOG_FORMATS) == FORMAT_NAMES


def test_policy_validate_reads_the_policies_folder_from_wherever_it_is_set(
    runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped folder without a setting; the settings file's or the variable's (in any case,
    as the settings read it) when there is one."""
    monkeypatch.chdir(tmp_path)
    shipped = runner.invoke(app, ["policy", "validate"])
    assert shipped.exit_code == 0 and "6 policy documents" in shipped.output
    (tmp_path / "iso-social.toml").write_text('policies_dir = "elsewhere"\n', encoding="utf-8")
    from_file = runner.invoke(app, ["policy", "validate"])
    assert from_file.exit_code == 2 and "elsewhere" in from_file.output
    (tmp_path / "iso-social.toml").unlink()
    one = tmp_path / "one"
    one.mkdir()
    (one / "social.yaml").write_bytes((resource_dir("policies") / "social.yaml").read_bytes())
    from_env = runner.invoke(app, ["policy", "validate"], env={"iso_social_policies_dir": str(one)})
    assert from_env.exit_code == 0 and "1 policy document" in from_env.output
