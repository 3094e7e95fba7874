"""The run document: the canonical JSON record of one check run (schema version 1).

The document is the single source of truth for every report and export. Its shape is a
published contract (`schemas/check-result.schema.json`): fields are added, never removed.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from iso_social.domain import Finding, Verdict, Window
from iso_social.policy import Policy

SCHEMA_VERSION = "1"
GENESIS_DIGEST = "0" * 64


@dataclass(frozen=True)
class InputFile:
    """An ingested file in a run's input manifest."""

    path: str
    sha256: str
    size: int
    format: str
    records_read: int
    stored: int
    rejected: int


@dataclass(frozen=True)
class RecordedRun:
    """A run as kept in the ledger: sequence number, document, digest and chain link."""

    seq: int
    run_id: str
    created_at: datetime
    document: dict[str, Any]
    digest: str
    previous_digest: str

    def output_document(self) -> dict[str, Any]:
        """The document as printed by `check --format json`: with its integrity block."""
        return {
            **self.document,
            "integrity": {
                "run_sha256": self.digest,
                "previous_run_sha256": self.previous_digest,
                "sequence": self.seq,
            },
        }


def iso_utc(moment: datetime) -> str:
    """A UTC moment as the run document writes it: ISO 8601 with Z."""
    return moment.isoformat().replace("+00:00", "Z")


def nonconformity_id(finding: Finding) -> str:
    """A stable id for the nonconformity a control raises: the same control gives the same id."""
    return f"NC-{finding.control_id}"


def _finding_document(finding: Finding) -> dict[str, Any]:
    outcome = finding.outcome
    return {
        "id": finding.control_id,
        "policy_id": finding.policy_id,
        "type": finding.control_type,
        "title": finding.title,
        "channels": list(finding.channels),
        "clauses": list(finding.clauses),
        "severity": finding.severity.value,
        "params": dict(finding.params),
        "waivers": [dict(w) for w in finding.waivers],
        "verdict": finding.verdict.value,
        "population": outcome.population,
        "conforming": outcome.conforming,
        "nonconforming": outcome.nonconforming,
        "rate": outcome.rate,
        "target": outcome.target,
        "statement": outcome.statement,
        "measures": dict(outcome.measures),
        "evidence": [
            {
                "conversation_id": e.conversation_id,
                "message_ids": list(e.message_ids),
                "value": e.value,
                "detail": e.detail,
            }
            for e in outcome.evidence
        ],
    }


def summarise(findings: Sequence[Finding]) -> dict[str, int]:
    """Counts per verdict, plus totals CI scripts read directly."""
    return summary_of([f.verdict for f in findings])


def summary_of(verdicts: Sequence[str]) -> dict[str, int]:
    """`summarise` of the findings with these verdicts (`Verdict`s, or their values as a
    recorded run's result rows hold them: one that is no verdict, an edited row, counts
    among the controls only)."""
    counts = Counter(verdicts)
    summary = {verdict.value: counts.get(verdict, 0) for verdict in Verdict}
    summary.update(
        controls=len(verdicts),
        major_nonconformities=counts.get(Verdict.MAJOR_NONCONFORMITY, 0),
        minor_nonconformities=counts.get(Verdict.MINOR_NONCONFORMITY, 0),
        observations=counts.get(Verdict.OBSERVATION, 0),
    )
    return summary


def build_document(
    *,
    run_id: str,
    created_at: datetime,
    tool_version: str,
    window: Window,
    as_of: datetime | None,
    policies: Sequence[Policy],
    inputs: Sequence[InputFile],
    findings: Sequence[Finding],
) -> dict[str, Any]:
    """The run document: everything needed to read, verify and reproduce the run."""
    nonconformities = [
        {
            "id": nonconformity_id(f),
            "control_id": f.control_id,
            "grade": f.verdict.grade.value if f.verdict.grade else f.severity.value,
            "verdict": f.verdict.value,
            "statement": f"Requirement: {f.title} ({', '.join(f.clauses) or 'no clause cited'}). "
            f"Finding: {f.outcome.statement}",
        }
        for f in findings
        if f.verdict.rank > 0
    ]
    return {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "created_at": iso_utc(created_at),
        "tool_version": tool_version,
        "window": {"from": iso_utc(window.start), "to": iso_utc(window.end)},
        "as_of": iso_utc(as_of) if as_of else None,
        "policies": [
            {
                "path": str(p.path),
                "id": p.document.id,
                "title": p.document.title,
                "version": p.document.version,
                "sha256": p.sha256,
                "owner": p.document.owner,
                "approved_by": p.document.approved_by,
                "approved_on": p.document.approved_on.isoformat(),
                "effective_from": p.document.effective_from.isoformat(),
            }
            for p in sorted(policies, key=lambda p: p.document.id)
        ],
        "inputs": [
            {
                "path": i.path,
                "sha256": i.sha256,
                "size": i.size,
                "format": i.format,
                "records_read": i.records_read,
                "stored": i.stored,
                "rejected": i.rejected,
            }
            for i in inputs
        ],
        "controls": [_finding_document(f) for f in findings],
        "nonconformities": nonconformities,
        "warnings": [w for f in findings for w in f.warnings],
        "summary": summarise(findings),
    }


def canonical_json(document: dict[str, Any]) -> bytes:
    """The canonical serialisation the run digest is computed over: Python's
    `json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)` in UTF-8,
    the form docs/evidence.md publishes so that an auditor can recompute a digest.

    orjson writes the same bytes about ten times as fast (a large run's document took a second
    with `json`) except in three cases. A float that is not zero and smaller than 1e-4 in
    magnitude: Python writes 1e-05, orjson 0.00001 or 1e-5; each leaves a digit followed by
    "e-", or "0.0000", in orjson's output, and when either is there (a customer's text may hold
    it too) `json` writes the document again. A type Python's json refuses or writes otherwise
    (datetimes, dataclasses, subclasses of str, int, dict and list): handed to `_refused`, so
    `json` writes the document or refuses it as before. A float that is not finite, which
    `json` refuses: written as null (no control measures one; a run is not lost to it).
    """
    try:
        body: bytes | None = orjson.dumps(document, default=_refused, option=_ORJSON_OPTIONS)
    except TypeError:  # orjson.JSONEncodeError: what it cannot write, json writes or refuses
        body = None
    if body is None or _small_float(body):
        return json.dumps(
            document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")
    return body


_ORJSON_OPTIONS = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def _small_float(body: bytes) -> bool:
    """Whether orjson's output may hold a float Python writes otherwise: "0.0000" or a digit
    before "e-" (found by `bytes.find`: a regular expression starting with a digit class
    took ten times as long over a large run's 50 MB)."""
    if b"0.0000" in body:
        return True
    at = body.find(b"e-")
    while at != -1:
        if at and body[at - 1] in _DIGITS:
            return True
        at = body.find(b"e-", at + 2)
    return False


_DIGITS = frozenset(b"0123456789")


def _refused(value: object) -> object:
    """orjson's `default`: anything it would write otherwise than Python's json goes to json."""
    raise TypeError(type(value).__name__)
