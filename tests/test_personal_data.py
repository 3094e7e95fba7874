"""Personal data planted in the input never comes out: not in command output, logs, error
messages, reports (PDF text and attachment, HTML, JSON, JUnit, Markdown, CSV), evidence packages,
baselines, the nonconformity register or samples. Each artifact is scanned for the raw values."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from iso_social.config import resource_dir
from iso_social.store.database import make_engine
from tests.conftest import canonical_message, write_jsonl

CARD = "4111 1111 1111 1111"
DNI = "12345678Z"
IBAN = "ES91 2100 0418 4502 0005 1332"
EMAIL = "ana.garcia.planted@example.com"
PHONE = "+34 612 345 678"
HANDLE = "@ana_planted_1985"
PLANTED = (CARD, DNI, IBAN, EMAIL, PHONE)


def variants(value: str) -> set[str]:
    """The value as written, without spaces, and digits only (a careless mask keeps those)."""
    compact = value.replace(" ", "")
    return {value, compact} | (
        {re.sub(r"\D", "", value)} if sum(c.isdigit() for c in value) > 8 else set()
    )


def leaks(text: str) -> list[str]:
    return [v for value in PLANTED for v in variants(value) if v in text]


def conversation(n: int, customer_text: str, agent_text: str) -> list[dict[str, object]]:
    cid = f"leak-{n}"
    return [
        canonical_message(
            f"{cid}-1",
            f"2026-10-{5 + n:02d}T10:00:00Z",
            conversation_id=cid,
            author=HANDLE,
            text=customer_text,
        ),
        canonical_message(
            f"{cid}-2",
            f"2026-10-{5 + n:02d}T13:00:00Z",
            conversation_id=cid,
            direction="outbound",
            author="@brand",
            author_role="agent",
            text=agent_text,
        ),
    ]


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Run every command that produces output on planted data; collect what it produced."""
    tmp = tmp_path_factory.mktemp("pii")
    records: list[dict[str, object] | str] = []
    records += conversation(0, f"My card {CARD} was charged twice", f"Card {CARD} is blocked")
    records += conversation(1, f"DNI {DNI}, IBAN {IBAN}", f"Refund sent to {IBAN}")
    records += conversation(2, f"Call me on {PHONE} or {EMAIL}", "Please DM us the details")
    records += conversation(3, '=HYPERLINK("http://evil.example","x")', "<script>x</script>")
    records.append(f'{{"broken": "{CARD} {EMAIL}"')  # a rejected line holding personal data
    log = write_jsonl(tmp / "planted.jsonl", records)
    db = f"sqlite:///{tmp / 'pii.db'}"
    out: dict[str, str] = {}

    def run(name: str, *argv: str, env: dict[str, str] | None = None) -> None:
        result = subprocess.run(
            [sys.executable, "-m", "iso_social", *argv],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, "ISO_SOCIAL_DB": db, "ISO_SOCIAL_USER": "qm", **(env or {})},
        )
        assert result.returncode in (0, 1), (name, result.stderr[-2000:])
        out[f"{name} (stdout)"] = result.stdout
        out[f"{name} (stderr)"] = result.stderr

    window = ["--from", "2026-10-01", "--to", "2026-11-01"]
    run("ingest", "ingest", str(log))
    run("ingest --json", "ingest", str(log), "--json")
    files = {fmt: tmp / f"results.{fmt}" for fmt in ("json", "junit", "markdown", "csv")}
    run(
        "check",
        "check",
        *window,
        *[arg for fmt, path in files.items() for arg in (f"--output-{fmt}", str(path))],
    )
    for fmt in ("table", "json", "junit", "markdown", "csv"):
        run(f"check --format {fmt}", "check", *window, "--format", fmt)
    run("report pdf", "report", "-o", str(tmp / "report.pdf"))
    run("report html", "report", "-o", str(tmp / "report.html"))
    run("report nonconformity", "report", "--kind", "nonconformity", "-o", str(tmp / "ncr.html"))
    run("review", "report", "--kind", "management-review", "-o", str(tmp / "review.html"))
    run("nonconformity pdf", "report", "--kind", "nonconformity", "-o", str(tmp / "ncr.pdf"))
    run("review pdf", "report", "--kind", "management-review", "-o", str(tmp / "review.pdf"))
    spanish = {"ISO_SOCIAL_REPORT_LANG": "es"}
    run("report pdf es", "report", "-o", str(tmp / "report-es.pdf"), env=spanish)
    run("evidence export", "evidence", "export", "-o", str(tmp / "package"))
    run("evidence list", "evidence", "list")
    run("baseline", "baseline", "write", "-o", str(tmp / "baseline.json"))
    run("nc list", "nc", "list")
    run("nc show", "nc", "show", "NC-PV-SDE-01")
    run("sample", "sample", "--control", "PV-SDE-01")
    privacy = (resource_dir("policies") / "privacy.yaml").read_text(encoding="utf-8")
    scheduled = tmp / "scheduled-privacy.yaml"
    scheduled.write_text(
        privacy.replace("\ncontrols:", "\nschedule: {every: 1h, window: 3650d}\ncontrols:", 1),
        encoding="utf-8",
    )
    run("schedule run-once", "schedule", "run-once", "check:POL-CS-04", "--policies",
        str(scheduled))  # fmt: skip
    drop = tmp / "drop"
    drop.mkdir()
    (drop / "planted.bin").write_bytes(f"{CARD} {EMAIL} {DNI}\n".encode() * 3)
    os.utime(drop / "planted.bin", (0, 0))
    (tmp / "service.yaml").write_text("watch: [{folder: drop}]\n", encoding="utf-8")
    run("drop folder", "schedule", "run-once", f"ingest:{drop.resolve()}", "--config",
        str(tmp / "service.yaml"))  # fmt: skip
    out["drop folder error file"] = (drop / "failed" / "planted.bin.error.txt").read_text(
        encoding="utf-8"
    )
    reports = ("report.html", "ncr.html", "review.html", "baseline.json")
    for path in [*files.values(), *(tmp / name for name in reports)]:
        out[path.name] = path.read_text(encoding="utf-8")
    for path in sorted((tmp / "package").rglob("*")):
        if path.is_file():
            out[f"package/{path.name}"] = path.read_bytes().decode("utf-8", "replace")
    for name in ("ncr.pdf", "review.pdf", "report-es.pdf"):
        pages = PdfReader(tmp / name).pages
        out[f"{name} text"] = "\n".join(page.extract_text() for page in pages)
    pdf = PdfReader(tmp / "report.pdf")
    out["report.pdf text"] = "\n".join(page.extract_text() for page in pdf.pages)
    for name, data in pdf.attachments.items():
        out[f"report.pdf attachment {name}"] = b"".join(data).decode("utf-8", "replace")
    out["report.pdf metadata"] = str(pdf.metadata)
    out["database file mode"] = oct(stat.S_IMODE((tmp / "pii.db").stat().st_mode))
    make_engine(db).dispose()
    return out


def test_the_commands_ran(artifacts: dict[str, str]) -> None:
    """The scan looks at real output: the privacy findings are there, masked."""
    assert "PV-SDE-01" in artifacts["results.json"]
    assert "check recorded" in artifacts["schedule run-once (stderr)"]
    assert "ingest failed" in artifacts["drop folder (stderr)"]
    assert "1111" in artifacts["results.csv"] or "1111" in artifacts["results.json"]
    assert artifacts["report.pdf text"].strip()
    assert "Alcance, método y resumen" in artifacts["report-es.pdf text"]
    assert "Statement of nonconformity" in artifacts["ncr.pdf text"]
    assert "Opportunities for improvement" in artifacts["review.pdf text"]
    assert any(name.startswith("report.pdf attachment") for name in artifacts)


def test_no_planted_value_in_any_artifact(artifacts: dict[str, str]) -> None:
    found = {name: leaks(text) for name, text in artifacts.items() if leaks(text)}
    assert not found


# the evidence pack's masked case excerpts
EXCERPTS = ("report.html", "report.pdf text", "report-es.pdf text")


def test_customer_text_is_shown_only_masked_in_the_evidence_pack(artifacts: dict[str, str]) -> None:
    """Machine outputs, logs and the other reports carry ids and measures, not what customers
    wrote; the evidence pack quotes the message behind a case with its personal data masked and
    its markup as text."""
    for name, text in artifacts.items():
        assert "<script>x</script>" not in text, name
        if name not in EXCERPTS:
            assert "was charged twice" not in text, name
            assert "evil.example" not in text, name
    for name in EXCERPTS:  # the PDF's text breaks lines where the page does
        shown = " ".join(artifacts[name].split())
        assert f"My card [card ••••{CARD[-4:]}] was charged twice" in shown, name


def test_the_database_file_is_owner_only(artifacts: dict[str, str]) -> None:
    assert artifacts["database file mode"] == "0o600"


def test_a_crash_prints_no_customer_data(tmp_path: Path) -> None:
    """An internal error's traceback names code, not values: no locals, no record text."""
    log = write_jsonl(tmp_path / "x.jsonl", conversation(0, f"card {CARD}", "ok"))
    script = (
        "import sys\n"
        "from iso_social.cli import app\n"
        "import iso_social.store.loader as loader\n"
        "def boom(*a, **k):\n"
        "    raise RuntimeError('simulated failure')\n"
        "loader.repository.store_rows = boom\n"
        "sys.argv = ['iso-social', 'ingest', sys.argv[1], '--db', sys.argv[2]]\n"
        "app()\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(log), f"sqlite:///{tmp_path / 'x.db'}"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 3
    assert "Traceback" in result.stderr and "simulated failure" in result.stderr
    assert not leaks(result.stderr + result.stdout), result.stderr
    assert "locals" not in result.stderr.replace("holds no local variables", "")


def test_the_scan_would_see_a_leak() -> None:
    """The scanner finds each planted value, spaced, compact or as bare digits."""
    for value in PLANTED:
        for variant in variants(value):
            assert leaks(f"before {variant} after") == [v for v in variants(value) if v in variant]
