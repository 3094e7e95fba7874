"""`iso-social policy`: validate, show and list what policies can use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from iso_social.cli._options import plural, settings

app = typer.Typer(help="Validate and inspect policy documents.", no_args_is_help=True)

PathsArg = Annotated[
    list[Path] | None,
    typer.Argument(
        metavar="PATH",
        help="Policy files or folders [default: the shipped policies/].",
        show_default=False,
    ),
]


def _policies_dir() -> list[Path]:
    """The configured policies folder; the shipped one, without loading the settings (a tenth
    of `policy validate`'s start-up), when neither its variable nor a settings file is there."""
    from iso_social.locations import may_be_configured, resource_dir

    if may_be_configured("policies_dir"):
        return [settings().policies_dir]
    return [resource_dir("policies")]


@app.command()
def validate(paths: PathsArg = None) -> None:
    """Validate policy files; errors name the file, line and field. Usable as a pre-commit hook.

    Example: iso-social policy validate policies/
    """
    from iso_social.cli import error_boundary
    from iso_social.policy import load_policies

    with error_boundary():
        policies = load_policies(paths or _policies_dir())
    controls = sum(len(p.controls) for p in policies)
    print(f"ok: {plural(len(policies), 'policy document')}, {plural(controls, 'control')}")


@app.command()
def show(paths: PathsArg = None) -> None:
    """Print each document's metadata and its controls with their parameters.

    Example: iso-social policy show policies/email.yaml
    """
    from iso_social.cli import error_boundary
    from iso_social.policy import load_policies

    with error_boundary():
        policies = load_policies(paths or _policies_dir())
    for policy in policies:
        d = policy.document
        print(f"{d.id} v{d.version} — {d.title}")
        print(f"  file {policy.path}  sha256 {policy.sha256}")
        print(
            f"  owner {d.owner}; approved by {d.approved_by} on {d.approved_on}; "
            f"effective from {d.effective_from}"
        )
        for control in policy.controls:
            s = control.spec
            params = json.dumps(control.params.model_dump(mode="json"), ensure_ascii=False)
            print(f"  - {s.id} [{s.type}, {s.severity}] {s.title}")
            print(
                f"      channels: {', '.join(s.channels) or 'all'}; clauses: "
                f"{'; '.join(s.clauses) or '-'}"
            )
            print(f"      params: {params}")


@app.command()
def types() -> None:
    """List the installed control types and what each measures.

    Example: iso-social policy types
    """
    from iso_social.controls import control_types

    for name, control_type in control_types().items():
        fields = ", ".join(control_type.params_model.model_fields)
        print(f"{name}: {control_type.summary}\n    params: {fields}")
