"""Audit samples and reviewers' verdicts, kept as evidence beside the automated results."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select

from iso_social.domain import now_utc
from iso_social.errors import EvidenceError
from iso_social.evidence.models import RecordedRun
from iso_social.evidence.sampling import draw, sample_size
from iso_social.store.database import create_schema, transaction
from iso_social.store.tables import SAMPLE, SAMPLE_REVIEW

METHOD = "attribute sampling (binomial), simple random selection"
REVIEW_VERDICTS = ("conforms", "nonconforming")


@dataclass(frozen=True)
class Review:
    """The latest manual verdict on a sampled item."""

    verdict: str
    reviewer: str
    note: str
    recorded_at: datetime


@dataclass(frozen=True)
class Sample:
    """A drawn sample: how it was sized and drawn, its items and their reviews."""

    id: str
    run_id: str
    control_id: str
    method: str
    confidence: float
    tolerable_error: float
    expected_deviations: int
    seed: int
    population: int
    items: tuple[str, ...]
    drawn_at: datetime
    reviews: dict[str, Review] = field(default_factory=dict)

    @property
    def size(self) -> int:
        """How many items were drawn."""
        return len(self.items)

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready view (for exports)."""
        return {
            "id": self.id,
            "run_id": self.run_id,
            "control_id": self.control_id,
            "method": self.method,
            "confidence": self.confidence,
            "tolerable_error": self.tolerable_error,
            "expected_deviations": self.expected_deviations,
            "seed": self.seed,
            "population": self.population,
            "size": self.size,
            "drawn_at": self.drawn_at.isoformat(),
            "items": [
                {
                    "id": item,
                    **(
                        {
                            "verdict": r.verdict,
                            "reviewer": r.reviewer,
                            "note": r.note,
                            "recorded_at": r.recorded_at.isoformat(),
                        }
                        if (r := self.reviews.get(item))
                        else {}
                    ),
                }
                for item in self.items
            ],
        }


def _sample(row: Any, reviews: dict[str, Review]) -> Sample:
    return Sample(
        row.id,
        row.run_id,
        row.control_id,
        row.method,
        row.confidence,
        row.tolerable_error,
        row.expected_deviations,
        row.seed,
        row.population,
        tuple(json.loads(row.items)),
        row.drawn_at,
        reviews,
    )


def draw_sample(
    engine: Engine,
    run: RecordedRun,
    control_id: str,
    population: Sequence[str],
    *,
    confidence: float,
    tolerable_error: float,
    expected_deviations: int,
    seed: int,
) -> Sample:
    """Size and draw the sample, or return the identical one drawn before."""
    try:
        size = sample_size(confidence, tolerable_error, expected_deviations)
    except ValueError as exc:
        raise EvidenceError(f"sampling plan: {exc}") from exc
    create_schema(engine)
    with transaction(engine) as connection:
        same_plan = (SAMPLE.c.run_id == run.run_id, SAMPLE.c.control_id == control_id)
        drawn_before = connection.execute(select(SAMPLE).where(*same_plan)).all()
        plan = (confidence, tolerable_error, expected_deviations, seed)
        existing = next(
            (
                r
                for r in drawn_before
                if (r.confidence, r.tolerable_error, r.expected_deviations, r.seed) == plan
            ),
            None,
        )
        if existing is not None:
            sample_id = existing.id
        else:
            sample_id = f"S{run.seq}-{control_id}-{len(drawn_before) + 1}"
            items = draw(population, size, seed)
            connection.execute(
                insert(SAMPLE).values(
                    id=sample_id,
                    run_id=run.run_id,
                    control_id=control_id,
                    method=METHOD,
                    confidence=confidence,
                    tolerable_error=tolerable_error,
                    expected_deviations=expected_deviations,
                    seed=seed,
                    population=len(population),
                    size=len(items),
                    items=json.dumps(items),
                    drawn_at=now_utc(),
                )
            )
    return get_sample(engine, sample_id)


def get_sample(engine: Engine, sample_id: str) -> Sample:
    """A sample with the latest review of each item."""
    create_schema(engine)
    with engine.connect() as connection:
        row = connection.execute(select(SAMPLE).where(SAMPLE.c.id == sample_id)).first()
        if row is None:
            raise EvidenceError(
                f"no sample '{sample_id}'", hint="draw one with `iso-social sample --control ID`"
            )
        reviews = {
            r.item_id: Review(r.verdict, r.reviewer, r.note, r.recorded_at)
            for r in connection.execute(
                select(SAMPLE_REVIEW)
                .where(SAMPLE_REVIEW.c.sample_id == sample_id)
                .order_by(SAMPLE_REVIEW.c.id)
            )
        }
    return _sample(row, reviews)


def record_review(
    engine: Engine, sample_id: str, item_id: str, verdict: str, reviewer: str, note: str = ""
) -> None:
    """Append a reviewer's verdict on one sampled item."""
    if verdict not in REVIEW_VERDICTS:
        raise EvidenceError(
            f"--verdict: '{verdict}' is not a review verdict",
            hint=f"use one of: {', '.join(REVIEW_VERDICTS)}",
        )
    sample = get_sample(engine, sample_id)
    if item_id not in sample.items:
        raise EvidenceError(
            f"'{item_id}' is not in sample {sample_id}",
            hint=f"`iso-social sample show {sample_id}` lists its items",
        )
    with transaction(engine) as connection:
        connection.execute(
            insert(SAMPLE_REVIEW).values(
                sample_id=sample_id,
                item_id=item_id,
                verdict=verdict,
                reviewer=reviewer,
                note=note,
                recorded_at=now_utc(),
            )
        )


def samples_of_run(engine: Engine, run_id: str) -> list[dict[str, Any]]:
    """Every sample drawn from a run, JSON-ready."""
    create_schema(engine)
    with engine.connect() as connection:
        ids = list(
            connection.execute(
                select(SAMPLE.c.id).where(SAMPLE.c.run_id == run_id).order_by(SAMPLE.c.id)
            ).scalars()
        )
    return [get_sample(engine, sample_id).as_dict() for sample_id in ids]
