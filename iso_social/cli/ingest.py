"""`iso-social ingest`: validate and store conversation logs."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from rich.progress import TaskID

from iso_social.cli._options import DbOpt, parse_moment, plural, settings
from iso_social.cli._progress import shows_progress

MAX_LISTED_REJECTIONS = 20


@contextmanager
def progress_bar(*, enabled: bool) -> Iterator[Callable[[str, int], None] | None]:
    """A progress bar on stderr, a file's bytes read, when `enabled` (`shows_progress`: a
    person at a terminal; nothing in CI, when piped or with `--quiet`)."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        transient=True,
        console=Console(stderr=True),
    )
    tasks: dict[str, TaskID] = {}

    def update(path: str, done: int) -> None:
        if path not in tasks:
            size = Path(path).stat().st_size if Path(path).exists() else None
            tasks[path] = bar.add_task(Path(path).name, total=size)
        bar.update(tasks[path], completed=done)

    with bar:
        yield update


# the built-in formats' names, written out so that the CLI starts without importing every
# parser; tests/cli/test_cli.py checks them against the registry
FORMAT_NAMES = (
    "jsonl",
    "csv",
    "twcs",
    "callcenter-csv",
    "asterisk-cdr",
    "tweets-csv",
    "mbox",
    "eml",
    "zendesk",
    "irc",
    "twitter-v2",
    "x-archive",
)


def ingest(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Log files or folders to ingest.", show_default=False, metavar="PATH"),
    ],
    fmt: Annotated[
        str,
        typer.Option(
            "--format",
            "-F",
            metavar="FORMAT",
            envvar="ISO_SOCIAL_FORMAT",
            help="Log format: auto (sniffed from the content) or one of: "
            + ", ".join(FORMAT_NAMES)
            + ".",
        ),
    ] = "auto",
    db: DbOpt = None,
    assume_tz: Annotated[
        str | None,
        typer.Option(
            "--assume-tz",
            metavar="ZONE",
            help="Time zone for timestamps without an offset (e.g. Europe/Madrid); without it "
            "they are rejected.",
        ),
    ] = None,
    day: Annotated[
        str | None,
        typer.Option(
            "--date",
            metavar="DATE",
            help="The day a log of times-of-day covers (callcenter-csv), e.g. 1999-08-01.",
        ),
    ] = None,
    brand: Annotated[
        list[str] | None,
        typer.Option(
            "--brand",
            metavar="HANDLE",
            help="The brand's account on tweet exports without reply links (repeatable).",
        ),
    ] = None,
    support: Annotated[
        list[str] | None,
        typer.Option(
            "--support",
            metavar="ADDRESS",
            help="The support team's e-mail address, or domain as @example.com (repeatable): "
            "their messages are outbound.",
        ),
    ] = None,
    agent: Annotated[
        list[str] | None,
        typer.Option("--agent", metavar="NICK", help="A support agent's chat nick (repeatable)."),
    ] = None,
    bot: Annotated[
        list[str] | None,
        typer.Option("--bot", metavar="NICK", help="A bot's chat nick (repeatable)."),
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            metavar="FILE",
            help="A YAML file mapping the columns of another CSV layout to canonical fields.",
        ),
    ] = None,
    pseudonymise: Annotated[
        bool,
        typer.Option(
            "--pseudonymise",
            help="Replace customers' handles and addresses by keyed hashes "
            "(key in ISO_SOCIAL_PSEUDONYM_KEY).",
        ),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar.")] = False,
    gap: Annotated[
        str,
        typer.Option(
            "--gap",
            metavar="DURATION",
            help="Inactivity that splits a customer's tweets into conversations (tweets-csv).",
        ),
    ] = "48h",
    strict: Annotated[
        bool,
        typer.Option(
            "--strict", help="Fail the whole ingest, storing nothing, on the first bad record."
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Validate every record of the log files and store it; re-ingesting stores nothing twice.

    Bad records are kept in the database with their line and reason and listed in the summary;
    the whole ingest is one transaction.

    Example: iso-social ingest logs/october.jsonl --db sqlite:///audit.db
    """
    from iso_social import pipeline
    from iso_social.cli import error_boundary
    from iso_social.clock import parse_duration
    from iso_social.errors import ConfigError

    with error_boundary(), progress_bar(enabled=shows_progress(quiet=quiet)) as progress:
        moment = parse_moment("--date", day)
        on_day = moment.date() if moment else None
        try:
            split_after = parse_duration(gap)
        except ValueError as exc:
            raise ConfigError("--gap", str(exc)) from None
        summary = pipeline.ingest_logs(
            paths,
            db=settings(db).db,
            fmt=fmt,
            assume_tz=assume_tz,
            strict=strict,
            day=on_day,
            brands=brand or (),
            support=support or (),
            agents=agent or (),
            bots=bot or (),
            mapping=mapping,
            pseudonymise=pseudonymise,
            progress=progress,
            gap=split_after,
        )
    files: list[dict[str, Any]] = [
        {
            "path": f.path,
            "format": f.format,
            "sha256": f.sha256,
            "size": f.size,
            "records_read": f.records_read,
            "messages_stored": f.messages_stored,
            "other_records_stored": f.other_stored,
            "duplicates": f.duplicates,
            "conflicts": f.conflicts,
            "rejected": f.rejected_count,
            "conversations": f.conversations,
            "rejections": [{"line": r.line, "reason": r.reason} for r in f.rejected],
        }
        for f in summary.files
    ]
    totals = {
        name: summary.total(attr)
        for name, attr in (
            ("records_read", "records_read"),
            ("messages_stored", "messages_stored"),
            ("other_records_stored", "other_stored"),
            ("duplicates", "duplicates"),
            ("conflicts", "conflicts"),
            ("rejected", "rejected_count"),
            ("conversations", "conversations"),
        )
    }
    if as_json:
        print(json.dumps({**totals, "files": files}, indent=2))
        return
    for f in summary.files:
        print(
            f"{f.path} ({f.format}): {plural(f.records_read, 'record')} read, "
            f"{f.messages_stored} messages and {f.other_stored} other records stored, "
            f"{plural(f.duplicates, 'duplicate')} skipped, {f.rejected_count} rejected, "
            f"{plural(f.conversations, 'conversation')}"
        )
        for r in f.rejected[:MAX_LISTED_REJECTIONS]:
            print(f"  {f.path}:{r.line}: {r.reason}")
        if f.rejected_count > MAX_LISTED_REJECTIONS:
            print(
                f"  … and {f.rejected_count - MAX_LISTED_REJECTIONS} more rejected records "
                "(see --json; all are kept in the database's reject table)"
            )
    if len(summary.files) > 1:
        print(
            f"total: {totals['records_read']} records read, {totals['messages_stored']} "
            f"messages stored, {totals['duplicates']} duplicates, {totals['rejected']} "
            "rejected",
            file=sys.stderr,
        )
