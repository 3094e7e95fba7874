"""Evidence packages verify offline with `sha256sum -c`; `--as-of` runs reproduce."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from iso_social import pipeline
from iso_social.cli import app
from iso_social.errors import EvidenceError
from iso_social.evidence.export import _policy_name, write_package
from iso_social.policy import Policy
from tests.evidence.conftest import run_day


def test_exported_folder_verifies_with_sha256sum(
    evidence_db: str, policy: Policy, tmp_path: Path
) -> None:
    run = run_day(evidence_db, policy, 1)
    folder = pipeline.export_evidence(evidence_db, "latest", tmp_path / "pack")
    assert shutil.which("sha256sum"), "coreutils sha256sum is needed to check packages"
    check = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert (folder / "policies" / "social.yaml").read_bytes() == policy.source
    results = json.loads((folder / "results.json").read_text())
    assert results["run_id"] == run.run_id and results["integrity"]["run_sha256"] == run.digest
    # the README's recipe for the run digest, as an auditor would follow it
    ledger = json.loads((folder / "ledger.json").read_text())
    del results["integrity"]
    canonical = json.dumps(results, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    link = f"{ledger['previous_run_sha256']}\n{ledger['sequence']}\n".encode()
    assert hashlib.sha256(link + canonical.encode()).hexdigest() == run.digest
    assert "ensure_ascii=False).encode()" in (folder / "README.txt").read_text()
    rows = list(csv.DictReader(io.StringIO((folder / "evidence.csv").read_text())))
    assert len(rows) == 5 and rows[0]["control_id"] == "TW-FRT-01"
    tampered = folder / "evidence.csv"
    tampered.write_text(tampered.read_text() + "extra\n")
    assert (
        subprocess.run(
            ["sha256sum", "--quiet", "-c", "SHA256SUMS"],
            cwd=folder,
            capture_output=True,
            check=False,
        ).returncode
        != 0
    )


def test_zip_export_and_formula_cells_are_neutralised(
    evidence_db: str, policy: Policy, tmp_path: Path
) -> None:
    run_day(evidence_db, policy, 1)
    result = CliRunner().invoke(
        app, ["evidence", "export", "--db", evidence_db, "--output", str(tmp_path / "pack.zip")]
    )
    assert result.exit_code == 0
    with zipfile.ZipFile(tmp_path / "pack.zip") as archive:
        names = set(archive.namelist())
        assert {
            "results.json",
            "evidence.csv",
            "ledger.json",
            "SHA256SUMS",
            "README.txt",
            "policies/social.yaml",
        } <= names
    from iso_social.evidence.export import safe_cell

    assert safe_cell('=HYPERLINK("http://x")') == '\'=HYPERLINK("http://x")'
    assert safe_cell("-1") == "'-1" and safe_cell("ok") == "ok"


def test_export_refuses_a_non_empty_folder(
    evidence_db: str, policy: Policy, tmp_path: Path
) -> None:
    run_day(evidence_db, policy, 1)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    from iso_social.errors import EvidenceError

    with pytest.raises(EvidenceError, match="not empty"):
        pipeline.export_evidence(evidence_db, "latest", tmp_path / "busy")


def test_as_of_runs_reproduce_the_same_json(evidence_db: str, tmp_path: Path) -> None:
    from tests.conftest import EXAMPLE_POLICY

    policy_file = tmp_path / "p.yaml"
    policy_file.write_text(EXAMPLE_POLICY)
    runner = CliRunner()
    args = [
        "check",
        "--db",
        evidence_db,
        "--policies",
        str(policy_file),
        "--from",
        "2026-10-01",
        "--as-of",
        "2026-10-08T00:00:00Z",
        "--format",
        "json",
    ]
    first = json.loads(runner.invoke(app, args).stdout)
    second = json.loads(runner.invoke(app, args).stdout)
    assert first["run_id"] != second["run_id"]
    for volatile in ("run_id", "created_at", "integrity"):
        first.pop(volatile)
        second.pop(volatile)
    assert first == second
    assert first["window"]["to"] == "2026-10-08T00:00:00Z"
    assert first["as_of"] == "2026-10-08T00:00:00Z"


@pytest.mark.parametrize(
    "recorded",
    ["../../etc/passwd", "..", ".hidden.yaml", "C:\\policies\\..\\x.yaml", "a/b/../../c", ""],
)
def test_policy_copies_are_named_safely(recorded: str) -> None:
    """Names in a package come from the run's document; crafted ones stay inside it."""
    name = _policy_name(recorded, set())
    assert name and not name.startswith(".") and "/" not in name and "\\" not in name
    assert name not in ("..", ".")


@pytest.mark.parametrize("name", ["../evil.txt", "/var/evil.txt", "policies/../../x", "a\\..\\b"])
@pytest.mark.parametrize("suffix", ["", ".zip"])
def test_a_package_never_writes_outside_its_target(tmp_path: Path, name: str, suffix: str) -> None:
    target = tmp_path / "out" / f"package{suffix}"
    with pytest.raises(EvidenceError, match="inside the package"):
        write_package({"README.txt": b"x", name: b"evil"}, target)
    assert not target.exists()
    assert sorted(p.name for p in tmp_path.rglob("*")) == []
