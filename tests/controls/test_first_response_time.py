"""first_response_time over hand-built conversations: what starts, stops and pauses the clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from iso_social.clock import BusinessCalendar, CalendarSpec
from iso_social.controls import ControlInput
from iso_social.controls.base import Tally, tally_each
from iso_social.controls.first_response_time import (
    FirstResponseTime,
    FirstResponseTimeParams,
)
from iso_social.domain import Channel, Conversation, Window
from tests.conftest import T0

WINDOW = Window(T0 - timedelta(days=1), T0 + timedelta(days=7))
CONTROL = FirstResponseTime()
MakeConversation = Callable[..., Conversation]


def evaluate(*conversations: Conversation, window: Window = WINDOW, **params: object):  # type: ignore[no-untyped-def]
    calendars = {
        "office": BusinessCalendar(
            CalendarSpec(
                timezone="Europe/Madrid",
                hours={"mon-fri": ["09:00-14:00", "15:00-19:00"]},
                holidays={"country": "ES", "subdivision": "MD"},
            )
        )
    }
    data = ControlInput(window=window, conversations=conversations, calendars=calendars)
    return CONTROL.evaluate(data, FirstResponseTimeParams.model_validate(params))


def test_reply_within_deadline_conforms(make_conversation: MakeConversation) -> None:
    outcome = evaluate(make_conversation("c1", (0, "in"), (30, "out")))
    assert (outcome.population, outcome.conforming, outcome.nonconforming) == (1, 1, 0)
    assert outcome.conforms is True and outcome.rate == 1.0
    assert outcome.measures["p50_seconds"] == 1800


def test_late_reply_is_evidence_with_both_message_ids(make_conversation: MakeConversation) -> None:
    outcome = evaluate(make_conversation("c1", (0, "in"), (61, "out")), target=0.5)
    assert outcome.conforms is False and outcome.rate == 0.0
    (item,) = outcome.evidence
    assert item.conversation_id == "c1" and item.message_ids == ("c1-m0", "c1-m1")
    assert item.value == 61 * 60
    assert "1 h 1 min" in item.detail and "deadline is 1 h" in item.detail


def test_deadline_is_inclusive(make_conversation: MakeConversation) -> None:
    assert evaluate(make_conversation("c1", (0, "in"), (60, "out"))).conforming == 1


def test_bots_system_messages_and_auto_replies_never_stop_the_clock(
    make_conversation: MakeConversation,
) -> None:
    conversation = make_conversation(
        "c1", (0, "in"), (0.1, "auto"), (1, "bot"), (2, "auto-agent"), (3, "note"), (200, "out")
    )
    outcome = evaluate(conversation, target=1.0)
    assert outcome.evidence[0].value == 200 * 60
    assert outcome.evidence[0].message_ids == ("c1-m0", "c1-m5")


def test_private_reply_counts(make_conversation: MakeConversation) -> None:
    assert evaluate(make_conversation("c1", (0, "in"), (10, "dm-out"))).conforming == 1


def test_clock_starts_at_the_earliest_customer_message(make_conversation: MakeConversation) -> None:
    # an agent's proactive message before the customer wrote does not answer them
    outcome = evaluate(
        make_conversation("c1", (-30, "out"), (0, "in"), (5, "in"), (90, "out")), target=1.0
    )
    assert outcome.evidence[0].value == 90 * 60


def test_auto_acknowledgement_then_silence_is_a_breach(make_conversation: MakeConversation) -> None:
    conversation = make_conversation("c1", (0, "in"), (0.2, "auto"))
    window = Window(T0 - timedelta(days=1), T0 + timedelta(days=9))
    outcome = evaluate(conversation, window=window, target=1.0)
    (item,) = outcome.evidence
    assert item.value is None and item.message_ids == ("c1-m0",)
    assert "no human reply by the end of the audit window" in item.detail
    assert outcome.measures["unanswered"] == 1


def test_unanswered_before_its_deadline_is_pending_not_counted(
    make_conversation: MakeConversation,
) -> None:
    window = Window(T0 - timedelta(days=1), T0 + timedelta(minutes=30))
    outcome = evaluate(
        make_conversation("c1", (0, "in")),
        make_conversation("c2", (0, "in"), (10, "out")),
        window=window,
    )
    assert outcome.population == 1 and outcome.measures["pending"] == 1


def test_only_pending_is_not_evaluated(make_conversation: MakeConversation) -> None:
    window = Window(T0 - timedelta(days=1), T0 + timedelta(minutes=30))
    outcome = evaluate(make_conversation("c1", (0, "in")), window=window)
    assert outcome.conforms is None and "1 still within their deadline" in outcome.statement


def test_a_channel_whose_cases_all_wait_is_listed_with_none_counted(
    make_conversation: MakeConversation,
) -> None:
    """Each channel met is in `by_channel`, even when all its cases are still within their
    deadline, whichever conversation came first and whether each was counted into a tally of
    its own (as a scheduled check keeps them) or all into one."""
    window = Window(T0 - timedelta(days=1), T0 + timedelta(minutes=30))
    conversations = (
        make_conversation("c1", (0, "in"), (10, "out")),
        make_conversation("c2", (0, "in"), channel=Channel.EMAIL),
    )
    expected = {
        "email": {"population": 0, "conforming": 0, "rate": None},
        "twitter": {"population": 1, "conforming": 1, "rate": 1.0},
    }
    for order in (conversations, conversations[::-1]):
        assert evaluate(*order, window=window).measures["by_channel"] == expected
        data = ControlInput(window=window, conversations=order)
        params = FirstResponseTimeParams()
        tallies = [Tally() for _ in order]
        for conversation, tally in zip(order, tallies, strict=True):
            CONTROL.assess(conversation, data, params, tally)
        joined = Tally()
        for tally in tallies:
            joined.extend(tally)
        assert CONTROL.conclude(joined, data, params).measures["by_channel"] == expected


def test_two_sets_of_parameters_over_the_same_input_keep_their_own_deadlines(
    make_conversation: MakeConversation,
) -> None:
    """What `assess` works out once per evaluation (a channel's deadline) is kept per set of
    parameters: a second control over the same input does not take the first one's."""
    data = ControlInput(
        window=WINDOW, conversations=(make_conversation("c1", (0, "in"), (90, "out")),)
    )
    for deadline, conforming in (("1h", 0), ("2h", 1), ("1h", 0)):
        params = FirstResponseTimeParams.model_validate({"deadline": deadline})
        assert tally_each(CONTROL, data, params).conforming == conforming, deadline


def test_population_excludes_no_customer_message_and_first_message_outside_window(
    make_conversation: MakeConversation,
) -> None:
    outcome = evaluate(
        make_conversation("c1", (0, "out")),
        make_conversation("c2", (-3 * 24 * 60, "in"), (10, "in"), (20, "out")),
        make_conversation("c3", (0, "in"), (5, "out")),
    )
    assert outcome.population == 1


def test_empty_input_is_not_evaluated_with_a_reason() -> None:
    outcome = evaluate()
    assert outcome.conforms is None and outcome.statement.startswith("No conversation")


def test_business_hours_skip_nights_weekends_and_lunch(make_conversation: MakeConversation) -> None:
    friday_18_local = datetime(2026, 10, 9, 16, 0, tzinfo=UTC)  # Friday 18:00 CEST
    # the reply on Monday 09:30 CEST is 1.5 business hours later (18-19 Fri, 9-9:30 Mon);
    # Monday 12 October is a national holiday in Spain, so the clock waits until Tuesday
    tuesday_0930_local = datetime(2026, 10, 13, 7, 30, tzinfo=UTC)
    minutes = (tuesday_0930_local - friday_18_local).total_seconds() / 60
    conversation = make_conversation("c1", (0, "in"), (minutes, "out"), start=friday_18_local)
    window = Window(friday_18_local - timedelta(days=1), friday_18_local + timedelta(days=7))
    outcome = evaluate(conversation, window=window, deadline="2h", calendar="office")
    assert outcome.conforming == 1
    assert outcome.measures["p50_seconds"] == 1.5 * 3600
    calendar_time = evaluate(conversation, window=window, deadline="2h")
    assert calendar_time.nonconforming == 1


def test_percentiles_interpolate_between_ranks(make_conversation: MakeConversation) -> None:
    conversations = [
        make_conversation(f"c{i}", (0, "in"), (minutes, "out"))
        for i, minutes in enumerate([10, 20, 30, 40, 100])
    ]
    outcome = evaluate(*conversations, target=0.5)
    assert outcome.measures["p50_seconds"] == 30 * 60
    assert outcome.measures["p90_seconds"] == pytest.approx((40 + 0.6 * 60) * 60)
    assert outcome.rate == 0.8 and outcome.conforms is True


def test_statement_is_a_sentence_with_numbers(make_conversation: MakeConversation) -> None:
    outcome = evaluate(
        make_conversation("c1", (0, "in"), (5, "out")),
        make_conversation("c2", (0, "in"), (500, "out")),
    )
    assert outcome.statement.startswith(
        "1 of 2 conversations (50.0%) got a first human reply "
        "within 1 h of calendar time; the target is 95.0%"
    )
