"""Grading outcomes into verdicts, and evaluating whole policies."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

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
