"""What a command shows of its advance on stderr while a person waits at a terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the CLI starts without importing the check
    from iso_social.check import CheckProgress


def shows_progress(*, quiet: bool) -> bool:
    """Whether a command draws its progress on stderr: for a person at a terminal, not with
    `--quiet`, in CI (`CI=true`) or when stderr goes to a file or a pipe."""
    return not quiet and sys.stderr.isatty() and os.environ.get("CI", "").lower() != "true"


@contextmanager
def step_display(*, enabled: bool, first: str = "starting") -> Iterator[CheckProgress | None]:
    """A command's steps on stderr as it goes (`first` until told otherwise), told as a check
    tells them (`check.CheckProgress`): the step, its parts done of how many when it counts
    them, the time so far; gone when the command ends. Nothing when not `enabled`
    (`shows_progress`)."""
    if not enabled:
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    display = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[parts]}"),
        TimeElapsedColumn(),
        transient=True,
        console=Console(stderr=True),
    )
    task = display.add_task(first, total=None, parts="")

    def update(step: str, done: int, total: int) -> None:
        display.update(
            task,
            description=step,
            completed=done,
            total=total or None,  # None: a step whose parts are not counted (a pulsing bar)
            parts=f"{done}/{total}" if total else "",
        )

    with display:
        yield update
