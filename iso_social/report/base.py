"""The `Reporter` contract: one recorded run in, the bytes of one output file out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

from iso_social.config import ACCENT_COLOUR, PRIMARY_COLOUR
from iso_social.evidence.models import RecordedRun


@dataclass(frozen=True)
class TrendPoint:
    """One earlier (or this) run as the evidence pack's trend shows it."""

    seq: int
    run_id: str
    window_to: str  # ISO 8601
    verdicts: Mapping[str, str]  # control id -> verdict


@dataclass(frozen=True)
class PackContext:
    """What the evidence pack shows besides the run, read from the store when it is rendered:
    the trend of earlier runs, the text of the messages behind the cases shown (masked by the
    report), the samples drawn from the run and each nonconformity's state in the register."""

    history: Sequence[TrendPoint] = ()  # oldest first, ending with the run itself
    texts: Mapping[str, str] = field(default_factory=dict)  # message id -> raw text ("" purged)
    samples: Sequence[Mapping[str, Any]] = ()  # as `samples_of_run` gives them
    register: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # nc id -> state
    register_as_of: str = ""  # ISO 8601


@dataclass(frozen=True)
class Branding:
    """The organisation's look on reports: a logo (a local SVG, PNG or JPEG) and two colours."""

    logo: Path | None = None
    primary_colour: str = PRIMARY_COLOUR
    accent_colour: str = ACCENT_COLOUR


@dataclass(frozen=True)
class ReportOptions:
    """What a reporter may need besides the run."""

    templates_dir: Path
    organisation: str = "Example Organisation"
    color: bool = False
    max_rows: int = 50
    lang: str = "en"
    branding: Branding = field(default_factory=Branding)
    user_templates_dir: Path | None = None  # files here replace the shipped ones of that name
    pack: PackContext = field(default_factory=PackContext)


@runtime_checkable
class Reporter(Protocol):
    """Renders a recorded run in one output format."""

    name: ClassVar[str]
    suffix: ClassVar[str]

    def render(self, run: RecordedRun, options: ReportOptions) -> bytes:
        """The complete output for `run`."""
        ...
