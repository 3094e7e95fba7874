"""`iso-social evidence`: inspect recorded runs."""

from __future__ import annotations

from typing import Annotated

import typer

from iso_social.cli._options import DbOpt, settings

app = typer.Typer(help="Inspect the recorded audit evidence.", no_args_is_help=True)


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
    from iso_social.evidence.ledger import list_runs as recorded_runs
    from iso_social.store.database import opened_engine

    with error_boundary(), opened_engine(settings(db).db) as engine:
        runs = recorded_runs(engine, limit)
    for run in runs:
        s = run.document["summary"]
        window = run.document["window"]
        print(
            f"{run.seq:>5}  {run.run_id}  {window['from']} → {window['to']}  "
            f"major {s['major_nonconformities']}  minor {s['minor_nonconformities']}  "
            f"obs {s['observations']}  {run.digest[:12]}"
        )
    if not runs:
        print("no recorded runs")
