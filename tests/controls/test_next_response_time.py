"""next_response_time: every later wait answered in time, from the oldest unanswered message."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from iso_social.controls import ControlInput
from iso_social.controls.next_response_time import NextResponseTime, NextResponseTimeParams
from iso_social.domain import Conversation, Status, StatusChange, Window
from tests.conftest import T0

WINDOW = Window(T0 - timedelta(days=1), T0 + timedelta(days=5))
Make = Callable[..., Conversation]


def evaluate(*conversations: Conversation, **params: object):  # type: ignore[no-untyped-def]
    return NextResponseTime().evaluate(
        ControlInput(window=WINDOW, conversations=conversations),
        NextResponseTimeParams.model_validate(params),
    )


def test_timed_from_the_oldest_unanswered_message(make_conversation: Make) -> None:
    # first wait 0->10 (left to first_response_time), then two messages at 60 and 100
    conversation = make_conversation(
        "c1", (0, "in"), (10, "out"), (60, "in"), (100, "in"), (400, "out")
    )
    outcome = evaluate(conversation, deadline="4h")
    assert outcome.population == 1 and outcome.conforming == 0
    (item,) = outcome.evidence
    assert item.value == 340 * 60 and item.message_ids == ("c1-m2", "c1-m4")
    assert evaluate(conversation, deadline="4h", include_first=True).population == 2


def test_bots_do_not_end_a_wait_and_pending_customer_pauses(make_conversation: Make) -> None:
    pending = StatusChange("c1", T0 + timedelta(minutes=70), Status.PENDING_CUSTOMER)
    conversation = make_conversation(
        "c1",
        (0, "in"),
        (5, "out"),
        (60, "in"),
        (61, "bot"),
        (70, "out"),
        (300, "in"),
        (310, "out"),
        statuses=(pending,),
    )
    outcome = evaluate(conversation, deadline="15m")
    assert outcome.population == 2 and outcome.conforming == 2  # 10 min and 10 min
    assert outcome.measures["p50_seconds"] == 600


def test_unanswered_waits_past_or_before_their_deadline(make_conversation: Make) -> None:
    late = make_conversation("c1", (0, "in"), (5, "out"), (60, "in"))
    outcome = evaluate(late)
    assert outcome.nonconforming == 1 and outcome.evidence[0].value is None
    recent = Window(T0 - timedelta(days=1), T0 + timedelta(minutes=90))
    assert (
        NextResponseTime()
        .evaluate(ControlInput(window=recent, conversations=[late]), NextResponseTimeParams())
        .conforms
        is None
    )
