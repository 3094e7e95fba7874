"""`iso-social evidence`: list, verify, export and purge the recorded audit evidence."""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from iso_social.cli._options import DbOpt, plural, settings

app = typer.Typer(
    help="Inspect, verify, export and purge the recorded audit evidence.", no_args_is_help=True
)


@app.command(name="list")
def list_runs(
    db: DbOpt = None,
    limit: Annotated[
        int, typer.Option(metavar="N", min=1, help="How many runs, newest first.")
    ] = 20,
) -> None:
    """List recorded check runs, newest first.

    Example: iso-social evidence list --limit 5
    """
    from iso_social.cli import error_boundary
    from iso_social.evidence.ledger import run_headers
    from iso_social.evidence.models import iso_utc
    from iso_social.store.database import opened_engine

    with error_boundary(), opened_engine(settings(db).db) as engine:
        runs = run_headers(engine, limit)
    for run in runs:
        s = run.summary
        print(
            f"{run.seq:>5}  {run.run_id}  {iso_utc(run.window_start)} → {iso_utc(run.window_end)}  "
            f"major {s['major_nonconformities']}  minor {s['minor_nonconformities']}  "
            f"obs {s['observations']}  {run.digest[:12]}"
        )
    if not runs:
        print("no recorded runs")


@app.command()
def verify(
    db: DbOpt = None,
    head: Annotated[
        str | None,
        typer.Option(
            metavar="DIGEST",
            help="A run digest noted earlier (from a report or `check`): fail "
            "if it is no longer in the ledger, i.e. runs were removed from its end.",
        ),
    ] = None,
) -> None:
    """Recompute the hash chain of recorded runs; exit 1 naming the first run that does not
    verify (an edited run or result, a deleted or reordered run), 0 when intact.

    Example: iso-social evidence verify --db sqlite:///audit.db
    """
    from iso_social import pipeline
    from iso_social.cli import error_boundary

    with error_boundary():
        report = pipeline.verify_evidence(settings(db).db, head)
    if report.problem is None:
        print(f"ok: {plural(report.runs, 'run')} verified; head {report.head}")
        return
    p = report.problem
    print(
        f"evidence does not verify: run {p.run_id} (sequence {p.seq}): {p.problem}", file=sys.stderr
    )
    raise typer.Exit(1)


@app.command()
def export(
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", metavar="DIR|ZIP", help="A new folder, or a file ending in .zip."
        ),
    ],
    run: Annotated[
        str, typer.Option("--run", "-r", metavar="RUN", help="latest, latest-N or a run id.")
    ] = "latest",
    db: DbOpt = None,
) -> None:
    """Write a run's evidence package: results JSON, evidence CSV, the policy files as they
    were, the run's ledger entry and SHA256SUMS (check it with `sha256sum -c SHA256SUMS`).

    Example: iso-social evidence export --run latest --output evidence-october.zip
    """
    from iso_social import pipeline
    from iso_social.cli import error_boundary

    with error_boundary():
        written = pipeline.export_evidence(settings(db).db, run, output)
    print(f"wrote {written}", file=sys.stderr)


@app.command()
def purge(
    db: DbOpt = None,
    older_than: Annotated[
        int | None,
        typer.Option(
            metavar="DAYS",
            min=1,
            help="Retention period in days [default: ISO_SOCIAL_RETENTION_DAYS, else 1095].",
        ),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count, change nothing.")] = False,
) -> None:
    """Remove message text and author handles of conversations last active before the retention
    period, callers' numbers and rejected records' raw text (ISO 9001 §7.5.3). Run evidence is
    kept and still verifies.

    Example: iso-social evidence purge --older-than 730 --dry-run
    """
    from iso_social import pipeline
    from iso_social.cli import error_boundary

    current = settings(db)
    days = older_than or current.retention_days
    with error_boundary():
        result = pipeline.purge_content(current.db, timedelta(days=days), dry_run=dry_run)
    verb = "would purge" if dry_run else "purged"
    print(
        f"{verb} {plural(result.messages, 'message')} in "
        f"{plural(result.conversations, 'conversation')} last active before "
        f"{result.cutoff:%Y-%m-%d}, the callers of {plural(result.calls, 'call')} and "
        f"{result.rejections} rejected records' raw text"
    )
