"""`iso-social report`: render a recorded run as an audit-evidence PDF or HTML page."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from iso_social.cli._options import DbOpt, settings, write_output


def report(
    output: Annotated[
        str,
        typer.Option(
            "--output", "-o", metavar="FILE", help="Output file (.pdf or .html), or - for stdout."
        ),
    ] = "audit-evidence.pdf",
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
    db: DbOpt = None,
) -> None:
    """Render a recorded check run as an audit-evidence report.

    Example: iso-social report --run latest --output audit.pdf
    """
    from iso_social import pipeline
    from iso_social.cli import error_boundary
    from iso_social.errors import ConfigError
    from iso_social.report import ReportFormat

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
        current = settings(db)
        recorded = pipeline.load_run(current.db, run)
        write_output(output, pipeline.render_report(recorded, ReportFormat(chosen), current))
    if output != "-":
        print(f"wrote {output} (run {recorded.run_id})", file=sys.stderr)
