"""phone_service_level: answered within the threshold against calls offered."""

from __future__ import annotations

from datetime import timedelta

from iso_social.controls import ControlInput
from iso_social.controls.phone_service_level import PhoneServiceLevel, PhoneServiceLevelParams
from iso_social.domain import Call, CallOutcome, Channel, Window
from tests.conftest import T0

WINDOW = Window(T0, T0 + timedelta(days=1))


def call(call_id: str, wait: float | None, talk: float = 60, queue: str = "general") -> Call:
    offered = T0 + timedelta(minutes=1)
    if wait is None:
        return Call(
            call_id,
            Channel.PHONE,
            queue,
            "x",
            offered,
            None,
            offered + timedelta(seconds=talk),
            CallOutcome.ABANDONED,
        )
    answered = offered + timedelta(seconds=wait)
    return Call(
        call_id,
        Channel.PHONE,
        queue,
        "x",
        offered,
        answered,
        answered + timedelta(seconds=talk),
        CallOutcome.ANSWERED,
    )


def evaluate(*calls: Call, **params: object):  # type: ignore[no-untyped-def]
    return PhoneServiceLevel().evaluate(
        ControlInput(window=WINDOW, calls=calls), PhoneServiceLevelParams.model_validate(params)
    )


def test_eighty_twenty() -> None:
    calls = [call(f"k{i}", 10) for i in range(8)] + [call("late", 45), call("gone", None, 30)]
    outcome = evaluate(*calls)
    assert (outcome.population, outcome.conforming, outcome.nonconforming) == (10, 8, 2)
    assert outcome.rate == 0.8 and outcome.conforms is True
    assert outcome.measures["abandoned"] == 1
    assert {e.conversation_id for e in outcome.evidence} == {"late", "gone"}


def test_short_abandons_are_excluded_unless_set_to_zero() -> None:
    calls = [call("ok", 5), call("blip", None, talk=3)]
    assert evaluate(*calls).population == 1
    assert evaluate(*calls, short_abandon="0s").population == 2


def test_queue_filter_and_empty_input() -> None:
    assert evaluate(call("a", 5, queue="cards"), queues=["loans"]).conforms is None
    assert evaluate().statement == "No call offered in the audit window."
