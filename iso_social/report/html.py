"""HTML rendering of a run from the Jinja2 templates in `templates/` (autoescape on, strict).

`build_view()` turns the run document into the view-model the templates read; templates never
compute. Customer text never reaches a template unescaped: autoescape is on for every file.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from markupsafe import Markup

from iso_social.clock import format_duration, parse_duration
from iso_social.evidence.models import RecordedRun
from iso_social.report.base import ReportOptions
from iso_social.report.chart import Bar, compliance_chart

if TYPE_CHECKING:
    import jinja2

VERDICT_LABEL = {
    "conforms": "Conforms",
    "observation": "Observation",
    "minor_nonconformity": "Minor nonconformity",
    "major_nonconformity": "Major nonconformity",
    "not_evaluated": "Not evaluated",
    "waived": "Waived",
}
_SECONDS_MEASURES = ("p50_seconds", "p90_seconds", "mean_seconds", "deadline_seconds")
_MEASURE_LABEL = {
    "p50_seconds": "Median (P50)",
    "p90_seconds": "90th percentile (P90)",
    "mean_seconds": "Mean",
    "deadline_seconds": "Deadline",
    "answered": "Answered",
    "unanswered": "Never answered",
    "pending": "Pending (deadline not reached)",
    "time_basis": "Time basis",
    "by_channel": "By channel",
}


def _date(text: str) -> str:
    return datetime.fromisoformat(text).strftime("%d %b %Y %H:%M UTC")


def _percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


def _measure(name: str, value: Any) -> str:
    if value is None:
        return "–"
    if name == "by_channel" and isinstance(value, dict):
        return (
            "; ".join(
                f"{channel}: {_percent(v.get('rate'))} of {v.get('population')}"
                for channel, v in value.items()
            )
            or "–"
        )
    if name in _SECONDS_MEASURES:
        return format_duration(float(value))
    return str(value)


def _param(value: Any) -> str:
    """Parameters as a reader writes them: ISO durations as `1 h`, shares as percentages."""
    if isinstance(value, str) and value.startswith("P"):
        try:
            return format_duration(parse_duration(value).total_seconds())
        except ValueError:
            return value
    if isinstance(value, list):
        return ", ".join(map(_param, value)) or "–"
    if isinstance(value, dict):  # nested settings, e.g. the response rule or per-channel targets
        return "; ".join(f"{k}: {_param(v)}" for k, v in value.items()) or "–"
    return str(value)


def build_view(run: RecordedRun, options: ReportOptions) -> dict[str, Any]:
    """The view-model of the evidence report."""
    from iso_social.controls import control_types

    doc = run.document
    types = control_types()
    controls = []
    for number, control in enumerate(doc["controls"], start=2):
        evidence = control["evidence"]
        control_type = types.get(control["type"])
        controls.append(
            {
                **control,
                "number": number,
                "verdict_label": VERDICT_LABEL[control["verdict"]],
                "rate_text": _percent(control["rate"]),
                "target_text": _percent(control["target"]),
                "method": control_type.summary if control_type else control["type"],
                "measures_view": [
                    (_MEASURE_LABEL.get(k, k.replace("_", " ")), _measure(k, v))
                    for k, v in control["measures"].items()
                ],
                "params_view": [(k, _param(v)) for k, v in sorted(control["params"].items())],
                "evidence_shown": evidence[: options.max_rows],
                "evidence_hidden": max(0, len(evidence) - options.max_rows),
            }
        )
    summary = doc["summary"]
    waivers = [
        {**waiver, "control_id": control["id"]}
        for control in doc["controls"]
        for waiver in control["waivers"]
    ]
    bars = [
        Bar(c["id"], c["rate"], c["target"], c["verdict"])
        for c in doc["controls"]
        if c["rate"] is not None
    ]
    numbered = len(controls) + 2
    contents = [
        ("s-summary", "1. Scope and method"),
        *((f"c-{c['id']}", f"{c['number']}. {c['id']} — {c['title']}") for c in controls),
        ("s-waivers", f"{numbered}. Waivers in force"),
        ("s-register", f"{numbered + 1}. Nonconformities raised by this run"),
        ("s-integrity", "Appendix: integrity of this evidence"),
    ]
    return {
        "organisation": options.organisation,
        "run": doc,
        "run_id": doc["run_id"],
        "generated": _date(doc["created_at"]),
        "period_from": _date(doc["window"]["from"]),
        "period_to": _date(doc["window"]["to"]),
        "channels": sorted({c for control in doc["controls"] for c in control["channels"]}),
        "policies": doc["policies"],
        "inputs": doc["inputs"],
        "controls": controls,
        "nonconformities": doc["nonconformities"],
        "summary": summary,
        "verdict_counts": [(VERDICT_LABEL[v], v, summary.get(v, 0)) for v in VERDICT_LABEL],
        "chart": Markup(compliance_chart(bars)) if bars else None,  # noqa: S704 - escaped SVG
        "contents": contents,
        "waivers": waivers,
        "waivers_number": numbered,
        "register_number": numbered + 1,
        "digest": run.digest,
        "previous_digest": run.previous_digest,
        "sequence": run.seq,
        "tool_version": doc["tool_version"],
    }


def _environment(options: ReportOptions) -> jinja2.Environment:
    """The Jinja2 environment over the templates: autoescape on, undefined names are errors."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(options.templates_dir),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(run: RecordedRun, options: ReportOptions, *, for_print: bool = False) -> str:
    """Render the evidence report as an HTML page (CSS inlined so it opens offline)."""
    templates: Path = options.templates_dir
    env = _environment(options)
    css = (templates / "report.css").read_text(encoding="utf-8")
    template = env.get_template("report.html.j2")
    return template.render(**build_view(run, options), css=css, for_print=for_print)


class HtmlReporter:
    """A single self-contained HTML file."""

    name: ClassVar[str] = "html"
    suffix: ClassVar[str] = ".html"

    def render(self, run: RecordedRun, options: ReportOptions) -> bytes:
        """Render the report page."""
        return render_html(run, options).encode("utf-8")
