"""resolution_time: cycles from first message or reopening to resolution, pauses excluded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from itertools import pairwise

from hypothesis import example, given
from hypothesis import strategies as st

from iso_social.clock import BusinessCalendar, CalendarSpec
from iso_social.controls import ControlInput
from iso_social.controls._timeline import elapsed, pauses
from iso_social.controls.base import Tally
from iso_social.controls.resolution_time import ResolutionTime, ResolutionTimeParams
from iso_social.domain import Channel, Conversation, Status, StatusChange, Window
from tests.conftest import T0, message

WINDOW = Window(T0 - timedelta(days=1), T0 + timedelta(days=20))
Make = Callable[..., Conversation]


def status(hours: float, value: Status) -> StatusChange:
    return StatusChange("c1", T0 + timedelta(hours=hours), value)


def evaluate(*conversations: Conversation, **params: object):  # type: ignore[no-untyped-def]
    return ResolutionTime().evaluate(
        ControlInput(window=WINDOW, conversations=conversations),
        ResolutionTimeParams.model_validate(params),
    )


def test_reopened_cases_count_as_cycles(make_conversation: Make) -> None:
    statuses = (
        status(10, Status.RESOLVED),
        status(20, Status.REOPENED),
        status(100, Status.CLOSED),
    )
    outcome = evaluate(
        make_conversation("c1", (0, "in"), (30, "out"), statuses=statuses), deadline="24h"
    )
    assert outcome.population == 2 and outcome.conforming == 1
    assert outcome.measures["reopened_cycles"] == 1
    assert "reopened case resolved after 3 d 8 h" in outcome.evidence[0].detail


def test_waiting_on_the_customer_is_not_counted(make_conversation: Make) -> None:
    statuses = (status(1, Status.PENDING_CUSTOMER), status(40, Status.RESOLVED))
    conversation = make_conversation(
        "c1", (0, "in"), (50, "out"), (35 * 60, "in"), statuses=statuses
    )
    outcome = evaluate(conversation, deadline="6h")
    assert outcome.conforming == 1
    assert outcome.measures["p50_seconds"] == 6 * 3600  # 0-1 h and 35-40 h


def test_a_pending_status_repeated_is_one_pause(make_conversation: Make) -> None:
    """Pending at 1 h and again at 2 h (a helpdesk records one with each agent update), the
    customer back at 35 h: the wait on the customer is 1-35 h, taken off once (twice, the
    case looked resolved in no time)."""
    statuses = (
        status(1, Status.PENDING_CUSTOMER),
        status(2, Status.PENDING_CUSTOMER),
        status(40, Status.RESOLVED),
    )
    conversation = make_conversation(
        "c1", (0, "in"), (50, "out"), (35 * 60, "in"), statuses=statuses
    )
    outcome = evaluate(conversation, deadline="6h")
    assert outcome.measures["p50_seconds"] == 6 * 3600  # 0-1 h and 35-40 h


HOURS = 24


def customer_and_status_hours() -> st.SearchStrategy[tuple[list[int], list[tuple[int, Status]]]]:
    statuses = st.sampled_from([Status.PENDING_CUSTOMER, Status.OPEN, Status.RESOLVED])
    return st.tuples(
        st.lists(st.integers(0, HOURS), max_size=6),
        st.lists(st.tuples(st.integers(0, HOURS), statuses), max_size=8),
    )


@given(customer_and_status_hours(), st.integers(0, HOURS), st.integers(0, HOURS))
@example(([8], [(1, Status.PENDING_CUSTOMER)]), 5, 10)  # a pause begun before the start
@example(([9], [(1, Status.PENDING_CUSTOMER), (3, Status.PENDING_CUSTOMER)]), 0, 12)
def test_elapsed_time_leaves_out_every_paused_hour_once(
    timeline: tuple[list[int], list[tuple[int, Status]]], start: int, end: int
) -> None:
    """Against counting hour by hour: an hour is paused when some pending status lies at or
    before it and neither the customer's next message nor the next other status came yet."""
    customer_hours, status_hours = timeline
    messages = tuple(
        message(f"m{i}", T0 + timedelta(hours=h)) for i, h in enumerate(sorted(customer_hours))
    )
    ordered = sorted(status_hours, key=lambda s: s[0])  # in time order, ties as they came
    statuses = tuple(StatusChange("c1", T0 + timedelta(hours=h), value) for h, value in ordered)
    conversation = Conversation("c1", Channel.TWITTER, messages, statuses)

    def paused(hour: int) -> bool:
        for index, (at, value) in enumerate(ordered):
            if value is not Status.PENDING_CUSTOMER or at > hour:
                continue
            ends = [h for h in customer_hours if h > at]
            ends += [h for h, v in ordered[index + 1 :] if v is not Status.PENDING_CUSTOMER]
            if not ends or hour < min(ends):
                return True
        return False

    expected = sum(not paused(h) for h in range(start, end)) * 3600.0
    calendar = BusinessCalendar(CalendarSpec())
    found = pauses(conversation)
    assert found == sorted(found) and all(
        a[1] is not None and a[1] < b[0] for a, b in pairwise(found)
    )
    assert elapsed(calendar, T0 + timedelta(hours=start), T0 + timedelta(hours=end), found) == (
        expected
    )


def test_without_status_records_nothing_can_be_judged(make_conversation: Make) -> None:
    outcome = evaluate(make_conversation("c1", (0, "in"), (5, "out")))
    assert outcome.conforms is None and "1 conversations have no status" in outcome.statement


def test_a_kept_tally_holds_counts_only_when_there_are_some(make_conversation: Make) -> None:
    """A scheduler keeps every conversation's tally: a case resolved in one cycle, or one
    without status records from before the window, holds no counter of zeros."""
    data = ControlInput(window=WINDOW)
    params = ResolutionTimeParams()
    once = make_conversation("c1", (0, "in"), (5, "out"), statuses=(status(1, Status.RESOLVED),))
    before = make_conversation("c2", (-48 * 60, "in"), (-47 * 60, "out"))
    for conversation in (once, before):
        tally = Tally()
        ResolutionTime().assess(conversation, data, params, tally)
        assert not tally.counts
