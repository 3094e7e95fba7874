"""Options shared by several commands, and small parsing helpers."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from iso_social.errors import ConfigError

if TYPE_CHECKING:
    from iso_social.config import Settings

DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        metavar="URL",
        envvar="ISO_SOCIAL_DB",
        show_envvar=True,
        help="Database URL [default: sqlite:///iso_social.db].",
    ),
]

PoliciesOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--policies",
        "-p",
        metavar="PATH",
        envvar="ISO_SOCIAL_POLICIES",
        help="Policy file or folder (repeatable) [default: the shipped policies/].",
    ),
]


class FailOn(StrEnum):
    """The lowest grade that makes `check` exit 1."""

    major = "major"
    minor = "minor"
    observation = "observation"
    never = "never"


def settings(db: str | None = None) -> Settings:
    """Settings from the environment, with `--db` taking precedence."""
    from iso_social.config import load_settings

    current = load_settings()
    return current.model_copy(update={"db": db}) if db else current


def parse_moment(option: str, value: str | None) -> datetime | None:
    """Parse `2026-10-01` (midnight UTC) or an ISO 8601 timestamp (UTC if no offset)."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            option,
            f"'{value}' is not a date or timestamp",
            hint="write 2026-10-01 or 2026-10-01T09:00:00+02:00",
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def check_writable(option: str, output: str | Path | None) -> None:
    """Fail before any work is done when `output` cannot be written: a folder, or a file in a
    folder that does not exist."""
    if output is None or str(output) == "-":
        return
    path = Path(output)
    if path.is_dir():
        raise ConfigError(option, f"{path} is a folder", hint="give a file name")
    if not path.parent.is_dir():
        raise ConfigError(
            option, f"the folder {path.parent} does not exist", hint="create it first"
        )


def write_output(output: str, data: bytes) -> None:
    """Write to a file, or to stdout when `output` is `-`."""
    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    path = Path(output)
    if path.is_dir():
        raise ConfigError("--output", f"{path} is a folder", hint="give a file name")
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise ConfigError("--output", f"cannot write {path} ({exc.strerror})") from exc


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 control`, `2 controls`."""
    return f"{n} {word if n == 1 else (many or word + 's')}"
