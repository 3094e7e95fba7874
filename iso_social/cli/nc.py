"""`iso-social nc`: the nonconformity register and its corrective-action lifecycle."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated

import typer

from iso_social.cli._options import DbOpt, settings

app = typer.Typer(help="The nonconformity register (ISO 9001 §10.2).", no_args_is_help=True)

ActorOpt = Annotated[
    str,
    typer.Option(
        "--by",
        metavar="NAME",
        envvar="ISO_SOCIAL_USER",
        help="Who makes the change (kept in the history).",
    ),
]


@app.command(name="list")
def list_ncs(
    db: DbOpt = None,
    status: Annotated[str | None, typer.Option(metavar="STATUS", help="Only this status.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """List nonconformities: id, control, grade, status, when seen, owner, due date.

    Example: iso-social nc list --status open
    """
    from iso_social import pipeline
    from iso_social.cli import error_boundary

    with error_boundary():
        items = pipeline.list_nonconformities(settings(db).db, status)
    if as_json:
        print(
            json.dumps(
                [
                    {
                        **{
                            k: getattr(n, k)
                            for k in (
                                "id",
                                "control_id",
                                "grade",
                                "first_seen_run",
                                "last_seen_run",
                                "owner",
                                "due_date",
                                "conforming_runs",
                                "repeat_count",
                            )
                        },
                        "status": n.status.value,
                    }
                    for n in items
                ],
                indent=2,
            )
        )
        return
    for n in items:
        repeat = f"  REPEAT x{n.repeat_count}" if n.repeat_count else ""
        print(
            f"{n.id:24s} {n.grade:11s} {n.status.value:15s} first {n.first_seen_run}  "
            f"last {n.last_seen_run}  owner {n.owner or '-'}  due {n.due_date or '-'}{repeat}"
        )
    if not items:
        print("no nonconformities")


@app.command()
def show(nc_id: Annotated[str, typer.Argument(metavar="NC_ID")], db: DbOpt = None) -> None:
    """Show a nonconformity in full, with its history.

    Example: iso-social nc show NC-TW-FRT-01
    """
    from iso_social import pipeline
    from iso_social.cli import error_boundary

    with error_boundary():
        nc, events = pipeline.show_nonconformity(settings(db).db, nc_id)
    rows = [
        ("Control", nc.control_id),
        ("Policy", nc.policy_id),
        ("Grade", nc.grade),
        ("Status", nc.status.value + ("  (repeat)" if nc.is_repeat else "")),
        ("Statement", nc.statement),
        ("First seen", nc.first_seen_run),
        ("Last seen", nc.last_seen_run),
        ("Owner", nc.owner),
        ("Due", nc.due_date),
        ("Correction", nc.correction),
        ("Root cause", nc.root_cause),
        ("Corrective action", nc.corrective_action),
        ("Effectiveness criteria", nc.effectiveness_criteria),
        ("Effectiveness", f"{nc.conforming_runs} of {nc.effectiveness_runs} conforming runs"),
    ]
    print(nc.id)
    for label, value in rows:
        print(f"  {label + ':':24s}{value or '-'}")
    print("  History:")
    for e in events:
        print(
            f"    {e.at:%Y-%m-%d %H:%M}  {e.actor:16s} {e.event}: {e.detail}"
            + (f"  (run {e.run_id})" if e.run_id else "")
        )


@app.command(name="update")
def update_nc(
    nc_id: Annotated[str, typer.Argument(metavar="NC_ID")],
    actor: ActorOpt,
    owner: Annotated[str | None, typer.Option(metavar="NAME")] = None,
    due: Annotated[str | None, typer.Option(metavar="DATE", help="Due date, 2026-12-15.")] = None,
    correction: Annotated[
        str | None, typer.Option(metavar="TEXT", help="The immediate correction.")
    ] = None,
    root_cause: Annotated[str | None, typer.Option(metavar="TEXT")] = None,
    action: Annotated[
        str | None, typer.Option(metavar="TEXT", help="The corrective action.")
    ] = None,
    criteria: Annotated[
        str | None, typer.Option(metavar="TEXT", help="Effectiveness criteria.")
    ] = None,
    status: Annotated[
        str | None,
        typer.Option(
            metavar="STATUS", help="action_planned (needs root cause and action) or action_taken."
        ),
    ] = None,
    db: DbOpt = None,
) -> None:
    """Record the owner, due date, correction, root cause, corrective action or effectiveness
    criteria, and move the status to action_planned or action_taken.

    Example: iso-social nc update NC-TW-FRT-01 --by "Q. Manager" --owner "Social team lead"
    """
    from iso_social import pipeline
    from iso_social.cli import error_boundary
    from iso_social.errors import ConfigError
    from iso_social.evidence.register import NcStatus

    with error_boundary():
        try:
            due_date = date.fromisoformat(due) if due else None
            new_status = NcStatus(status) if status else None
        except ValueError as exc:
            raise ConfigError(
                "--due/--status",
                str(exc),
                hint="--due takes 2026-12-15; --status takes action_planned or action_taken",
            ) from None
        nc = pipeline.update_nonconformity(
            settings(db).db,
            nc_id,
            actor,
            status=new_status,
            due_date=due_date,
            owner=owner,
            correction=correction,
            root_cause=root_cause,
            corrective_action=action,
            effectiveness_criteria=criteria,
        )
    print(f"{nc.id}: {nc.status.value}")


@app.command()
def close(
    nc_id: Annotated[str, typer.Argument(metavar="NC_ID")],
    actor: ActorOpt,
    note: Annotated[str, typer.Option(metavar="TEXT", help="Sign-off note.")] = "",
    db: DbOpt = None,
) -> None:
    """Close a nonconformity once the control has conformed in the runs its policy requires
    since the corrective action was taken (the effectiveness check).

    Example: iso-social nc close NC-TW-FRT-01 --by "Q. Manager"
    """
    from iso_social import pipeline
    from iso_social.cli import error_boundary

    with error_boundary():
        nc = pipeline.close_nonconformity(settings(db).db, nc_id, actor, note)
    closed = nc.closed_at or datetime.now().astimezone()
    print(f"{nc.id}: closed on {closed:%Y-%m-%d}")
