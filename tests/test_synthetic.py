"""The synthetic data: deterministic for a seed, and realistic enough for every shipped control
to have something to find."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from iso_social import pipeline
from iso_social.config import resource_dir
from iso_social.policy import load_policies
from iso_social.synthetic import ESCALATE_AFTER, synthetic_records


def _at(record: dict[str, object]) -> datetime:
    return datetime.fromisoformat(str(record["created_at"]).replace("Z", "+00:00"))


def test_the_same_seed_gives_the_same_records() -> None:
    assert list(synthetic_records(500, seed=3)) == list(synthetic_records(500, seed=3))
    assert list(synthetic_records(500, seed=3)) != list(synthetic_records(500, seed=4))


def test_cases_open_two_days_are_escalated_mostly_in_time(tmp_path: Path, sqlite_url: str) -> None:
    """A case left open 48 hours goes to a supervisor, as the shipped complaint policy asks:
    most within its deadline, some late or never (so the control has both to show)."""
    records = list(synthetic_records(3000, seed=7))
    escalations = [r for r in records if r["kind"] == "escalation"]
    assert len(escalations) > 30 and {r["to"] for r in escalations} == {"supervisor"}
    first: dict[object, datetime] = {}
    answered: dict[object, datetime] = {}
    for r in records:
        if r["kind"] != "message":
            continue
        cid = r["conversation_id"]
        if r["direction"] == "inbound":
            first.setdefault(cid, _at(r))
        elif r["author_role"] == "agent":
            answered.setdefault(cid, _at(r))
    for escalation in escalations:
        cid = escalation["conversation_id"]
        reply = answered.get(cid)
        assert reply is None or reply - first[cid] > ESCALATE_AFTER, cid
        assert _at(escalation) > first[cid] + ESCALATE_AFTER
    path = tmp_path / "log.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    pipeline.ingest_logs([path], db=sqlite_url)
    policies = load_policies([resource_dir("policies") / "complaints.yaml"])
    run = pipeline.run_check(
        policies,
        db=sqlite_url,
        start=datetime.fromisoformat("2026-10-01T00:00:00+00:00"),
        end=datetime.fromisoformat("2026-11-01T00:00:00+00:00"),
    )
    (control,) = [c for c in run.document["controls"] if c["id"] == "CS-ESC-01"]
    assert 0.7 < control["rate"] < 0.97, control["statement"]
