"""Management review input (ISO 9001:2015 §9.3.2): what the recorded runs and the nonconformity
register can tell top management about the period.

- c) 2 whether the quality objectives were met: each control's latest verdict and its rate in
  the period's runs, as a trend;
- c) 3 process performance: each channel's share answered in time in the latest run;
- c) 1 customer feedback signals: repeat contacts, escalated complaints and privacy controls;
- c) 4 nonconformities and corrective actions: the register by status and grade, what is open,
  overdue or repeated;
- f) opportunities for improvement: observations and controls below target.

The other inputs (external issues, resources, risks, providers, previous reviews' actions) are
not in the logs; the report says so rather than leave them out silently.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from typing import Any

from iso_social.evidence.ledger import RunHeader
from iso_social.evidence.models import RecordedRun, iso_utc
from iso_social.evidence.register import NcStatus, Nonconformity
from iso_social.report.base import ReportOptions
from iso_social.report.rendering import (
    GRADE_SHORT,
    STATUS_LABEL,
    VERDICT_LABEL,
    channel_totals,
    environment,
    moment,
    page,
    percent,
    translator,
)

FEEDBACK_TYPES = (
    "repeat_contact",
    "escalation_path",
    "sensitive_data_exposure",
    "public_to_private_handoff",
)
TREND_RUNS = 6


def _objectives(
    runs: Sequence[RunHeader], latest: dict[str, Any], options: ReportOptions
) -> list[dict[str, Any]]:
    """Per control of the latest run: its rate in each of the last runs, oldest first."""
    recent = runs[-TREND_RUNS:]
    rows = []
    for control in latest["controls"]:
        rates = [
            percent(run.rates[control["id"]], options.lang) if control["id"] in run.rates else "–"
            for run in recent
        ]
        rows.append(
            {
                "id": control["id"],
                "title": control["title"],
                "target": percent(control["target"], options.lang),
                "rates": rates,
                "verdict": control["verdict"],
                "verdict_label": translator(options)(VERDICT_LABEL[control["verdict"]]),
            }
        )
    return rows


def _channels(latest: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    return [
        {"channel": name, "population": n, "rate": percent(ok / n if n else None, lang)}
        for name, (n, ok) in channel_totals(latest["controls"]).items()
    ]


def _register(
    register: Sequence[Nonconformity], today: date, options: ReportOptions
) -> dict[str, Any]:
    t = translator(options)
    open_ones = [nc for nc in register if nc.status is not NcStatus.CLOSED]
    overdue = [nc for nc in open_ones if nc.due_date and date.fromisoformat(nc.due_date) < today]
    by_status = Counter(t(STATUS_LABEL[nc.status.value]) for nc in register)
    by_grade = Counter(t(GRADE_SHORT.get(nc.grade, nc.grade)) for nc in open_ones)
    return {
        "total": len(register),
        "by_status": sorted(by_status.items()),
        "open_by_grade": sorted(by_grade.items()),
        "open": [
            {
                "nc": nc,
                "grade_label": t(GRADE_SHORT.get(nc.grade, nc.grade)),
                "status_label": t(STATUS_LABEL[nc.status.value]),
            }
            for nc in open_ones
        ],
        "overdue": {nc.id for nc in overdue},
        "repeats": [nc for nc in register if nc.repeat_count],
    }


def render_management_review_html(
    runs: Sequence[RunHeader],
    last: RecordedRun,
    register: Sequence[Nonconformity],
    options: ReportOptions,
    today: date,
    *,
    for_print: bool = False,
) -> str:
    """The review input as one HTML page; `runs` the period's, oldest first (at least one),
    `last` the last of them as recorded."""
    latest = last.document
    feedback = [c for c in latest["controls"] if c["type"] in FEEDBACK_TYPES]
    improvements = [
        c for c in latest["controls"] if c["verdict"] in ("observation", "minor_nonconformity")
    ]
    env, t, lang = environment(options), translator(options), options.lang
    return env.get_template("management-review.html.j2").render(
        first_run=runs[0].run_id,
        last_run=runs[-1].run_id,
        runs=len(runs),
        period_from=moment(iso_utc(runs[0].window_start), lang),
        period_to=moment(latest["window"]["to"], lang),
        trend_runs=[r.run_id for r in runs[-TREND_RUNS:]],
        objectives=_objectives(runs, latest, options),
        channels=_channels(latest, lang),
        feedback=[{**c, "verdict_label": t(VERDICT_LABEL[c["verdict"]])} for c in feedback],
        register=_register(register, today, options),
        improvements=[{**c, "verdict_label": t(VERDICT_LABEL[c["verdict"]])} for c in improvements],
        today=today.isoformat(),
        tool_version=latest["tool_version"],
        **page(env, options, for_print=for_print),
    )


def render_management_review(
    runs: Sequence[RunHeader],
    last: RecordedRun,
    register: Sequence[Nonconformity],
    options: ReportOptions,
    today: date,
    fmt: str,
) -> bytes:
    """The review input as `pdf` (PDF/A-3b) or `html` bytes."""
    html = render_management_review_html(
        runs, last, register, options, today, for_print=fmt == "pdf"
    )
    if fmt == "html":
        return html.encode("utf-8")
    from iso_social.report.pdf import html_to_pdf

    latest = last.document
    return html_to_pdf(
        html,
        options,
        title=f"Management review input — {len(runs)} runs to {runs[-1].run_id}",
        description="ISO 9001:2015 9.3.2 inputs from iso-social's runs and register",
        created=latest["created_at"],
        generator=f"iso-social {latest['tool_version']}",
    )
