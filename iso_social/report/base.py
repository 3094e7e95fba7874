"""The `Reporter` contract: one recorded run in, the bytes of one output file out."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Protocol, runtime_checkable

from iso_social.evidence.models import RecordedRun


@dataclass(frozen=True)
class ReportOptions:
    """What a reporter may need besides the run."""

    templates_dir: Path
    organisation: str = "Example Organisation"
    color: bool = False
    max_rows: int = 50


@runtime_checkable
class Reporter(Protocol):
    """Renders a recorded run in one output format."""

    name: ClassVar[str]
    suffix: ClassVar[str]

    def render(self, run: RecordedRun, options: ReportOptions) -> bytes:
        """The complete output for `run`."""
        ...
