"""auto_reply_followup: an acknowledgement must be followed by a human."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from iso_social.controls import ControlInput
from iso_social.controls.auto_reply_followup import AutoReplyFollowup, AutoReplyFollowupParams
from iso_social.domain import Channel, Conversation, Window
from tests.conftest import T0

Make = Callable[..., Conversation]


def test_nine_days_of_silence_after_an_acknowledgement(make_conversation: Make) -> None:
    silent = make_conversation("c1", (0, "in"), (0.2, "auto"), channel=Channel.EMAIL)
    answered = make_conversation(
        "c2", (0, "in"), (0.2, "auto"), (300, "out"), channel=Channel.EMAIL
    )
    late = make_conversation(
        "c3", (0, "in"), (0.2, "auto-agent"), (3000, "out"), channel=Channel.EMAIL
    )
    window = Window(T0 - timedelta(days=1), T0 + timedelta(days=9))
    outcome = AutoReplyFollowup().evaluate(
        ControlInput(window=window, conversations=[silent, answered, late]),
        AutoReplyFollowupParams(),
    )
    assert (outcome.population, outcome.conforming) == (3, 1)
    details = {e.conversation_id: e.detail for e in outcome.evidence}
    assert "8 d 23 h of silence" in details["c1"]
    assert details["c3"].startswith("the first human reply came 2 d 1 h")
