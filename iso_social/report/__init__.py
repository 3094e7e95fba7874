"""Reporters: a closed set in v1, keyed by `ReportFormat`."""

from __future__ import annotations

from enum import StrEnum

from iso_social.report.base import Reporter, ReportOptions
from iso_social.report.console import TableReporter
from iso_social.report.csv import CsvReporter
from iso_social.report.html import HtmlReporter
from iso_social.report.json import JsonReporter
from iso_social.report.junit import JUnitReporter
from iso_social.report.markdown import MarkdownReporter
from iso_social.report.oscal import OscalReporter
from iso_social.report.pdf import PdfReporter


class ReportFormat(StrEnum):
    """Every output format of a run."""

    TABLE = "table"
    JSON = "json"
    HTML = "html"
    PDF = "pdf"
    JUNIT = "junit"
    MARKDOWN = "markdown"
    CSV = "csv"
    OSCAL = "oscal"


REPORTERS: dict[ReportFormat, Reporter] = {
    ReportFormat.TABLE: TableReporter(),
    ReportFormat.JSON: JsonReporter(),
    ReportFormat.HTML: HtmlReporter(),
    ReportFormat.PDF: PdfReporter(),
    ReportFormat.JUNIT: JUnitReporter(),
    ReportFormat.MARKDOWN: MarkdownReporter(),
    ReportFormat.CSV: CsvReporter(),
    ReportFormat.OSCAL: OscalReporter(),
}

__all__ = ["REPORTERS", "ReportFormat", "ReportOptions", "Reporter"]
