"""`iso-social report`: render a recorded run as an audit-evidence PDF or HTML page."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from iso_social.cli._options import DbOpt, parse_moment, plural, settings, write_output
from iso_social.cli._progress import shows_progress, step_display


def report(
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            help="Output file (.pdf or .html), or - for stdout [default: audit-evidence.pdf, "
            "nonconformity-report.pdf or management-review.pdf, by --kind].",
        ),
    ] = None,
    run: Annotated[
        str, typer.Option("--run", "-r", metavar="RUN", help="latest, latest-N or a run id.")
    ] = "latest",
    fmt: Annotated[
        str | None,
        typer.Option(
            "--format",
            "-f",
            metavar="pdf|html",
            help="pdf or html [default: from the output's suffix, else pdf].",
        ),
    ] = None,
    kind: Annotated[
        str,
        typer.Option(
            "--kind",
            "-k",
            metavar="KIND",
            help="evidence-pack (the run's audit evidence), nonconformity (one report per "
            "nonconformity, with its corrective action and sign-off fields) or "
            "management-review (ISO 9001 9.3.2 inputs over the runs of a period).",
        ),
    ] = "evidence-pack",
    nc: Annotated[
        list[str] | None,
        typer.Option(
            "--nc",
            metavar="ID",
            help="With --kind nonconformity: this nonconformity (repeatable) "
            "[default: every one the run raised].",
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="DATE",
            help="With --kind management-review: runs whose audit window ends after this.",
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(
            "--to",
            metavar="DATE",
            help="With --kind management-review: runs whose audit window ends by this.",
        ),
    ] = None,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            metavar="en|es",
            help="Language of the report [default: the report_lang setting, else en].",
        ),
    ] = None,
    db: DbOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress display.")] = False,
) -> None:
    """Render a recorded check run as an audit-evidence report.

    Example: iso-social report --run latest --output audit.pdf

    Example: iso-social report --kind nonconformity --nc NC-TW-FRT-01 --output ncr.pdf

    Example: iso-social report --kind management-review --from 2026-07-01 --to 2026-10-01

    Example: iso-social report --lang es --output evidencias.pdf
    """
    from iso_social import pipeline
    from iso_social.cli import error_boundary
    from iso_social.errors import ConfigError
    from iso_social.i18n import LANGUAGES
    from iso_social.report import ReportFormat

    output = output or {
        "nonconformity": "nonconformity-report.pdf",
        "management-review": "management-review.pdf",
    }.get(kind, "audit-evidence.pdf")
    with error_boundary():
        suffix = Path(output).suffix.lower()
        if fmt is None and output != "-" and suffix not in (".pdf", ".html", ".htm"):
            raise ConfigError(
                "--output",
                f"cannot tell the report format from '{suffix or output}'",
                hint="name the file .pdf or .html, or pass --format pdf|html",
            )
        chosen = fmt or ("html" if suffix in (".html", ".htm") else "pdf")
        if chosen not in ("pdf", "html"):
            raise ConfigError(
                "--format",
                f"'{chosen}' is not a report format",
                hint="use --format pdf or --format html",
            )
        if kind not in KINDS:
            raise ConfigError(
                "--kind", f"'{kind}' is not a report kind", hint=f"use one of: {', '.join(KINDS)}"
            )
        current = settings(db)
        if lang is not None:
            if lang not in LANGUAGES:
                raise ConfigError(
                    "--lang",
                    f"'{lang}' is not a report language",
                    hint=f"use {' or '.join(LANGUAGES)}",
                )
            current = current.model_copy(update={"report_lang": lang})
        # a long pack of a large run takes a minute or more to lay out
        shown = shows_progress(quiet=quiet)
        with step_display(enabled=shown, first=f"rendering the {TITLES[kind]}"):
            if kind == "management-review":
                data, count = pipeline.render_management_review(
                    current.db,
                    chosen,
                    current,
                    start=parse_moment("--from", start),
                    end=parse_moment("--to", end),
                )
                what = f"management review input over {plural(count, 'run')}"
            elif kind == "nonconformity":
                data, recorded, ids = pipeline.render_nonconformity_report(
                    current.db, run, nc or [], chosen, current
                )
                what = f"nonconformities {', '.join(ids)} of run {recorded.run_id}"
            else:
                data, recorded = pipeline.render_evidence_pack(
                    current.db, run, ReportFormat(chosen), current
                )
                what = f"run {recorded.run_id}"
        write_output(output, data)
    if output != "-":
        print(f"wrote {output} ({what})", file=sys.stderr)


KINDS = ("evidence-pack", "nonconformity", "management-review")
TITLES = {
    "evidence-pack": "evidence pack",
    "nonconformity": "nonconformity report",
    "management-review": "management review",
}
