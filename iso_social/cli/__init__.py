"""The `iso-social` command line: one Typer app, one module per command group.

Exit codes (documented in the README; they are API):
    0  no nonconformity at or above --fail-on
    1  the check finished and found nonconformities at or above --fail-on
    2  usage, policy, configuration or input error (with an `error:` line and a `hint:`)
    3  internal error (a bug: the traceback is printed without local variables)

Heavy libraries load inside the commands that need them, so `--help` stays fast.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from iso_social._version import __version__
from iso_social.errors import IsoSocialError, PolicyErrors

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERNAL = 0, 1, 2, 3

app = typer.Typer(
    name="iso-social",
    help="ISO 9001-style quality controls and audit evidence for customer service on every "
    "channel.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode=None,
)


def _print_error(message: str, hint: str | None) -> None:
    for line in message.splitlines() or [message]:
        print(f"error: {line}", file=sys.stderr)
    if hint:
        print(f"hint: {hint}", file=sys.stderr)


@contextmanager
def error_boundary() -> Iterator[None]:
    """Turn library errors into `error:`/`hint:` lines and exit codes 2 (user) or 3 (bug)."""
    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except PolicyErrors as exc:
        for error in exc.errors:
            _print_error(error.message, error.hint)
        raise typer.Exit(EXIT_ERROR) from None
    except IsoSocialError as exc:
        _print_error(exc.message, exc.hint)
        raise typer.Exit(EXIT_ERROR) from None
    except KeyboardInterrupt:
        print("interrupted: nothing was committed by the interrupted step", file=sys.stderr)
        raise typer.Exit(130) from None
    except Exception:
        print(
            "internal error: this is a bug in iso-social; please report it with the "
            "traceback below (it holds no local variables)",
            file=sys.stderr,
        )
        traceback.print_exc(file=sys.stderr)
        raise typer.Exit(EXIT_INTERNAL) from None


def _version(value: bool) -> None:
    if value:
        print(f"iso-social {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """ISO 9001-style quality controls and audit evidence for customer service."""


def _register() -> None:
    from iso_social.cli import (
        baseline,
        check,
        demo,
        evidence,
        generate,
        ingest,
        nc,
        policy,
        report,
        sample,
        schedule,
    )

    app.command(name="ingest")(ingest.ingest)
    app.command(name="check")(check.check)
    app.command(name="report")(report.report)
    app.command(name="demo")(demo.demo)
    app.command(name="generate")(generate.generate)
    app.add_typer(policy.app, name="policy")
    app.add_typer(evidence.app, name="evidence")
    app.add_typer(nc.app, name="nc")
    app.add_typer(sample.app, name="sample")
    app.add_typer(baseline.app, name="baseline")
    app.add_typer(schedule.app, name="schedule")


_register()
