"""A Markdown summary for a pull-request comment or `$GITHUB_STEP_SUMMARY`."""

from __future__ import annotations

from typing import ClassVar

from iso_social.evidence.models import RecordedRun
from iso_social.report.base import ReportOptions

LABEL = {
    "conforms": "✅ conforms",
    "observation": "🔎 observation",
    "minor_nonconformity": "🟠 minor NC",
    "major_nonconformity": "🔴 major NC",
    "not_evaluated": "⚪ not evaluated",
    "waived": "🔵 waived",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _rate(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


class MarkdownReporter:
    """Summary line, one table row per control, and the nonconformities raised."""

    name: ClassVar[str] = "markdown"
    suffix: ClassVar[str] = ".md"

    def render(self, run: RecordedRun, options: ReportOptions) -> bytes:
        """The Markdown text."""
        doc, s = run.document, run.document["summary"]
        lines = [
            f"### iso-social: {s['major_nonconformities']} major, "
            f"{s['minor_nonconformities']} minor, {s['observations']} observations "
            f"({s['controls']} controls)",
            "",
            f"Audit window {doc['window']['from']} → {doc['window']['to']} · run "
            f"`{run.run_id}` · digest `{run.digest[:16]}…`",
            "",
            "| Control | Verdict | Population | Rate | Target | Finding |",
            "|---|---|---:|---:|---:|---|",
        ]
        lines += [
            f"| `{c['id']}` {_cell(c['title'])} | {LABEL[c['verdict']]} | {c['population']} | "
            f"{_rate(c['rate'])} | {_rate(c['target'])} | {_cell(c['statement'])} |"
            for c in doc["controls"]
        ]
        if doc["nonconformities"]:
            lines += ["", "**Nonconformities**", ""]
            lines += [
                f"- `{nc['id']}` ({nc['grade']}): {_cell(nc['statement'])}"
                for nc in doc["nonconformities"]
            ]
        for warning in doc.get("warnings", []):
            lines += ["", f"> ⚠️ {_cell(warning)}"]
        return ("\n".join(lines) + "\n").encode("utf-8")
