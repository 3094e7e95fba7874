"""Nonconformity reports: one per nonconformity, in the form a certification body expects
(ISO 9001 §10.2; ISO/IEC 17021-1 9.4.9): the requirement, the objective evidence, the statement
and grade, then what the organisation did about it (correction, root cause, corrective action,
effectiveness review) with its history, and fields for the signatures.

The evidence comes from the recorded run; the corrective-action fields from the register as they
stand when the report is made. Customer text is never shown: cases are conversation ids with the
finding in words, as in the evidence pack.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from iso_social.evidence.models import RecordedRun
from iso_social.evidence.register import NcEvent, Nonconformity
from iso_social.report.base import ReportOptions
from iso_social.report.rendering import (
    GRADE_LABEL,
    STATUS_LABEL,
    VERDICT_LABEL,
    environment,
    moment,
    page,
    percent,
    translator,
)

CASES_SHOWN = 10  # a report to sign stays short; the evidence pack lists the cases


def _entry(
    run: RecordedRun, nc: Nonconformity, events: Sequence[NcEvent], options: ReportOptions
) -> dict[str, Any]:
    control = next((c for c in run.document["controls"] if c["id"] == nc.control_id), None)
    evidence = control["evidence"] if control else []
    t, lang = translator(options), options.lang
    return {
        "nc": nc,
        "grade_label": t(GRADE_LABEL.get(nc.grade, nc.grade)),
        "status": t(STATUS_LABEL.get(nc.status.value, nc.status.value)),
        "opened": moment(nc.opened_at, lang),
        "closed": moment(nc.closed_at, lang) if nc.closed_at else None,
        "control": control,
        "verdict_label": t(VERDICT_LABEL[control["verdict"]]) if control else None,
        "rate_text": percent(control["rate"], lang) if control else "–",
        "target_text": percent(control["target"], lang) if control else "–",
        "evidence_shown": evidence[: min(CASES_SHOWN, options.max_rows)],
        "evidence_hidden": max(0, len(evidence) - min(CASES_SHOWN, options.max_rows)),
        "events": [
            {
                "at": moment(e.at, lang, "dd MMM y HH:mm"),
                "actor": e.actor,
                "event": e.event,
                "detail": e.detail,
                "run_id": e.run_id,
            }
            for e in events
        ],
    }


def render_nonconformity_html(
    run: RecordedRun,
    entries: Sequence[tuple[Nonconformity, Sequence[NcEvent]]],
    options: ReportOptions,
    *,
    for_print: bool = False,
) -> str:
    """One page per nonconformity, CSS inlined so the HTML opens offline."""
    env = environment(options)
    doc, lang = run.document, options.lang
    return env.get_template("nonconformity.html.j2").render(
        run_id=run.run_id,
        digest=run.digest,
        period_from=moment(doc["window"]["from"], lang),
        period_to=moment(doc["window"]["to"], lang),
        generated=moment(doc["created_at"], lang),
        tool_version=doc["tool_version"],
        entries=[_entry(run, nc, events, options) for nc, events in entries],
        **page(env, options, for_print=for_print),
    )


def render_nonconformity_report(
    run: RecordedRun,
    entries: Sequence[tuple[Nonconformity, Sequence[NcEvent]]],
    options: ReportOptions,
    fmt: str,
) -> bytes:
    """The report as `pdf` (PDF/A-3b) or `html` bytes."""
    if fmt == "html":
        return render_nonconformity_html(run, entries, options).encode("utf-8")
    from iso_social.report.pdf import html_to_pdf

    ids = ", ".join(nc.id for nc, _ in entries)
    return html_to_pdf(
        render_nonconformity_html(run, entries, options, for_print=True),
        options,
        title=f"Nonconformity report — {ids}",
        description=f"Nonconformities of run {run.run_id} and their corrective action",
        created=run.document["created_at"],
        generator=f"iso-social {run.document['tool_version']}",
    )
