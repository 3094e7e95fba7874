"""`iso-social sample`: audit samples of a control's population, and reviewers' verdicts."""

from __future__ import annotations

from typing import Annotated

import typer

from iso_social.cli._options import DbOpt, settings

app = typer.Typer(
    help="Draw audit samples (ISO 19011) and record manual verdicts.", invoke_without_command=True
)


@app.callback()
def sample(
    ctx: typer.Context,
    control: Annotated[
        str | None, typer.Option(metavar="ID", help="The control to sample.")
    ] = None,
    run: Annotated[
        str, typer.Option(metavar="RUN", help="latest, latest-N or a run id.")
    ] = "latest",
    confidence: Annotated[float, typer.Option(metavar="P", min=0.5, max=0.999)] = 0.95,
    tolerable_error: Annotated[float, typer.Option(metavar="P", min=0.001, max=0.5)] = 0.05,
    expected_deviations: Annotated[int, typer.Option(metavar="N", min=0)] = 0,
    seed: Annotated[
        int | None, typer.Option(metavar="N", help="[default: derived from the run's digest]")
    ] = None,
    db: DbOpt = None,
) -> None:
    """Size (attribute sampling) and draw a reproducible random sample of a control's population
    in a run; 59 items at 95% confidence and 5% tolerable error.

    Example: iso-social sample --control TW-FRT-01 --confidence 0.95 --tolerable-error 0.05
    """
    if ctx.invoked_subcommand is not None:
        return
    from iso_social import pipeline
    from iso_social.cli import error_boundary
    from iso_social.errors import ConfigError

    with error_boundary():
        if control is None:
            raise ConfigError(
                "--control",
                "which control to sample?",
                hint="pass --control ID, e.g. --control TW-FRT-01",
            )
        drawn = pipeline.draw_sample(
            settings(db).db,
            control,
            reference=run,
            confidence=confidence,
            tolerable_error=tolerable_error,
            expected_deviations=expected_deviations,
            seed=seed,
        )
    print(
        f"sample {drawn.id}: {drawn.size} of {drawn.population} items of {drawn.control_id} "
        f"in run {drawn.run_id} ({drawn.method}, confidence {drawn.confidence:.0%}, "
        f"tolerable error {drawn.tolerable_error:.0%}, seed {drawn.seed})"
    )
    for item in drawn.items:
        print(f"  {item}")


@app.command()
def record(
    sample_id: Annotated[str, typer.Option("--sample", metavar="ID")],
    item: Annotated[str, typer.Option(metavar="ID", help="A conversation or call id.")],
    verdict: Annotated[str, typer.Option(metavar="conforms|nonconforming")],
    reviewer: Annotated[str, typer.Option(metavar="NAME", envvar="ISO_SOCIAL_USER")],
    note: Annotated[str, typer.Option(metavar="TEXT")] = "",
    db: DbOpt = None,
) -> None:
    """Record a reviewer's manual verdict on one sampled item, kept as evidence.

    Example: iso-social sample record --sample S1-PH-SL-01-1 --item c1 --verdict conforms --reviewer Ana
    """
    from iso_social import pipeline
    from iso_social.cli import error_boundary

    with error_boundary():
        pipeline.record_sample_review(settings(db).db, sample_id, item, verdict, reviewer, note)
    print(f"{sample_id}: {item} recorded as {verdict}")


@app.command()
def show(sample_id: Annotated[str, typer.Argument(metavar="SAMPLE_ID")], db: DbOpt = None) -> None:
    """Show a sample's plan, its items and the verdicts recorded so far.

    Example: iso-social sample show S1-TW-FRT-01-1
    """
    from iso_social import pipeline
    from iso_social.cli import error_boundary

    with error_boundary():
        drawn = pipeline.show_sample(settings(db).db, sample_id)
    done = len(drawn.reviews)
    print(
        f"sample {drawn.id} of {drawn.control_id} in run {drawn.run_id}: {drawn.size} of "
        f"{drawn.population} items, {done} reviewed"
    )
    for item in drawn.items:
        review = drawn.reviews.get(item)
        print(
            f"  {item:32s} "
            + (f"{review.verdict} by {review.reviewer}" if review else "not reviewed")
        )
