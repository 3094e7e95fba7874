"""A summary table for terminals."""

from __future__ import annotations

import io
from typing import ClassVar

from rich.console import Console
from rich.table import Table

from iso_social.evidence.models import RecordedRun
from iso_social.report.base import ReportOptions

VERDICT_STYLE = {
    "conforms": "green",
    "observation": "yellow",
    "minor_nonconformity": "dark_orange",
    "major_nonconformity": "bold red",
    "not_evaluated": "dim",
    "waived": "cyan",
}
VERDICT_LABEL = {
    "conforms": "conforms",
    "observation": "observation",
    "minor_nonconformity": "MINOR NC",
    "major_nonconformity": "MAJOR NC",
    "not_evaluated": "not evaluated",
    "waived": "waived",
}


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


class TableReporter:
    """One row per control: verdict, population, rate against target, statement."""

    name: ClassVar[str] = "table"
    suffix: ClassVar[str] = ".txt"

    def render(self, run: RecordedRun, options: ReportOptions) -> bytes:
        """Render the table as text (with colour codes when `options.color`)."""
        doc = run.document
        window = doc["window"]
        table = Table(
            title=f"iso-social run {doc['run_id']}  ·  {window['from']} → {window['to']}",
            title_justify="left",
            expand=False,
        )
        for column in ("Control", "Channels", "Verdict", "Population", "Rate", "Target"):
            table.add_column(column, no_wrap=column != "Control")
        table.add_column("Statement", ratio=1)
        for control in doc["controls"]:
            verdict = control["verdict"]
            table.add_row(
                control["id"],
                ", ".join(control["channels"]) or "all",
                f"[{VERDICT_STYLE[verdict]}]{VERDICT_LABEL[verdict]}[/]",
                str(control["population"]),
                _rate(control["rate"]),
                _rate(control["target"]),
                control["statement"],
            )
        buffer = io.StringIO()
        console = Console(
            file=buffer,
            width=160,
            force_terminal=options.color,
            no_color=not options.color,
            highlight=False,
        )
        console.print(table)
        return buffer.getvalue().encode()
