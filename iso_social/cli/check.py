"""`iso-social check`: evaluate every control, record the run, report and set the exit code."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from iso_social.cli._options import (
    DbOpt,
    FailOn,
    PoliciesOpt,
    check_writable,
    parse_moment,
    plural,
    settings,
    write_output,
)
from iso_social.cli._progress import shows_progress, step_display

_GRAVITY = {FailOn.major: 3, FailOn.minor: 2, FailOn.observation: 1, FailOn.never: 99}


def exit_code_for(
    document: dict[str, Any], fail_on: FailOn, considered: list[dict[str, Any]] | None = None
) -> int:
    """1 when a nonconformity at or above `fail_on` is among those considered (all of them, or
    those not in the baseline), else 0."""
    if considered is None:
        considered = document["nonconformities"]
    gravity = {"observation": 1, "minor": 2, "major": 3}
    worst = max((gravity[nc["grade"]] for nc in considered), default=0)
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
    policies: PoliciesOpt = None,
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
            metavar="FORMAT",
            envvar="ISO_SOCIAL_FORMAT",
            help="Output: table, json, junit, markdown, csv (the nonconforming cases) or "
            "oscal (OSCAL assessment-results JSON).",
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
    output_json: Annotated[
        Path | None, typer.Option("--output-json", metavar="FILE", help="Also write JSON.")
    ] = None,
    output_junit: Annotated[
        Path | None, typer.Option("--output-junit", metavar="FILE", help="Also write JUnit XML.")
    ] = None,
    output_markdown: Annotated[
        Path | None,
        typer.Option("--output-markdown", metavar="FILE", help="Also write Markdown."),
    ] = None,
    output_csv: Annotated[
        Path | None,
        typer.Option("--output-csv", metavar="FILE", help="Also write the cases as CSV."),
    ] = None,
    output_oscal: Annotated[
        Path | None,
        typer.Option(
            "--output-oscal", metavar="FILE", help="Also write OSCAL assessment-results JSON."
        ),
    ] = None,
    baseline: Annotated[
        Path | None,
        typer.Option(
            "--baseline",
            metavar="FILE",
            envvar="ISO_SOCIAL_BASELINE",
            help="Fail only on nonconformities not in this baseline (or graver than there).",
        ),
    ] = None,
    compare: Annotated[
        str | None,
        typer.Option(
            "--compare",
            metavar="RUN",
            help="List new, persisting and resolved nonconformities "
            "against this run (latest-1 is the run before this one).",
        ),
    ] = None,
    rescan: Annotated[
        bool,
        typer.Option(
            "--rescan",
            help="Read every message's text again rather than what earlier checks kept of it "
            "(and keep what is found): to re-perform the personal-data and hand-off scans.",
        ),
    ] = False,
    fail_on: Annotated[
        FailOn,
        typer.Option(
            "--fail-on",
            envvar="ISO_SOCIAL_FAIL_ON",
            case_sensitive=False,
            help="Exit 1 when a nonconformity of this grade or graver is found.",
        ),
    ] = FailOn.major,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
) -> None:
    """Run every control of the policies over the audit window and record the run.

    Results go to stdout (or --output), the summary to stderr. Exit code 0: nothing at or above
    --fail-on; 1: nonconformities at or above it; 2: usage, policy or input error.

    Example: iso-social check --from 2026-10-01 --to 2026-11-01 --format json -o results.json
    """
    from iso_social import pipeline
    from iso_social.cli import error_boundary
    from iso_social.errors import ConfigError
    from iso_social.evidence.baseline import load_baseline, new_nonconformities
    from iso_social.policy import load_policies

    with error_boundary():
        if fmt not in CHECK_FORMATS:
            raise ConfigError(
                "--format",
                f"'{fmt}' is not a check output format",
                hint=f"use one of: {', '.join(CHECK_FORMATS)}",
            )
        current = settings(db)
        accepted = load_baseline(baseline) if baseline else None
        for option, path in (
            ("--output", output),
            ("--output-json", output_json),
            ("--output-junit", output_junit),
            ("--output-markdown", output_markdown),
            ("--output-csv", output_csv),
            ("--output-oscal", output_oscal),
        ):
            check_writable(option, path)
        if compare:
            pipeline.check_comparable(current.db, compare)
        with step_display(enabled=shows_progress(quiet=quiet)) as progress:
            run = pipeline.run_check(
                load_policies(policies or [current.policies_dir]),
                db=current.db,
                start=parse_moment("--from", start),
                end=parse_moment("--to", end),
                as_of=parse_moment("--as-of", as_of),
                workers=current.check_workers,
                rescan=rescan,
                progress=progress,
            )
        comparison = pipeline.compare_with(current.db, run, compare) if compare else None
        color = fmt == "table" and output == "-" and sys.stdout.isatty()
        write_output(output, _render(run, fmt, current, comparison, color))
        extra = {
            "json": output_json,
            "junit": output_junit,
            "markdown": output_markdown,
            "csv": output_csv,
            "oscal": output_oscal,
        }
        for name, path in extra.items():
            if path is not None:
                write_output(str(path), _render(run, name, current, comparison, False))
    considered = new_nonconformities(run, accepted) if accepted is not None else None
    _report_to_stderr(run, comparison, considered)
    raise typer.Exit(exit_code_for(run.document, fail_on, considered))


CHECK_FORMATS = ("table", "json", "junit", "markdown", "csv", "oscal")


def _render(
    run: Any, fmt: str, current: Any, comparison: dict[str, Any] | None, color: bool
) -> bytes:
    from iso_social import pipeline
    from iso_social.report import ReportFormat

    if comparison and fmt == "json":
        document = {**run.output_document(), "comparison": comparison}
        return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()
    return pipeline.render_report(run, ReportFormat(fmt), current, color=color)


def _report_to_stderr(
    run: Any, comparison: dict[str, Any] | None, considered: list[dict[str, Any]] | None
) -> None:
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
    if considered is not None:
        known = len(run.document["nonconformities"]) - len(considered)
        print(
            f"baseline: {known} nonconformities are in the baseline; "
            f"{len(considered)} new or graver",
            file=sys.stderr,
        )
