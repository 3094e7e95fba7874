"""Grading outcomes into verdicts, and evaluating whole policies."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from iso_social.check import evaluate_policy
from iso_social.domain import Channel, Conversation, Verdict, Window
from iso_social.policy import load_policy
from tests.conftest import EXAMPLE_POLICY, T0

WINDOW = Window(T0 - timedelta(days=1), T0 + timedelta(days=3))


@pytest.mark.parametrize(
    ("severity", "verdict"),
    [
        ("major", Verdict.MAJOR_NONCONFORMITY),
        ("minor", Verdict.MINOR_NONCONFORMITY),
        ("observation", Verdict.OBSERVATION),
    ],
)
def test_a_failing_control_is_graded_by_its_severity(
    tmp_path: Path, make_conversation: Callable[..., Conversation], severity: str, verdict: Verdict
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(EXAMPLE_POLICY.replace("severity: major", f"severity: {severity}"))
    late = make_conversation("c1", (0, "in"), (120, "out"))
    (finding,) = evaluate_policy([load_policy(path)], WINDOW, [late])
    assert finding.verdict is verdict
    assert finding.control_id == "TW-FRT-01" and finding.policy_id == "POL-CS-01"
    assert finding.clauses == ("ISO 9001:2015 8.2.1", "ISO 10002:2018 8.3")
    assert finding.params["deadline"] == "PT1H"


def test_conforming_and_not_evaluated(
    example_policy: Path, make_conversation: Callable[..., Conversation]
) -> None:
    policy = load_policy(example_policy)
    (ok,) = evaluate_policy([policy], WINDOW, [make_conversation("c1", (0, "in"), (5, "out"))])
    assert ok.verdict is Verdict.CONFORMS
    (empty,) = evaluate_policy([policy], WINDOW, [])
    assert empty.verdict is Verdict.NOT_EVALUATED


def test_controls_only_see_their_channels(
    example_policy: Path, make_conversation: Callable[..., Conversation]
) -> None:
    email = make_conversation("e1", (0, "in"), (600, "out"), channel=Channel.EMAIL)
    (finding,) = evaluate_policy([load_policy(example_policy)], WINDOW, [email])
    assert finding.verdict is Verdict.NOT_EVALUATED


def test_each_set_of_channels_selects_its_conversations_in_order(
    make_conversation: Callable[..., Conversation],
) -> None:
    """Selections made for one control serve the next on the same channels: one channel's
    come from a single pass over the window, the others from a filter, in the window's
    order either way, with their ids once asked for."""
    from iso_social.check import _on, _selected

    channels = [Channel.TWITTER, Channel.EMAIL, Channel.TWITTER, Channel.CHAT, Channel.EMAIL]
    window = [make_conversation(f"c{n}", (n, "in"), channel=c) for n, c in enumerate(channels)]
    selections: dict[Any, Any] = {}
    for wanted in (
        {Channel.TWITTER},
        {Channel.EMAIL, Channel.CHAT},
        set(),
        {Channel.PHONE},
        {Channel.CHAT},
    ):
        chosen = frozenset(wanted)
        selection = _selected(chosen, window, (), selections)
        assert (selection.conversations, selection.calls) == (_on(chosen, window), [])
        assert selection.ids() == [c.conversation_id for c in _on(chosen, window)]
    email = selections[frozenset({Channel.EMAIL})]
    assert [c.conversation_id for c in email.conversations] == ["c1", "c4"]
    assert _selected(frozenset({Channel.EMAIL}), window, (), selections).ids() is email.ids()


BANDED = EXAMPLE_POLICY.replace(
    "    severity: major\n",
    "    severity: observation\n    grading:\n      - {below: 0.9, grade: minor}\n"
    "      - {below: 0.5, grade: major}\n",
)


@pytest.mark.parametrize(
    ("late", "verdict"),
    [(1, Verdict.OBSERVATION), (2, Verdict.MINOR_NONCONFORMITY), (6, Verdict.MAJOR_NONCONFORMITY)],
)
def test_grading_bands(
    tmp_path: Path, make_conversation: Callable[..., Conversation], late: int, verdict: Verdict
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(BANDED.replace("target: 0.95", "target: 0.95"))
    conversations = [
        make_conversation(f"c{i}", (0, "in"), (120 if i < late else 5, "out")) for i in range(10)
    ]
    (finding,) = evaluate_policy([load_policy(path)], WINDOW, conversations)
    assert finding.verdict is verdict


WAIVED = (
    EXAMPLE_POLICY
    + """\
waivers:
  - control: TW-FRT-01
    justification: Outage of the social tool on 5 October; replies were impossible
    approved_by: Head of customer service
    approved_on: 2026-10-06
    expires: EXPIRES
    scope: SCOPE
"""
)


def test_a_waiver_of_conversations_removes_them_from_the_count(
    tmp_path: Path, make_conversation: Callable[..., Conversation]
) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(
        WAIVED.replace("EXPIRES", "2027-01-01").replace("SCOPE", "{conversations: [c1]}")
    )
    late = make_conversation("c1", (0, "in"), (120, "out"))
    ok = make_conversation("c2", (0, "in"), (5, "out"))
    (finding,) = evaluate_policy([load_policy(path)], WINDOW, [late, ok])
    assert finding.verdict is Verdict.CONFORMS and finding.outcome.population == 1
    assert finding.waivers[0]["items_waived"] == 1
    assert "1 waived cases are not counted" in finding.outcome.statement
    # nor among the population an auditor's sample is drawn from
    assert finding.outcome.population_ids == ("c2",) and not finding.outcome.nonconforming_ids


def test_a_whole_control_waiver_and_an_expired_one(
    tmp_path: Path, make_conversation: Callable[..., Conversation]
) -> None:
    path = tmp_path / "p.yaml"
    late = make_conversation("c1", (0, "in"), (120, "out"))
    path.write_text(WAIVED.replace("EXPIRES", "2027-01-01").replace("SCOPE", "{}"))
    (waived,) = evaluate_policy([load_policy(path)], WINDOW, [late])
    assert waived.verdict is Verdict.WAIVED and waived.outcome.nonconforming == 1
    path.write_text(WAIVED.replace("EXPIRES", "2026-10-06").replace("SCOPE", "{}"))
    (expired,) = evaluate_policy([load_policy(path)], WINDOW, [late])
    assert expired.verdict is Verdict.MAJOR_NONCONFORMITY and not expired.waivers
    assert "expired on 2026-10-06" in expired.warnings[0]


def test_a_waiver_must_name_a_control_of_its_document(tmp_path: Path) -> None:
    from iso_social.errors import PolicyErrors

    path = tmp_path / "p.yaml"
    path.write_text(
        WAIVED.replace("EXPIRES", "2027-01-01")
        .replace("SCOPE", "{}")
        .replace("  - control: TW-FRT-01", "  - control: TW-XXX-99")
    )
    with pytest.raises(PolicyErrors, match="no control with that id"):
        load_policy(path)


def test_controls_shared_among_processes_give_what_one_process_gives(
    tmp_path: Path, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`workers`: the shipped policies over synthetic logs, evaluated in forked workers (where
    the platform forks), here when a worker dies, and here when the platform does not fork,
    equal the one-process findings."""
    import json
    import os
    import sys
    from datetime import UTC, datetime

    from iso_social import check, pipeline
    from iso_social.config import resource_dir
    from iso_social.policy import load_policies
    from iso_social.store import repository
    from iso_social.store.database import opened_engine
    from iso_social.synthetic import synthetic_records

    start = datetime(2026, 10, 1, tzinfo=UTC)
    path = tmp_path / "log.jsonl"
    records = synthetic_records(1500, seed=4, start=start)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    pipeline.ingest_logs([path], db=sqlite_url)
    window = Window(start, start + timedelta(days=31))
    with opened_engine(sqlite_url) as engine, engine.connect() as connection:
        conversations = repository.conversations_in(connection, window)
        calls = repository.calls_in(connection, window)
    policies = load_policies([resource_dir("policies")])
    alone = evaluate_policy(policies, window, conversations, calls)
    assert sum(f.outcome.population for f in alone) > 1000
    if sys.platform == "linux":
        here: list[str] = []  # what this process evaluates (the workers append to their copy)
        real = check.evaluate_control

        def counted(control: Any, *args: Any, **kwargs: Any) -> Any:
            here.append(control.spec.id)
            return real(control, *args, **kwargs)

        monkeypatch.setattr(check, "evaluate_control", counted)
        assert evaluate_policy(policies, window, conversations, calls, workers=2) == alone
        assert not here  # every control ran in a forked worker
        parent = os.getpid()

        def killed(control: Any, *args: Any, **kwargs: Any) -> Any:  # as the OOM killer does
            if os.getpid() != parent:
                os._exit(9)
            return real(control, *args, **kwargs)

        monkeypatch.setattr(check, "evaluate_control", killed)
        assert evaluate_policy(policies, window, conversations, calls, workers=2) == alone
    monkeypatch.setattr(check, "_can_fork", lambda: False)
    assert evaluate_policy(policies, window, conversations, calls, workers=2) == alone
