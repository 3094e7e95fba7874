"""The §10.2 lifecycle: fail, plan, act, two conforming runs, close; fail again, reopened."""

from __future__ import annotations

import pytest

from iso_social import pipeline
from iso_social.errors import EvidenceError
from iso_social.evidence.register import NcStatus
from iso_social.policy import Policy
from tests.evidence.conftest import run_day

NC = "NC-TW-FRT-01"


def test_full_lifecycle_and_repeat(evidence_db: str, policy: Policy) -> None:
    db = evidence_db
    first = run_day(db, policy, 1)
    nc, events = pipeline.show_nonconformity(db, NC)
    assert nc.status is NcStatus.OPEN and nc.grade == "minor"
    assert nc.first_seen_run == first.run_id and events[0].event == "raised"
    assert "Requirement: Public tweets get a first human reply" in nc.statement

    with pytest.raises(EvidenceError, match="needs root cause and corrective action"):
        pipeline.update_nonconformity(db, NC, "qm", status=NcStatus.ACTION_PLANNED)
    with pytest.raises(EvidenceError, match="cannot be closed: it is open"):
        pipeline.close_nonconformity(db, NC, "qm")
    pipeline.update_nonconformity(
        db,
        NC,
        "qm",
        owner="Social lead",
        root_cause="No rota",
        corrective_action="Weekend rota",
        correction="Replied to all",
        effectiveness_criteria="2 conforming runs",
        status=NcStatus.ACTION_PLANNED,
    )
    pipeline.update_nonconformity(db, NC, "qm", status=NcStatus.ACTION_TAKEN)

    run_day(db, policy, 2)
    nc, _ = pipeline.show_nonconformity(db, NC)
    assert nc.status is NcStatus.VERIFYING and nc.conforming_runs == 1
    with pytest.raises(EvidenceError, match="conformed in 1 of the 2 runs"):
        pipeline.close_nonconformity(db, NC, "qm")
    run_day(db, policy, 3)
    closed = pipeline.close_nonconformity(db, NC, "qm", "effective")
    assert closed.status is NcStatus.CLOSED and closed.closed_at is not None

    again = run_day(db, policy, 1)
    nc, events = pipeline.show_nonconformity(db, NC)
    assert nc.status is NcStatus.REOPENED and nc.is_repeat and nc.repeat_count == 1
    assert nc.last_seen_run == again.run_id
    assert nc.grade == "major"  # escalate_repeated_minor: true in the policy
    assert [e.event for e in events][-2:] == ["reopened", "escalated"]
    assert {e.actor for e in events} == {"iso-social", "qm"}


def test_failing_after_the_action_restarts_the_effectiveness_count(
    evidence_db: str, policy: Policy
) -> None:
    run_day(evidence_db, policy, 1)
    pipeline.update_nonconformity(
        evidence_db, NC, "qm", root_cause="r", corrective_action="a", status=NcStatus.ACTION_PLANNED
    )
    pipeline.update_nonconformity(evidence_db, NC, "qm", status=NcStatus.ACTION_TAKEN)
    run_day(evidence_db, policy, 2)
    run_day(evidence_db, policy, 1)
    nc, events = pipeline.show_nonconformity(evidence_db, NC)
    assert nc.status is NcStatus.ACTION_TAKEN and nc.conforming_runs == 0
    assert events[-1].event == "not effective"


def test_tool_owned_statuses_cannot_be_set_by_hand(evidence_db: str, policy: Policy) -> None:
    run_day(evidence_db, policy, 1)
    with pytest.raises(EvidenceError, match="set by the tool"):
        pipeline.update_nonconformity(evidence_db, NC, "qm", status=NcStatus.CLOSED)
    with pytest.raises(EvidenceError, match="no nonconformity 'NC-NOPE'"):
        pipeline.show_nonconformity(evidence_db, "NC-NOPE")


def test_compare_lists_new_persisting_and_resolved(evidence_db: str, policy: Policy) -> None:
    first = run_day(evidence_db, policy, 1)
    second = run_day(evidence_db, policy, 2)
    diff = pipeline.compare_with(evidence_db, second, "latest-1")
    assert diff == {"reference_run_id": first.run_id, "new": [], "persisting": [], "resolved": [NC]}
    third = run_day(evidence_db, policy, 1)
    assert pipeline.compare_with(evidence_db, third, "latest-1")["new"] == [NC]
