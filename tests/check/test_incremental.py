"""Incremental checks give exactly the results of full checks.

Logs arrive in batches (some records late, with old timestamps), the window slides, and after
each arrival an incremental check (keeping tallies between runs) is compared with a full check
of the same window over the same data: every finding, with its statement, measures, evidence,
population ids and upcoming breaches, must be equal. Meanwhile most conversations are reused,
not assessed again.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from iso_social import check, pipeline
from iso_social.check import IncrementalState, evaluate_control, evaluate_policy, marks_of
from iso_social.config import resource_dir
from iso_social.controls.repeat_contact import RepeatContact
from iso_social.domain import Channel, Conversation, Window
from iso_social.policy import load_policies
from iso_social.store import repository
from iso_social.store.database import opened_engine
from iso_social.synthetic import synthetic_records
from tests.conftest import T0

START = datetime(2026, 10, 1, tzinfo=UTC)
ARRIVALS = [START + timedelta(days=d) for d in (3, 4, 5, 6, 8, 10)]
WINDOW = timedelta(days=4)


def batches(seed: int) -> list[list[dict[str, object]]]:
    """Records grouped by when they arrive: by their time, and 5% of them one arrival late."""
    rng = random.Random(seed)
    records = list(synthetic_records(3000, seed=seed, start=START, days=10))
    groups: list[list[dict[str, object]]] = [[] for _ in ARRIVALS]
    for record in records:
        moment = datetime.fromisoformat(
            str(record.get("created_at") or record.get("offered_at")).replace("Z", "+00:00")
        )
        index = next((i for i, cut in enumerate(ARRIVALS) if moment < cut), len(ARRIVALS) - 1)
        if rng.random() < 0.05:
            index = min(index + 1, len(ARRIVALS) - 1)  # a late export: old times, new arrival
        groups[index].append(record)
    return groups


@pytest.mark.parametrize(
    ("seed", "window_kind", "read", "segment"),
    [
        (3, "sliding", "fresh", 2048),
        (17, "sliding", "fresh", 3),
        (5, "sliding", "kept", 3),
        (7, "growing", "kept", 16),
    ],
)
def test_incremental_checks_equal_full_checks(
    seed: int,
    window_kind: str,
    read: str,
    segment: int,
    tmp_path: Path,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Windows slide (the scheduler's last N days) or grow (month to date); conversations are
    read afresh, or kept between checks and refreshed as the scheduler does, so that only the
    changed ones are new objects, running totals are updated in place and only those are
    summarised again as contacts. The tallies' lists are joined by segments of `segment`
    conversations (a window of these 3,000 records fits in one segment of the real size:
    smaller ones make segments kept, joined again and cut afresh as the window moves)."""
    monkeypatch.setattr(check, "_SEGMENT", segment)
    policies = load_policies([resource_dir("policies")])
    state = IncrementalState()
    later_assessed = later_total = 0
    summarised: list[str] = []
    contact = RepeatContact.contact
    monkeypatch.setattr(
        RepeatContact,
        "contact",
        lambda self, conversation: summarised.append("") or contact(self, conversation),
    )
    later_summarised = later_conversations = 0
    recounted: list[int] = []  # a control counting its whole window again
    count_all = check._count_all
    monkeypatch.setattr(check, "_count_all", lambda *args: recounted.append(1) or count_all(*args))
    for n, (cut, group) in enumerate(zip(ARRIVALS, batches(seed), strict=True)):
        path = tmp_path / f"batch-{n}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in group), encoding="utf-8")
        pipeline.ingest_logs([path], db=db_url)
        window = Window(cut - WINDOW if window_kind == "sliding" else START, cut)
        with opened_engine(db_url) as engine, engine.connect() as connection:
            if read == "kept":
                state.loaded = repository.refresh_conversations(connection, window, state.loaded)
                conversations = state.loaded.ordered()
            else:
                conversations = repository.conversations_in(connection, window)
            calls = repository.calls_in(connection, window)
        assessed, total = state.assessed, state.assessed + state.reused
        summarised.clear()
        recounted.clear()
        incremental = evaluate_policy(policies, window, conversations, calls, state)
        # every check after the first updates what it kept, the windows only move forward
        assert not n or not recounted, f"arrival {n}: {len(recounted)} controls counted again"
        if n:  # after the first check, which assesses everything
            later_assessed += state.assessed - assessed
            later_total += state.assessed + state.reused - total
            later_summarised += len(summarised)
            later_conversations += len(conversations)
        full = evaluate_policy(policies, window, conversations, calls)
        assert incremental == full, f"arrival {n}"
        assert any(f.outcome.population for f in full)
    assert later_assessed < 0.6 * later_total, (later_assessed, later_total)
    # kept conversations are the same objects: their contacts are kept; read afresh, all new
    expected = 0.6 * later_conversations if read == "kept" else later_conversations
    assert 0 < later_summarised <= expected, (later_summarised, later_conversations)


def test_a_changed_policy_is_assessed_afresh(tmp_path: Path, sqlite_url: str) -> None:
    """Tallies are kept per policy version: a new deadline re-assesses everything."""
    path = tmp_path / "log.jsonl"
    path.write_text(
        "".join(json.dumps(r) + "\n" for r in synthetic_records(500, seed=1, start=START)),
        encoding="utf-8",
    )
    pipeline.ingest_logs([path], db=sqlite_url)
    folder = tmp_path / "policies"
    folder.mkdir()
    source = (resource_dir("policies") / "social.yaml").read_text(encoding="utf-8")
    (folder / "social.yaml").write_text(source, encoding="utf-8")
    window = Window(START, START + timedelta(days=31))
    with opened_engine(sqlite_url) as engine, engine.connect() as connection:
        conversations = repository.conversations_in(connection, window)
    state = IncrementalState()
    evaluate_policy(load_policies([folder]), window, conversations, (), state)
    (folder / "social.yaml").write_text(source.replace("deadline: 1h", "deadline: 2h"), "utf-8")
    changed = load_policies([folder])
    reused = state.reused
    assert evaluate_policy(changed, window, conversations, (), state) == evaluate_policy(
        changed, window, conversations
    )
    assert state.reused == reused  # nothing reused across policy versions


def test_scheduled_runs_record_what_a_full_check_records(tmp_path: Path, sqlite_url: str) -> None:
    """Through the pipeline: an incremental run and a full run of one window record the same
    controls."""
    path = tmp_path / "log.jsonl"
    path.write_text(
        "".join(json.dumps(r) + "\n" for r in synthetic_records(800, seed=2, start=START)),
        encoding="utf-8",
    )
    pipeline.ingest_logs([path], db=sqlite_url)
    policies = load_policies([resource_dir("policies")])
    state = IncrementalState()
    end = START + timedelta(days=20)
    for shift in (0, 1):  # a first run fills the state, the second reuses it
        window_end = end + timedelta(days=shift)
        incremental, _ = pipeline.run_check_with_findings(
            policies, db=sqlite_url, start=window_end - WINDOW, end=window_end, state=state
        )
    full = pipeline.run_check(policies, db=sqlite_url, start=window_end - WINDOW, end=window_end)
    assert incremental.document["controls"] == full.document["controls"]
    assert state.reused > 0


def test_running_totals_count_out_exactly_what_they_counted_in() -> None:
    """Taking a conversation's tally away leaves what adding up the others gives: a count only
    it held is gone, not left at zero (controls list channels by the counts present)."""
    from collections import Counter

    from iso_social.check import Kept, Totals
    from iso_social.controls.base import Tally

    window = Window(START, START + timedelta(days=1))
    mark = ((), START + timedelta(hours=1))
    shared = Kept.of(
        Tally(
            conforming=1,
            counts=Counter({"channel:twitter:population": 1}),
            valid_until=START + timedelta(days=2),
        )
    )
    only = Kept.of(
        Tally(
            conforming=0,
            pending=1,
            counts=Counter({"channel:twitter:population": 1, "channel:email:population": 0}),
            settled=False,
        )
    )
    totals = Totals()
    totals.add("a", mark, shared, window)
    totals.add("b", mark, only, window)
    both = {"a": (mark, shared), "b": (mark, only)}
    assert totals.tally(["a", "b"], both).counts == {
        "channel:twitter:population": 2,
        "channel:email:population": 0,
    }
    assert not totals.tally(["a", "b"], both).settled
    in_bulk = Totals()
    in_bulk.add_all(both, window)
    assert in_bulk.tally(["a", "b"], both) == totals.tally(["a", "b"], both)
    assert (in_bulk.holders, in_bulk.unsettled, in_bulk.starts, in_bulk.expiring) == (
        totals.holders,
        totals.unsettled,
        sorted(totals.starts),
        [(START + timedelta(days=2), "a")],
    )
    assert in_bulk.expired(Window(START, START + timedelta(days=2))) == set()
    assert in_bulk.expired(Window(START, START + timedelta(days=3))) == {"a"}
    totals.take("b", only)
    remaining = totals.tally(["a"], {"a": (mark, shared)})
    assert list(remaining.counts) == ["channel:twitter:population"]
    assert (remaining.conforming, remaining.pending, remaining.settled) == (1, 0, True)


def test_a_grown_segment_is_cut_and_the_others_keep_their_joined_lists(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """New conversations gather in the last segment (their ids sort last): once it has grown
    past four times the size it is cut into segments of the size, joined again, while the
    segments before it keep their joined lists; the whole tally stays the join of every
    conversation's lists in the window's order."""
    from iso_social.check import Kept, Totals
    from iso_social.controls.base import Tally

    monkeypatch.setattr(check, "_SEGMENT", 3)
    window = Window(START, START + timedelta(days=1))
    mark = ((), START + timedelta(hours=1))
    kept: dict[str, Any] = {}
    totals = Totals()

    def arrive(cid: str) -> None:
        kept[cid] = (mark, Kept.of(Tally(conforming=1, population_ids=[cid])))
        totals.add(cid, mark, kept[cid][1], window)

    for n in range(12):
        arrive(f"c{n:03}")
    order = sorted(kept)
    assert totals.tally(order, kept).population_ids == order
    before = list(totals._joined)
    assert totals._bounds == ["c003", "c006", "c009"]
    for n in range(12, 30):  # 18 new: the last segment (c009...) grows to 21
        arrive(f"c{n:03}")
    order = sorted(kept)
    tally = totals.tally(order, kept)
    assert tally.population_ids == order and tally.conforming == 30
    assert totals._bounds == ["c003", "c006", "c009", *(f"c{n:03}" for n in range(12, 30, 3))]
    assert all(totals._joined[i] is before[i] for i in range(3))  # not joined again
    arrive("c030")  # the last segment, now of 4, is joined again but not cut
    order = sorted(kept)
    assert totals.tally(order, kept).population_ids == order
    assert totals._bounds[-1] == "c027"


def test_a_case_not_old_enough_yet_is_reused_until_the_window_reaches_its_age(
    make_conversation: Callable[..., Conversation],
) -> None:
    """An unanswered case whose 48 h escalation trigger lies past the window's end is counted
    as untriggered, valid until that moment: reused by later checks whose window ends before
    it (not assessed again), assessed again once a window's end passes it, with the finding
    a full check gives every time."""
    policies = load_policies([resource_dir("policies")])
    policy, control = next(
        (p, c) for p in policies for c in p.controls if c.spec.type == "escalation_path"
    )
    waiting = make_conversation("c1", (0, "in"))  # never answered: its age trigger is at 48 h
    state = IncrementalState()
    assessed = []
    for hours in (10, 20, 30, 50, 60):
        window = Window(T0 - timedelta(hours=1), T0 + timedelta(hours=hours))
        before = state.assessed
        finding = evaluate_control(
            control, policy, window, [waiting], (), state, marks_of([waiting], state)
        )
        assert finding == evaluate_control(control, policy, window, [waiting], ())
        assessed.append(state.assessed - before)
    # at 50 h the escalation is due (within 4 h): pending, so assessed at the next check too
    assert assessed == [1, 0, 0, 1, 1]
    assert finding.outcome.nonconforming == 1  # at 60 h: not escalated within 4 h of 48 h


@pytest.mark.parametrize(
    ("control_id", "steps", "channel", "measured"),
    [
        ("TW-FRT-01", ((0, "in"),), "twitter", "of calendar time waited)."),  # 1 h deadline
        ("EM-ACK-01", ((0, "in"), (0.2, "auto")), "email", "of silence: no human reply"),
    ],
)
def test_an_unanswered_case_is_reused_with_its_wait_measured_to_each_window_end(
    make_conversation: Callable[..., Conversation],
    control_id: str,
    steps: tuple[tuple[float, str], ...],
    channel: str,
    measured: str,
) -> None:
    """A case never answered by its deadline is counted once (`Waited`): later checks reuse
    it, and its evidence says how long the customer had waited by each window's end."""
    policies = load_policies([resource_dir("policies")])
    policy, control = next((p, c) for p in policies for c in p.controls if c.spec.id == control_id)
    silent = make_conversation("c1", *steps, channel=Channel(channel))
    state = IncrementalState()
    assessed, details = [], []
    for days in (3, 4, 5):
        window = Window(T0 - timedelta(hours=1), T0 + timedelta(days=days))
        before = state.assessed
        finding = evaluate_control(
            control, policy, window, [silent], (), state, marks_of([silent], state)
        )
        assert finding == evaluate_control(control, policy, window, [silent], ())
        (item,) = finding.outcome.evidence
        assert measured in item.detail and "{waited}" not in item.detail
        details.append(item.detail)
        assessed.append(state.assessed - before)
    assert assessed == [1, 0, 0]
    assert len(set(details)) == 3  # the wait grows with each window's end
    if control_id == "TW-FRT-01":
        assert [d[d.index("UTC (") :] for d in details] == [
            f"UTC ({days} d of calendar time waited)." for days in (3, 4, 5)
        ]


def test_a_contact_type_without_kept_is_evaluated_over_every_contact(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plug-in `PerContact` type written before `evaluate_contacts` took `kept` still works
    in scheduled checks: it is called without it, over every contact."""
    evaluate_contacts = RepeatContact.evaluate_contacts
    called: list[int] = []

    def without_kept(self: RepeatContact, contacts: Any, data: Any, params: Any) -> Any:
        called.append(1)
        return evaluate_contacts(self, contacts, data, params)

    monkeypatch.setattr(RepeatContact, "evaluate_contacts", without_kept)
    path = tmp_path / "log.jsonl"
    path.write_text(
        "".join(json.dumps(r) + "\n" for r in synthetic_records(500, seed=2, start=START)),
        encoding="utf-8",
    )
    pipeline.ingest_logs([path], db=sqlite_url)
    window = Window(START, START + timedelta(days=31))
    with opened_engine(sqlite_url) as engine, engine.connect() as connection:
        conversations = repository.conversations_in(connection, window)
    policies = load_policies([resource_dir("policies")])
    state = IncrementalState()
    first = evaluate_policy(policies, window, conversations, (), state)
    assert evaluate_policy(policies, window, conversations, (), state) == first
    assert first == evaluate_policy(policies, window, conversations, ())
    assert len(called) == 3 and state.counted == {}


def test_a_check_with_nothing_new_gives_the_last_findings_without_counting(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scheduled check whose refresh read nothing again, over the same window and policies,
    gives the last check's findings without counting anything; a later window end over the
    same conversations, a changed policy, new messages in known conversations or new calls
    make it count again, and every check's findings are a full check's."""
    policies = load_policies([resource_dir("policies")])
    counted: list[int] = []
    one_by_one = check._one_by_one
    monkeypatch.setattr(
        check, "_one_by_one", lambda *a, **k: counted.append(1) or one_by_one(*a, **k)
    )
    state = IncrementalState()

    def scheduled(end: datetime, chosen: list[Any] = policies) -> bool:
        """Whether the scheduled check counted (its findings checked against a full one's)."""
        counted.clear()
        _, findings = pipeline.run_check_with_findings(
            chosen, db=db_url, start=START, end=end, state=state
        )
        did = bool(counted)
        full = pipeline.run_check_with_findings(chosen, db=db_url, start=START, end=end)
        assert findings == full[1]
        return did

    def ingest(name: str, records: list[dict[str, object]]) -> None:
        path = tmp_path / f"{name}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
        pipeline.ingest_logs([path], db=db_url)

    groups = batches(11)
    ingest("first", groups[0] + groups[1])  # records before ARRIVALS[1]
    assert scheduled(ARRIVALS[1])  # the first check
    assert not scheduled(ARRIVALS[1])  # nothing new: the last findings
    assert not scheduled(ARRIVALS[1])
    end = ARRIVALS[2]  # no conversation has activity after ARRIVALS[1]: only the end moved
    assert scheduled(end)
    assert not scheduled(end)
    fewer = [replace(policies[0], controls=policies[0].controls[:1]), *policies[1:]]
    fewer[0] = replace(fewer[0], sha256="another version")
    assert scheduled(end, fewer)
    known = {r.get("conversation_id") for r in groups[0] + groups[1]}
    later = [r for r in groups[2] if r.get("kind", "message") == "message"]
    ingest("messages", [r for r in later if r["conversation_id"] in known])
    assert scheduled(end, fewer)  # messages in known conversations
    assert not scheduled(end, fewer)
    ingest("calls", [r for r in groups[2] if r.get("kind") == "call"])
    assert scheduled(end, fewer)  # calls only
    assert not scheduled(end, fewer)
    ingest("rest", [r for r in later if r["conversation_id"] not in known])
    with opened_engine(db_url) as engine, engine.connect() as connection:
        # a check that read the new records and stopped before it counted them
        state.loaded = repository.refresh_conversations(
            connection, Window(START, end), state.loaded
        )
    assert scheduled(end, fewer)  # the refresh found nothing new since that read
