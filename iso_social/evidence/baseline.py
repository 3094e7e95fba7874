"""Baselines: the nonconformities a team has accepted for now, so CI fails only on new ones.

A baseline file lists nonconformity ids and grades from a recorded run. With `check --baseline`,
a nonconformity in the baseline at the same or a milder grade does not fail the check; a new
one, or one that got graver, does. The baseline is a CI convenience, not a waiver: the run
still records every nonconformity and the register still tracks them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from iso_social.domain import Severity
from iso_social.errors import EvidenceError
from iso_social.evidence.models import RecordedRun

FORMAT = "iso-social-baseline/1"
_GRAVITY = {Severity.OBSERVATION.value: 1, Severity.MINOR.value: 2, Severity.MAJOR.value: 3}


def baseline_document(run: RecordedRun) -> dict[str, Any]:
    """The baseline of a run."""
    return {
        "format": FORMAT,
        "run_id": run.run_id,
        "run_sha256": run.digest,
        "nonconformities": [
            {"id": nc["id"], "control_id": nc["control_id"], "grade": nc["grade"]}
            for nc in run.document["nonconformities"]
        ],
    }


def load_baseline(path: Path) -> dict[str, str]:
    """Nonconformity id -> grade, from a baseline file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise EvidenceError(f"{path}: cannot read the baseline ({exc.strerror})") from exc
    except ValueError as exc:
        raise EvidenceError(
            f"{path}: the baseline is not valid JSON",
            hint="create one with `iso-social baseline write`",
        ) from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise EvidenceError(
            f"{path}: not an iso-social baseline ({FORMAT})",
            hint="create one with `iso-social baseline write`",
        )
    return {str(nc["id"]): str(nc["grade"]) for nc in data.get("nonconformities", [])}


def new_nonconformities(run: RecordedRun, baseline: dict[str, str]) -> list[dict[str, Any]]:
    """The run's nonconformities that are not in the baseline, or are graver than there."""
    return [
        nc
        for nc in run.document["nonconformities"]
        if nc["id"] not in baseline or _GRAVITY[nc["grade"]] > _GRAVITY.get(baseline[nc["id"]], 0)
    ]
