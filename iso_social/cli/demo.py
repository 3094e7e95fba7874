"""`iso-social demo`: a complete audit on generated data, start to finish."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from iso_social.cli._options import plural, settings


def demo(
    directory: Annotated[
        Path, typer.Option("--dir", "-d", metavar="DIR", help="Folder for the demo's files.")
    ] = Path("iso-social-demo"),
    seed: Annotated[
        int, typer.Option(metavar="N", help="Random seed; the same seed gives the same data.")
    ] = 7,
    messages: Annotated[
        int, typer.Option(metavar="N", min=10, help="How many messages to generate.")
    ] = 3000,
) -> None:
    """Generate sample logs (Twitter, e-mail, phone; English and Spanish, with seeded breaches),
    ingest them into a fresh SQLite database, check them against the shipped policies and write
    the audit-evidence PDF.

    Example: iso-social demo --dir iso-social-demo
    """
    from iso_social import pipeline
    from iso_social.cli import error_boundary
    from iso_social.cli.check import summary_line

    with error_boundary():
        result = pipeline.run_demo(directory, settings(), seed=seed, messages=messages)
    ingest = result.ingest
    print(
        f"logs:     {result.log_file}  ({ingest.total('records_read')} records, "
        f"{plural(ingest.total('conversations'), 'conversation')})"
    )
    print(f"database: {result.database}")
    print(f"check:    {summary_line(result.run.document)}")
    print(f"results:  {result.json_file}")
    print(f"report:   {result.report}")
    print(
        "next:     iso-social check --db sqlite:///"
        f"{result.database} --from 2026-10-01 --to 2026-11-01"
    )
