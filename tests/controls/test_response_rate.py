"""response_rate: public contacts that get any reply at all."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from iso_social.controls import ControlInput
from iso_social.controls.response_rate import ResponseRate, ResponseRateParams
from iso_social.domain import Conversation, Window
from tests.conftest import T0

Make = Callable[..., Conversation]


def test_ignored_complaints_are_visible(make_conversation: Make) -> None:
    conversations = [
        make_conversation("c1", (0, "in"), (3000, "out")),
        make_conversation("c2", (0, "in"), (1, "bot")),
        make_conversation("c3", (0, "in")),
        make_conversation("c4", (9 * 24 * 60 - 30, "in")),
    ]
    window = Window(T0 - timedelta(days=1), T0 + timedelta(days=9))
    outcome = ResponseRate().evaluate(
        ControlInput(window=window, conversations=conversations), ResponseRateParams(target=0.5)
    )
    assert (outcome.population, outcome.conforming) == (3, 1)  # c4 is within its grace
    assert {e.conversation_id for e in outcome.evidence} == {"c2", "c3"}
    assert outcome.measures["pending"] == 1 and outcome.conforms is False
