"""resolution_time: cycles from first message or reopening to resolution, pauses excluded."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from iso_social.controls import ControlInput
from iso_social.controls.resolution_time import ResolutionTime, ResolutionTimeParams
from iso_social.domain import Conversation, Status, StatusChange, Window
from tests.conftest import T0

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


def test_without_status_records_nothing_can_be_judged(make_conversation: Make) -> None:
    outcome = evaluate(make_conversation("c1", (0, "in"), (5, "out")))
    assert outcome.conforms is None and "1 conversations have no status" in outcome.statement
