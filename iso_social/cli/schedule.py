"""`iso-social schedule`: run the checks declared in policy documents on their schedules."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from iso_social.cli._options import DbOpt, PoliciesOpt, settings

if TYPE_CHECKING:
    from iso_social.service import ServiceSettings

ConfigOpt = Annotated[
    Path | None,
    typer.Option(
        "--config",
        metavar="FILE",
        envvar="ISO_SOCIAL_CONFIG",
        help="Service settings (YAML): notifications and drop folders; see docs/scheduling.md.",
    ),
]


def _service(config: Path | None) -> ServiceSettings | None:
    from iso_social.service import load_service_settings

    return load_service_settings(config) if config is not None else None


app = typer.Typer(
    help="Checks on a schedule (cron or intervals declared in policy documents).",
    no_args_is_help=True,
)


@app.command()
def run(
    policies: PoliciesOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
    wait: Annotated[
        bool,
        typer.Option("--wait", help="If another scheduler holds this database, wait to take over."),
    ] = False,
) -> None:
    """Run the scheduler in the foreground until SIGTERM or Ctrl-C, which let the check in
    flight finish. Only one scheduler may act on a database.

    With --config, also watches drop folders and sends notifications (new major
    nonconformities, cases whose deadline is coming due).

    Example: iso-social schedule run --db sqlite:///audit.db --policies policies/
    """
    from iso_social import schedule
    from iso_social.cli import error_boundary

    current = settings(db)
    schedule.configure_logging()
    with error_boundary():
        schedule.run_service(
            current.db,
            policies or [current.policies_dir],
            wait=wait,
            settings=_service(config),
        )


@app.command(name="list")
def list_jobs(policies: PoliciesOpt = None, config: ConfigOpt = None) -> None:
    """List the scheduled jobs and when each would run next.

    Example: iso-social schedule list --policies policies/
    """
    from iso_social import schedule
    from iso_social.cli import error_boundary
    from iso_social.policy import load_policies

    current = settings()
    with error_boundary():
        jobs = schedule.next_runs(
            load_policies(policies or [current.policies_dir]), _service(config)
        )
    for job_id, when, described in jobs:
        at = f"{when:%Y-%m-%d %H:%M:%S %Z}" if when else "never"
        print(f"{job_id:28s} next {at}  {described}")
    if not jobs:
        print("no policy document declares a schedule, and no drop folder is configured")


@app.command(name="run-once")
def run_once(
    job: Annotated[str, typer.Argument(metavar="JOB")],
    policies: PoliciesOpt = None,
    db: DbOpt = None,
    config: ConfigOpt = None,
) -> None:
    """Run one scheduled job now, in the foreground.

    Example: iso-social schedule run-once check:POL-CS-01
    """
    from iso_social import schedule
    from iso_social.cli import error_boundary
    from iso_social.policy import load_policies

    current = settings(db)
    schedule.configure_logging()
    with error_boundary():
        schedule.run_once(
            current.db,
            load_policies(policies or [current.policies_dir]),
            job,
            _service(config),
        )
