"""The facade that wires the stages together: ingest → store → check → evidence → report.

The CLI and the scheduler call only this module. Every function takes plain values (paths, URLs,
datetimes) and returns domain or evidence objects; nothing here prints or exits.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Engine

from iso_social._version import __version__
from iso_social.check import evaluate_policy
from iso_social.config import Settings
from iso_social.domain import Window, now_utc
from iso_social.errors import CheckError, ConfigError, IngestError
from iso_social.evidence import ledger
from iso_social.evidence.models import InputFile, RecordedRun, build_document
from iso_social.ingest import IngestOptions, detect_log_format, get_log_format
from iso_social.policy import Policy, load_policies
from iso_social.report import REPORTERS, ReportFormat, ReportOptions
from iso_social.store import repository
from iso_social.store.database import create_schema, opened_engine
from iso_social.store.loader import IngestSummary, Progress, load_files

DEFAULT_LOOKBACK = timedelta(days=30)


def _expand(paths: Sequence[Path]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            inside = sorted(p for p in path.iterdir() if p.is_file() and not p.name.startswith("."))
            if not inside:
                raise IngestError(path, "the folder holds no files")
            files.extend(inside)
        elif path.is_file():
            files.append(path)
        else:
            raise IngestError(path, "no such file or folder")
    return files


def zone(name: str | None) -> ZoneInfo | None:
    """The IANA zone called `name` (for --assume-tz), or None."""
    if name is None:
        return None
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            "--assume-tz",
            f"'{name}' is not an IANA time zone",
            hint="use a name such as Europe/Madrid, America/Mexico_City or UTC",
        ) from exc


def ingest_logs(
    paths: Sequence[Path],
    *,
    db: str,
    fmt: str = "auto",
    assume_tz: str | None = None,
    strict: bool = False,
    progress: Progress | None = None,
) -> IngestSummary:
    """Validate and store every record of the given files (folders are expanded), atomically."""
    files = _expand(paths)
    formats = [detect_log_format(p) if fmt == "auto" else get_log_format(fmt) for p in files]
    options = IngestOptions(assume_tz=zone(assume_tz))
    with opened_engine(db) as engine:
        return load_files(engine, files, formats, options, strict=strict, progress=progress)


def resolve_window(
    engine: Engine, start: datetime | None, end: datetime | None, as_of: datetime | None = None
) -> Window:
    """The audit window: `--to` defaults to `--as-of` or now, `--from` to the first activity."""
    end = end or as_of or now_utc()
    if start is None:
        with engine.connect() as connection:
            first, _ = repository.activity_span(connection)
        start = first if first is not None and first < end else end - DEFAULT_LOOKBACK
    if start >= end:
        raise CheckError(
            f"the audit window is empty: --from {start.isoformat()} is not before "
            f"--to {end.isoformat()}",
            hint="pass a --from earlier than --to",
        )
    return Window(start, end)


def run_check(
    policies: Sequence[Policy],
    *,
    db: str,
    start: datetime | None = None,
    end: datetime | None = None,
    as_of: datetime | None = None,
) -> RecordedRun:
    """Evaluate every control over the window and record the run in the ledger."""
    with opened_engine(db) as engine:
        create_schema(engine)
        window = resolve_window(engine, start, end, as_of)
        with engine.connect() as connection:
            conversations = repository.conversations_in(connection, window)
            calls = repository.calls_in(connection, window)
            inputs = [
                InputFile(f.path, f.sha256, f.size, f.format, f.records_read, f.stored, f.rejected)
                for f in repository.ingested_files(connection)
            ]
        findings = evaluate_policy(policies, window, conversations, calls)
        created = now_utc()
        run_id = f"{created:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"
        document = build_document(
            run_id=run_id,
            created_at=created,
            tool_version=__version__,
            window=window,
            as_of=as_of,
            policies=policies,
            inputs=inputs,
            findings=findings,
        )
        return ledger.record_run(engine, document, created, window.start, window.end)


def load_run(db: str, reference: str = "latest") -> RecordedRun:
    """A recorded run: `latest`, `latest-N` or a run id."""
    with opened_engine(db) as engine:
        return ledger.load_run(engine, reference)


def render_report(
    run: RecordedRun, fmt: ReportFormat, settings: Settings, *, color: bool = False
) -> bytes:
    """The bytes of `run` rendered in `fmt`."""
    options = ReportOptions(
        templates_dir=settings.templates_dir, organisation=settings.organisation, color=color
    )
    return REPORTERS[fmt].render(run, options)


def write_synthetic(path: Path, *, messages: int, seed: int) -> int:
    """Write a synthetic canonical JSONL file; return the number of records written."""
    from iso_social.synthetic import synthetic_records

    count = 0
    with path.open("w", encoding="utf-8") as out:
        for record in synthetic_records(messages, seed=seed):
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


@dataclass(frozen=True)
class DemoResult:
    """Where the demo put its files, and what it found."""

    log_file: Path
    database: Path
    report: Path
    json_file: Path
    ingest: IngestSummary
    run: RecordedRun


DEMO_WINDOW = Window(datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))


def run_demo(
    directory: Path, settings: Settings, *, seed: int = 7, messages: int = 3000
) -> DemoResult:
    """Generate a sample data set, ingest it into a fresh SQLite database, check it against
    the shipped policies and write the PDF report and the JSON results."""
    directory.mkdir(parents=True, exist_ok=True)
    log_file = directory / "demo-logs.jsonl"
    database = directory / "demo.db"
    for stale in (database, database.with_suffix(".db-wal"), database.with_suffix(".db-shm")):
        stale.unlink(missing_ok=True)
    write_synthetic(log_file, messages=messages, seed=seed)
    db = f"sqlite:///{database}"
    summary = ingest_logs([log_file], db=db)
    policies = load_policies([settings.policies_dir])
    run = run_check(policies, db=db, start=DEMO_WINDOW.start, end=DEMO_WINDOW.end)
    report = directory / "audit-evidence.pdf"
    report.write_bytes(render_report(run, ReportFormat.PDF, settings))
    json_file = directory / "results.json"
    json_file.write_bytes(render_report(run, ReportFormat.JSON, settings))
    return DemoResult(log_file, database, report, json_file, summary, run)
