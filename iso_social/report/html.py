"""HTML rendering of a run from the Jinja2 templates in `templates/` (autoescape on, strict).

`build_view()` turns the run document into the view-model the templates read; templates never
compute. Customer text never reaches a template unescaped: autoescape is on for every file.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from itertools import pairwise
from typing import Any, ClassVar

from markupsafe import Markup

from iso_social.clock import format_duration, parse_duration
from iso_social.evidence.models import RecordedRun
from iso_social.i18n import N_
from iso_social.report.base import ReportOptions
from iso_social.report.chart import (
    Bar,
    Distribution,
    RunColumn,
    compliance_chart,
    distribution_chart,
    trend_chart,
)
from iso_social.report.rendering import (
    GRADE_LABEL,
    GRADE_SHORT,
    STATUS_LABEL,
    VERDICT_LABEL,
    channel_totals,
    environment,
    labelled,
    moment,
    page,
    percent,
    translator,
)

_SECONDS_MEASURES = ("p50_seconds", "p90_seconds", "mean_seconds", "deadline_seconds")
_MEASURE_LABEL = {
    "p50_seconds": N_("Median (P50)"),
    "p90_seconds": N_("90th percentile (P90)"),
    "mean_seconds": N_("Mean"),
    "deadline_seconds": N_("Deadline"),
    "answered": N_("Answered"),
    "unanswered": N_("Never answered"),
    "pending": N_("Pending (deadline not reached)"),
    "time_basis": N_("Time basis"),
    "by_channel": N_("By channel"),
}
_REVIEW_LABEL = {"conforms": N_("conforms"), "nonconforming": N_("nonconforming")}
_CHARTED = ("distribution",)  # measures drawn as charts, not listed
EXCERPT_CHARS = 160


def _measure(name: str, value: Any, lang: str, _: Callable[[str], str]) -> str:
    if value is None:
        return "–"
    if name == "by_channel" and isinstance(value, dict):
        return (
            "; ".join(
                _("%(channel)s: %(rate)s of %(population)s")
                % {
                    "channel": channel,
                    "rate": percent(v.get("rate"), lang),
                    "population": v.get("population"),
                }
                for channel, v in value.items()
            )
            or "–"
        )
    if name in _SECONDS_MEASURES:
        return format_duration(float(value))
    return str(value)


def _param(value: Any) -> str:
    """Parameters as a reader writes them: ISO durations as `1 h`, shares as percentages, an
    unset one as –."""
    if value is None:
        return "–"
    if isinstance(value, str) and value.startswith("P"):
        try:
            return format_duration(parse_duration(value).total_seconds())
        except ValueError:
            return value
    if isinstance(value, list):  # settings of their own (a control's triggers) in parentheses
        parts = [f"({_param(v)})" if isinstance(v, dict) else _param(v) for v in value]
        return ", ".join(parts) or "–"
    if isinstance(value, dict):  # nested settings, e.g. the response rule or per-channel targets
        return "; ".join(f"{k}: {_param(v)}" for k, v in value.items()) or "–"
    return str(value)


def _excerpt(text: str | None) -> str | None:
    """What the report may show of a customer's message: personal data masked, whitespace
    folded, cut to `EXCERPT_CHARS`; None when the message is not stored, "" once purged."""
    if text is None:
        return None
    from iso_social.controls import masked_start

    folded = masked_start(text, EXCERPT_CHARS + 1)  # one more tells whether it was cut
    return folded if len(folded) <= EXCERPT_CHARS else folded[: EXCERPT_CHARS - 1] + "…"


def _channel_bars(controls: Sequence[Mapping[str, Any]]) -> list[Bar]:
    """Each channel's share of conforming cases over the evaluated controls that measure it."""
    evaluated = (c for c in controls if c["rate"] is not None)
    totals = channel_totals(evaluated, whole_controls=True)
    return [Bar(name, ok / n, None, "channel") for name, (n, ok) in totals.items() if n]


def _band_labels(_: Callable[[str], str]) -> list[str]:
    from iso_social.controls.base import RESPONSE_BANDS

    bounds = [format_duration(b) for b in RESPONSE_BANDS]
    return [
        _("up to %(limit)s") % {"limit": bounds[0]},
        *(f"{low}–{high}" for low, high in pairwise(bounds)),
        _("over %(limit)s") % {"limit": bounds[-1]},
        _("never answered"),
    ]


def _distributions(controls: Sequence[Mapping[str, Any]]) -> list[Distribution]:
    rows = []
    for control in controls:
        shape = control["measures"].get("distribution") or {}
        for channel, counts in (shape.get("by_channel") or {}).items():
            rows.append(
                Distribution(
                    f"{control['id']} · {channel}", [*counts["answered"], counts["unanswered"]]
                )
            )
    return rows


def _trend(options: ReportOptions, lang: str) -> list[RunColumn]:
    return [
        RunColumn(moment(point.window_to, lang, "dd MMM"), dict(Counter(point.verdicts.values())))
        for point in options.pack.history
    ]


def _sample_view(sample: Mapping[str, Any], _: Callable[[str], str]) -> dict[str, Any]:
    items = sample["items"]
    reviewed = [i for i in items if "verdict" in i]
    return {
        **sample,
        "confidence_text": f"{sample['confidence'] * 100:g}%",
        "tolerable_text": f"{sample['tolerable_error'] * 100:g}%",
        "reviewed": len(reviewed),
        "found": sum(1 for i in reviewed if i["verdict"] == "nonconforming"),
        "items_view": [
            {
                "id": item["id"],
                "verdict_text": labelled(_, _REVIEW_LABEL, item["verdict"])
                if "verdict" in item
                else "–",
                "reviewer": item.get("reviewer", ""),
                "note": item.get("note", ""),
            }
            for item in items
        ],
    }


def build_view(run: RecordedRun, options: ReportOptions) -> dict[str, Any]:
    """The view-model of the evidence report."""
    from iso_social.controls import control_types

    doc, pack, lang = run.document, options.pack, options.lang
    _ = translator(options)
    types = control_types()
    samples: dict[str, list[dict[str, Any]]] = {}
    for sample in pack.samples:
        samples.setdefault(sample["control_id"], []).append(_sample_view(sample, _))
    controls = []
    for number, control in enumerate(doc["controls"], start=2):
        evidence = control["evidence"]
        control_type = types.get(control["type"])
        shown = [
            {
                **item,
                "excerpt": _excerpt(pack.texts.get(item["message_ids"][0]))
                if item["message_ids"]
                else None,
            }
            for item in evidence[: options.max_rows]
        ]
        controls.append(
            {
                **control,
                "number": number,
                "verdict_label": labelled(_, VERDICT_LABEL, control["verdict"]),
                "severity_label": labelled(_, GRADE_SHORT, control["severity"]),
                "rate_text": percent(control["rate"], lang),
                "target_text": percent(control["target"], lang),
                "method": _(control_type.summary) if control_type else control["type"],
                "measures_view": [
                    (labelled(_, _MEASURE_LABEL, k), _measure(k, v, lang, _))
                    for k, v in control["measures"].items()
                    if k not in _CHARTED
                ],
                "params_view": [(k, _param(v)) for k, v in sorted(control["params"].items())],
                "evidence_shown": shown,
                "evidence_hidden": max(0, len(evidence) - options.max_rows),
                "samples": samples.get(control["id"], []),
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
    channel_bars = _channel_bars(doc["controls"])
    trend = _trend(options, lang)
    distributions = _distributions(doc["controls"])
    nonconformities = [
        {
            **nc,
            "grade_label": labelled(_, GRADE_LABEL, nc["grade"]),
            "state": (state := pack.register.get(nc["id"])),
            "status_label": labelled(_, STATUS_LABEL, state["status"]) if state else None,
        }
        for nc in doc["nonconformities"]
    ]
    numbered = len(controls) + 2
    contents = [
        ("s-summary", "1. " + _("Scope, method and summary")),
        *((f"c-{c['id']}", f"{c['number']}. {c['id']} — {c['title']}") for c in controls),
        ("s-waivers", f"{numbered}. " + _("Waivers in force")),
        ("s-register", f"{numbered + 1}. " + _("Nonconformity register")),
        ("s-integrity", _("Appendix: integrity of this evidence")),
    ]
    return {
        "run": doc,
        "run_id": doc["run_id"],
        "generated": moment(doc["created_at"], lang),
        "period_from": moment(doc["window"]["from"], lang),
        "period_to": moment(doc["window"]["to"], lang),
        "channels": sorted({c for control in doc["controls"] for c in control["channels"]}),
        "policies": doc["policies"],
        "inputs": doc["inputs"],
        "controls": controls,
        "nonconformities": nonconformities,
        "register_as_of": moment(pack.register_as_of, lang) if pack.register_as_of else None,
        "summary": summary,
        "verdict_counts": [(_(VERDICT_LABEL[v]), v, summary.get(v, 0)) for v in VERDICT_LABEL],
        # the charts are SVG built from numbers and escaped labels
        "chart": Markup(compliance_chart(bars)) if bars else None,  # noqa: S704
        "channel_chart": Markup(compliance_chart(channel_bars))  # noqa: S704
        if channel_bars
        else None,
        "trend_chart": Markup(  # noqa: S704
            trend_chart(trend, {v: _(label) for v, label in VERDICT_LABEL.items()})
        )
        if len(trend) > 1
        else None,
        "trend_runs": len(trend),
        "distribution_chart": Markup(  # noqa: S704
            distribution_chart(distributions, _band_labels(_))
        )
        if distributions
        else None,
        "contents": contents,
        "waivers": waivers,
        "waivers_number": numbered,
        "register_number": numbered + 1,
        "digest": run.digest,
        "previous_digest": run.previous_digest,
        "sequence": run.seq,
        "tool_version": doc["tool_version"],
    }


def render_html(run: RecordedRun, options: ReportOptions, *, for_print: bool = False) -> str:
    """Render the evidence report as an HTML page (CSS inlined so it opens offline)."""
    env = environment(options)
    template = env.get_template("report.html.j2")
    return template.render(**build_view(run, options), **page(env, options, for_print=for_print))


class HtmlReporter:
    """A single self-contained HTML file."""

    name: ClassVar[str] = "html"
    suffix: ClassVar[str] = ".html"

    def render(self, run: RecordedRun, options: ReportOptions) -> bytes:
        """Render the report page."""
        return render_html(run, options).encode("utf-8")
