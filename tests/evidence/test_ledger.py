"""The ledger: append-only, hash-chained, readable by id or position."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update

from iso_social.errors import EvidenceError
from iso_social.evidence.ledger import chain_digest, load_run, record_run, run_headers
from iso_social.evidence.models import GENESIS_DIGEST, canonical_json, iso_utc
from iso_social.policy import Policy
from iso_social.store.database import opened_engine
from iso_social.store.tables import FINDING
from tests.evidence.conftest import run_day

MOMENT = datetime(2026, 11, 1, tzinfo=UTC)


def document(run_id: str) -> dict[str, object]:
    return {
        "run_id": run_id,
        "tool_version": "0",
        "controls": [
            {
                "id": "X-1",
                "type": "first_response_time",
                "policy_id": "P",
                "verdict": "conforms",
                "population": 3,
                "nonconforming": 0,
                "rate": 1.0,
            }
        ],
    }


def test_runs_chain_to_their_predecessor(db_url: str) -> None:
    with opened_engine(db_url) as engine:
        first = record_run(engine, document("r1"), MOMENT, MOMENT, MOMENT)
        second = record_run(engine, document("r2"), MOMENT, MOMENT, MOMENT)
        assert first.previous_digest == GENESIS_DIGEST
        assert second.previous_digest == first.digest
        assert second.digest == chain_digest(first.digest, 2, document("r2"))
        latest = load_run(engine)
        assert latest.run_id == "r2" and latest.document == document("r2")
        assert load_run(engine, "latest-1").run_id == "r1"
        assert load_run(engine, "r1").digest == first.digest
        assert [r.run_id for r in run_headers(engine)] == ["r2", "r1"]


def test_missing_runs_are_explained(db_url: str) -> None:
    with opened_engine(db_url) as engine:
        with pytest.raises(EvidenceError, match="no recorded run 'latest'"):
            load_run(engine)
        with pytest.raises(EvidenceError, match="not a run reference"):
            load_run(engine, "latest-x")


def test_canonical_json_is_order_independent() -> None:
    assert canonical_json({"b": 1, "a": [1, {"d": 2, "c": 3}]}) == b'{"a":[1,{"c":3,"d":2}],"b":1}'
    assert chain_digest(GENESIS_DIGEST, 1, {"a": 1}) != chain_digest(GENESIS_DIGEST, 1, {"a": 2})
    assert chain_digest(GENESIS_DIGEST, 1, {"a": 1}) != chain_digest(GENESIS_DIGEST, 2, {"a": 1})


def test_run_headers_give_what_the_documents_say_without_reading_them(
    evidence_db: str, policy: Policy
) -> None:
    runs = [run_day(evidence_db, policy, n) for n in (1, 2, 3)]
    with opened_engine(evidence_db) as engine:
        headers = run_headers(engine)
        assert [h.run_id for h in headers] == [r.run_id for r in reversed(runs)]
        for header, run in zip(headers, reversed(runs), strict=True):
            assert header.summary == run.document["summary"]
            controls = run.document["controls"]
            assert header.verdicts == {c["id"]: c["verdict"] for c in controls}
            assert header.rates == {c["id"]: c["rate"] for c in controls}
            assert (header.seq, header.digest) == (run.seq, run.digest)
            assert iso_utc(header.window_end) == run.document["window"]["to"]
        ends = [h.window_end for h in headers]
        assert [h.window_end for h in run_headers(engine, ended_after=ends[2])] == ends[:2]
        assert [h.window_end for h in run_headers(engine, ended_by=ends[1])] == ends[1:]
        assert [h.window_end for h in run_headers(engine, 1, ended_by=ends[1])] == ends[1:2]
        assert run_headers(engine, ended_after=ends[0]) == []
        assert [h.seq for h in run_headers(engine, through=runs[1].seq)] == [2, 1]
        assert [h.seq for h in run_headers(engine, 1, through=runs[1].seq)] == [2]


def test_a_header_with_an_edited_verdict_still_lists(evidence_db: str, policy: Policy) -> None:
    """`evidence list` must not fail on an edited result row: `verify` is what reports it."""
    run = run_day(evidence_db, policy, 1)
    with opened_engine(evidence_db) as engine:
        with engine.begin() as connection:
            connection.execute(update(FINDING).values(verdict="forged"))
        (header,) = run_headers(engine)
    assert header.summary["controls"] == run.document["summary"]["controls"]
    assert header.summary["major_nonconformities"] == 0
