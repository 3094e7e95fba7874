"""Attribute sampling: documented sizes, reproducible draws, reviewers' verdicts as evidence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iso_social import pipeline
from iso_social.errors import EvidenceError
from iso_social.evidence.sampling import draw, sample_size
from iso_social.policy import Policy
from tests.evidence.conftest import run_day


@pytest.mark.parametrize(
    ("confidence", "tolerable", "expected", "size"),
    [(0.95, 0.05, 0, 59), (0.90, 0.05, 0, 45), (0.95, 0.10, 0, 29), (0.95, 0.05, 1, 93)],
)
def test_sample_sizes_match_the_attribute_sampling_tables(
    confidence: float, tolerable: float, expected: int, size: int
) -> None:
    assert sample_size(confidence, tolerable, expected) == size


def test_draws_are_reproducible_and_bounded() -> None:
    population = [f"c{i}" for i in range(500)]
    assert draw(population, 59, seed=4) == draw(list(reversed(population)), 59, seed=4)
    assert draw(population, 59, seed=4) != draw(population, 59, seed=5)
    assert draw(population[:10], 59, seed=4) == sorted(population[:10])


def test_sample_a_run_record_reviews_and_export(
    evidence_db: str, policy: Policy, tmp_path: Path
) -> None:
    run_day(evidence_db, policy, 1)
    sample = pipeline.draw_sample(evidence_db, "TW-FRT-01", tolerable_error=0.3)
    assert sample.population == 5 and sample.size == 5  # 9 needed, all 5 examined
    again = pipeline.draw_sample(evidence_db, "TW-FRT-01", tolerable_error=0.3)
    assert again.id == sample.id and again.items == sample.items
    item = sample.items[0]
    pipeline.record_sample_review(
        evidence_db, sample.id, item, "nonconforming", "auditor", "reply was a template"
    )
    shown = pipeline.show_sample(evidence_db, sample.id)
    assert shown.reviews[item].verdict == "nonconforming"
    with pytest.raises(EvidenceError, match="is not in sample"):
        pipeline.record_sample_review(evidence_db, sample.id, "other", "conforms", "auditor")
    with pytest.raises(EvidenceError, match="not a review verdict"):
        pipeline.record_sample_review(evidence_db, sample.id, item, "fine", "auditor")
    folder = pipeline.export_evidence(evidence_db, "latest", tmp_path / "pack")
    samples = json.loads((folder / "samples.json").read_text())
    assert samples[0]["items"][0]["verdict"] == "nonconforming"


def test_unknown_control_is_explained(evidence_db: str, policy: Policy) -> None:
    run_day(evidence_db, policy, 1)
    with pytest.raises(EvidenceError, match="has no control 'XX-1'"):
        pipeline.draw_sample(evidence_db, "XX-1")
