"""Run diffs: which nonconformities are new, persisting or resolved since another run."""

from __future__ import annotations

from typing import Any

from iso_social.evidence.models import RecordedRun


def _raised(run: RecordedRun) -> dict[str, str]:
    return {nc["id"]: nc["grade"] for nc in run.document["nonconformities"]}


def compare_runs(current: RecordedRun, reference: RecordedRun) -> dict[str, Any]:
    """New, persisting and resolved nonconformity ids of `current` against `reference`."""
    now, before = _raised(current), _raised(reference)
    return {
        "reference_run_id": reference.run_id,
        "new": sorted(set(now) - set(before)),
        "persisting": sorted(set(now) & set(before)),
        "resolved": sorted(set(before) - set(now)),
    }
