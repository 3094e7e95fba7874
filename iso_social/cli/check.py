"""`iso-social check`: evaluate every control, record the run, report and set the exit code."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from iso_social.cli._options import DbOpt, FailOn, parse_moment, plural, settings, write_output

_GRAVITY = {FailOn.major: 3, FailOn.minor: 2, FailOn.observation: 1, FailOn.never: 99}


def exit_code_for(document: dict[str, Any], fail_on: FailOn) -> int:
    """1 when any control's verdict is at or above `fail_on`, else 0."""
    from iso_social.domain import Verdict

    worst = max((Verdict(c["verdict"]).rank for c in document["controls"]), default=0)
    return 1 if worst >= _GRAVITY[fail_on] else 0


def summary_line(document: dict[str, Any]) -> str:
    """`3 controls: 1 conforms, 1 major nonconformity, ...` for stderr."""
    s = document["summary"]
    parts = [f"{s['conforms']} conform" + ("s" if s["conforms"] == 1 else "")]
    parts += [
        plural(s["major_nonconformities"], "major nonconformity", "major nonconformities"),
        plural(s["minor_nonconformities"], "minor nonconformity", "minor nonconformities"),
        plural(s["observations"], "observation"),
        f"{s['not_evaluated']} not evaluated",
    ]
    return f"{plural(s['controls'], 'control')}: {', '.join(parts)}"


def check(
    policies: Annotated[
        list[Path] | None,
        typer.Option(
            "--policies",
            "-p",
            metavar="PATH",
            envvar="ISO_SOCIAL_POLICIES",
            help="Policy file or folder (repeatable) [default: the shipped policies/].",
        ),
    ] = None,
    db: DbOpt = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="DATE",
            help="Start of the audit window, inclusive (2026-10-01 or an "
            "ISO timestamp; UTC if no offset) [default: the first activity in the store].",
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(
            "--to",
            metavar="DATE",
            help="End of the audit window, exclusive [default: --as-of, or now].",
        ),
    ] = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            metavar="TIMESTAMP",
            help="Evaluate as at this moment (the default end of "
            "the window); the same data and policies give the same results.",
        ),
    ] = None,
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-f",
            metavar="table|json",
            envvar="ISO_SOCIAL_FORMAT",
            help="Output: table or json.",
        ),
    ] = "table",
    output: Annotated[
        str,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            envvar="ISO_SOCIAL_OUTPUT",
            help="Output file, or - for stdout.",
        ),
    ] = "-",
    compare: Annotated[
        str | None,
        typer.Option(
            "--compare",
            metavar="RUN",
            help="List new, persisting and resolved nonconformities "
            "against this run (latest-1 is the run before this one).",
        ),
    ] = None,
    fail_on: Annotated[
        FailOn,
        typer.Option(
            "--fail-on",
            envvar="ISO_SOCIAL_FAIL_ON",
            case_sensitive=False,
            help="Exit 1 when a nonconformity of this grade or graver is found.",
        ),
    ] = FailOn.major,
) -> None:
    """Run every control of the policies over the audit window and record the run.

    Results go to stdout (or --output), the summary to stderr. Exit code 0: nothing at or above
    --fail-on; 1: nonconformities at or above it; 2: usage, policy or input error.

    Example: iso-social check --from 2026-10-01 --to 2026-11-01 --format json -o results.json
    """
    from iso_social import pipeline
    from iso_social.cli import error_boundary
    from iso_social.errors import ConfigError
    from iso_social.policy import load_policies
    from iso_social.report import ReportFormat

    with error_boundary():
        if fmt not in ("table", "json"):
            raise ConfigError(
                "--format",
                f"'{fmt}' is not a check output format",
                hint="use --format table or --format json",
            )
        current = settings(db)
        loaded = load_policies(policies or [current.policies_dir])
        run = pipeline.run_check(
            loaded,
            db=current.db,
            start=parse_moment("--from", start),
            end=parse_moment("--to", end),
            as_of=parse_moment("--as-of", as_of),
        )
        comparison = pipeline.compare_with(current.db, run, compare) if compare else None
        color = fmt == "table" and output == "-" and sys.stdout.isatty()
        if comparison and fmt == "json":
            document = {**run.output_document(), "comparison": comparison}
            text = json.dumps(document, indent=2, ensure_ascii=False) + "\n"
            write_output(output, text.encode())
        else:
            rendered = pipeline.render_report(run, ReportFormat(fmt), current, color=color)
            write_output(output, rendered)
    print(
        f"{summary_line(run.document)}; run {run.run_id} recorded (digest {run.digest[:16]}…)",
        file=sys.stderr,
    )
    for warning in run.document.get("warnings", []):
        print(f"warning: {warning}", file=sys.stderr)
    if comparison:
        print(
            f"compared with run {comparison['reference_run_id']}: "
            f"{len(comparison['new'])} new ({', '.join(comparison['new']) or '-'}), "
            f"{len(comparison['persisting'])} persisting, "
            f"{len(comparison['resolved'])} resolved "
            f"({', '.join(comparison['resolved']) or '-'})",
            file=sys.stderr,
        )
    raise typer.Exit(exit_code_for(run.document, fail_on))
