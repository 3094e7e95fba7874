"""Every command, fed broken input or configuration, exits 2 with one `error:` line (and a
`hint:` where there is a fix to suggest); never a Python traceback, never exit 3.

Each case names the command and what is broken. `{db}` is a database holding one ingest and one
check run; `{tmp}` a fresh folder holding broken files made by `broken_files`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iso_social.cli import app
from tests.conftest import EXAMPLE_POLICY, canonical_message, write_jsonl

CASES: dict[str, list[str]] = {
    # ingest
    "ingest: missing file": ["ingest", "{tmp}/nowhere.jsonl", "--db", "{db}"],
    "ingest: empty folder": ["ingest", "{tmp}/empty", "--db", "{db}"],
    "ingest: unknown format": ["ingest", "{tmp}/good.jsonl", "--format", "nosuch", "--db", "{db}"],
    "ingest: not a database URL": ["ingest", "{tmp}/good.jsonl", "--db", "not a url"],
    "ingest: unsupported database": ["ingest", "{tmp}/good.jsonl", "--db", "oracle://x/y"],
    "ingest: database folder missing": [
        "ingest", "{tmp}/good.jsonl", "--db", "sqlite:///{tmp}/no/such/dir/x.db",
    ],
    "ingest: database file is not a database": [
        "ingest", "{tmp}/good.jsonl", "--db", "sqlite:///{tmp}/garbage.db",
    ],
    "ingest: database server down": [
        "ingest", "{tmp}/good.jsonl", "--db", "postgresql://nobody@127.0.0.1:9/none",
    ],
    "ingest: unknown time zone": [
        "ingest", "{tmp}/good.jsonl", "--assume-tz", "Mars/Olympus", "--db", "{db}",
    ],
    "ingest: missing mapping": [
        "ingest", "{tmp}/good.jsonl", "--mapping", "{tmp}/nowhere.yaml", "--db", "{db}",
    ],
    "ingest: broken mapping": [
        "ingest", "{tmp}/good.jsonl", "--mapping", "{tmp}/broken.yaml", "--db", "{db}",
    ],
    "ingest: strict with a bad line": ["ingest", "{tmp}/bad.jsonl", "--strict", "--db", "{db}"],
    "ingest: pseudonymise without a key": [
        "ingest", "{tmp}/good.jsonl", "--pseudonymise", "--db", "{db}",
    ],
    "ingest: tweets-csv without a brand": [
        "ingest", "{tmp}/tweets.csv", "--format", "tweets-csv", "--db", "{db}",
    ],
    "ingest: undetectable format": ["ingest", "{tmp}/random.bin", "--db", "{db}"],
    # check
    "check: missing policies": ["check", "--policies", "{tmp}/nowhere", "--db", "{db}"],
    "check: broken policy": ["check", "--policies", "{tmp}/broken.yaml", "--db", "{db}"],
    "check: inverted window": [
        "check", "--db", "{db}", "--from", "2026-11-01", "--to", "2026-10-01",
    ],
    "check: missing baseline": ["check", "--db", "{db}", "--baseline", "{tmp}/nowhere.json"],
    "check: broken baseline": ["check", "--db", "{db}", "--baseline", "{tmp}/broken.json"],
    "check: unknown run to compare": ["check", "--db", "{db}", "--compare", "20990101-nope"],
    "check: output folder missing": [
        "check", "--db", "{db}", "--format", "json", "--output", "{tmp}/no/dir/r.json",
    ],
    "check: database is garbage": ["check", "--db", "sqlite:///{tmp}/garbage.db"],
    # report
    "report: unknown run": ["report", "--db", "{db}", "--run", "nope", "-o", "{tmp}/r.pdf"],
    "report: no runs yet": ["report", "--db", "sqlite:///{tmp}/empty.db", "-o", "{tmp}/r.pdf"],
    "report: output folder missing": ["report", "--db", "{db}", "-o", "{tmp}/no/dir/r.pdf"],
    "report: unknown suffix": ["report", "--db", "{db}", "-o", "{tmp}/r.docx"],
    "report: unknown kind": ["report", "--db", "{db}", "--kind", "audit", "-o", "{tmp}/r.pdf"],
    "report: no nonconformity to report": [
        "report", "--db", "{db}", "--kind", "nonconformity", "--nc", "NC-NOPE", "-o", "{tmp}/n.pdf",
    ],
    # policy
    "policy validate: missing file": ["policy", "validate", "{tmp}/nowhere.yaml"],
    "policy validate: broken file": ["policy", "validate", "{tmp}/broken.yaml"],
    "policy show: broken file": ["policy", "show", "{tmp}/broken.yaml"],
    # evidence
    "evidence list: database is garbage": ["evidence", "list", "--db", "sqlite:///{tmp}/garbage.db"],
    "evidence verify: database is garbage": [
        "evidence", "verify", "--db", "sqlite:///{tmp}/garbage.db",
    ],
    "evidence export: unknown run": [
        "evidence", "export", "--db", "{db}", "--run", "nope", "-o", "{tmp}/pack",
    ],
    "evidence export: output exists": ["evidence", "export", "--db", "{db}", "-o", "{tmp}/full"],
    # nonconformities
    "nc show: unknown id": ["nc", "show", "NC-9999", "--db", "{db}"],
    "nc update: unknown id": [
        "nc", "update", "NC-9999", "--by", "qm", "--owner", "x", "--db", "{db}",
    ],
    "nc close: unknown id": ["nc", "close", "NC-9999", "--by", "qm", "--db", "{db}"],
    # samples
    "sample: unknown control": ["sample", "--control", "NOPE-1", "--db", "{db}"],
    "sample show: unknown sample": ["sample", "show", "S-nope", "--db", "{db}"],
    "sample record: unknown sample": [
        "sample", "record", "--sample", "S-nope", "--item", "c1", "--verdict", "conforms",
        "--reviewer", "qm", "--db", "{db}",
    ],
    # baselines
    "baseline write: unknown run": ["baseline", "write", "--db", "{db}", "--run", "nope"],
    "baseline write: output folder missing": [
        "baseline", "write", "--db", "{db}", "-o", "{tmp}/no/dir/b.json",
    ],
    # schedules
    "schedule run: no schedule declared": [
        "schedule", "run", "--policies", "{tmp}/plain.yaml", "--db", "{db}",
    ],
    "schedule run-once: unknown job": [
        "schedule", "run-once", "check:NOPE", "--policies", "{tmp}/plain.yaml", "--db", "{db}",
    ],
    "schedule list: broken policy": ["schedule", "list", "--policies", "{tmp}/broken.yaml"],
    # demo and generate
    "demo: folder is a file": ["demo", "--dir", "{tmp}/good.jsonl", "--messages", "10"],
    "generate: output folder missing": [
        "generate", "-o", "{tmp}/no/dir/x.jsonl", "--messages", "5",
    ],
}  # fmt: skip

USAGE_CASES: dict[str, list[str]] = {
    "check: date is not a date": ["check", "--from", "yesterday-ish"],
    "check: unknown fail-on": ["check", "--fail-on", "catastrophic"],
    "ingest: no path": ["ingest"],
    "nc update: due is not a date": ["nc", "update", "NC-1", "--by", "x", "--due", "soon"],
    "unknown command": ["audit"],
    "evidence purge: negative period": ["evidence", "purge", "--older-than", "-5"],
}


@pytest.fixture(scope="module")
def broken_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A folder of broken inputs and a database holding one ingest and one check."""
    tmp = tmp_path_factory.mktemp("broken")
    (tmp / "empty").mkdir()
    (tmp / "full").mkdir()
    (tmp / "full" / "keep.txt").write_text("already here\n")
    write_jsonl(tmp / "good.jsonl", [canonical_message("m1", "2026-10-05T09:00:00Z")])
    (tmp / "bad.jsonl").write_text('{"conversation_id": "c"}\n', encoding="utf-8")
    (tmp / "broken.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    (tmp / "plain.yaml").write_text(EXAMPLE_POLICY, encoding="utf-8")
    (tmp / "broken.json").write_text("{not json", encoding="utf-8")
    (tmp / "garbage.db").write_bytes(b"this is not a database at all" * 100)
    (tmp / "random.bin").write_bytes(bytes(range(256)) * 4)
    (tmp / "tweets.csv").write_text("tweet_id,author,created_at,text\n", encoding="utf-8")
    db = f"sqlite:///{tmp / 'run.db'}"
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(tmp / "good.jsonl"), "--db", db]).exit_code == 0
    checked = runner.invoke(app, ["check", "--db", db, "--policies", str(tmp / "plain.yaml")])
    assert checked.exit_code in (0, 1), checked.stderr
    return tmp, db


def _argv(template: list[str], tmp: Path, db: str) -> list[str]:
    return [part.replace("{tmp}", str(tmp)).replace("{db}", db) for part in template]


@pytest.mark.parametrize("case", sorted(CASES))
def test_broken_input_exits_2_with_one_error_line(
    case: str, broken_files: tuple[Path, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp, db = broken_files
    for variable in ("ISO_SOCIAL_DB", "ISO_SOCIAL_PSEUDONYM_KEY", "ISO_SOCIAL_FORMAT"):
        monkeypatch.delenv(variable, raising=False)
    result = CliRunner().invoke(app, _argv(CASES[case], tmp, db))
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    assert lines and lines[0].startswith("error: "), result.stderr
    assert sum(line.startswith("error: ") for line in lines) == 1, result.stderr
    assert all(line.startswith(("error: ", "hint: ")) for line in lines), result.stderr
    assert len(lines[0]) < 400, lines[0]


@pytest.mark.parametrize("case", sorted(USAGE_CASES))
def test_usage_errors_exit_2_without_a_traceback(case: str) -> None:
    result = CliRunner().invoke(app, USAGE_CASES[case])
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert "Traceback" not in result.stderr
    assert "error" in result.stderr.lower()


def test_nothing_was_written_by_the_failed_commands(broken_files: tuple[Path, str]) -> None:
    """The broken commands left the database as it was: one run, still verifying."""
    _, db = broken_files
    listed = CliRunner().invoke(app, ["evidence", "list", "--db", db])
    assert listed.exit_code == 0
    assert len(re.findall(r"\b\d{8}T\d{6}Z-[0-9a-f]{6}\b", listed.stdout)) == 1, listed.stdout
    assert CliRunner().invoke(app, ["evidence", "verify", "--db", db]).exit_code == 0
