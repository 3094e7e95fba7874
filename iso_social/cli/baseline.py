"""`iso-social baseline`: accept the current nonconformities so CI fails only on new ones."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from iso_social.cli._options import DbOpt, settings, write_output

app = typer.Typer(help="Baselines for CI: fail only on new nonconformities.", no_args_is_help=True)


@app.command()
def write(
    output: Annotated[
        str, typer.Option("--output", "-o", metavar="FILE", help="Baseline file, or - for stdout.")
    ] = "iso-social-baseline.json",
    run: Annotated[
        str, typer.Option("--run", "-r", metavar="RUN", help="latest, latest-N or a run id.")
    ] = "latest",
    db: DbOpt = None,
) -> None:
    """Write the nonconformities of a recorded run as a baseline for `check --baseline`.

    Example: iso-social baseline write --run latest --output iso-social-baseline.json
    """
    from iso_social import pipeline
    from iso_social.cli import error_boundary
    from iso_social.evidence.baseline import baseline_document

    with error_boundary():
        document = baseline_document(pipeline.load_run(settings(db).db, run))
        write_output(output, (json.dumps(document, indent=2) + "\n").encode())
    print(
        f"baseline of run {document['run_id']}: {len(document['nonconformities'])} nonconformities",
        file=sys.stderr,
    )
