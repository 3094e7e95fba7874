"""The nonconforming cases of a run as CSV, safe to open in a spreadsheet."""

from __future__ import annotations

from typing import ClassVar

from iso_social.evidence.export import evidence_csv
from iso_social.evidence.models import RecordedRun
from iso_social.report.base import ReportOptions


class CsvReporter:
    """One row per nonconforming case (formula-like cells neutralised)."""

    name: ClassVar[str] = "csv"
    suffix: ClassVar[str] = ".csv"

    def render(self, run: RecordedRun, options: ReportOptions) -> bytes:
        """The evidence CSV."""
        return evidence_csv(run)
