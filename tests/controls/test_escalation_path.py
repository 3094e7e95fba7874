"""escalation_path: triggers by age and words; in time, allowed, without skipping."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from pydantic import ValidationError

from iso_social.controls import ControlInput
from iso_social.controls.escalation_path import (
    EscalationPath,
    EscalationPathParams,
    Trigger,
    _path,
)
from iso_social.domain import Conversation, Escalation, Status, StatusChange, Window
from tests.conftest import T0

Make = Callable[..., Conversation]
WINDOW = Window(T0 - timedelta(days=1), T0 + timedelta(days=10))


def escalate(conversation: Conversation, hours: float, to: str) -> Conversation:
    step = Escalation(conversation.conversation_id, T0 + timedelta(hours=hours), to, "agent-1")
    return replace(conversation, escalations=(*conversation.escalations, step))


def with_text(conversation: Conversation, text: str) -> Conversation:
    messages = (conversation.messages[0]._replace(text=text), *conversation.messages[1:])
    return replace(conversation, messages=messages)


def evaluate(*conversations: Conversation):  # type: ignore[no-untyped-def]
    return EscalationPath().evaluate(
        ControlInput(window=WINDOW, conversations=conversations), EscalationPathParams()
    )


def test_legal_words_need_an_escalation_without_skipping(make_conversation: Make) -> None:
    lawyer = with_text(
        make_conversation("c1", (0, "in"), (5, "out")), "Voy a poner una denuncia en la OMIC"
    )
    skipped = escalate(lawyer, 2, "legal")
    proper = escalate(escalate(lawyer, 1, "supervisor"), 2, "quality_manager")
    proper = escalate(proper, 3, "legal")
    outcome = evaluate(
        replace(skipped, conversation_id="a"),
        replace(proper, conversation_id="b"),
        replace(lawyer, conversation_id="c"),
    )
    assert (outcome.population, outcome.conforming) == (3, 1)
    details = {e.conversation_id: e.detail for e in outcome.evidence}
    assert "skipping a level" in details["a"]
    assert "not escalated to legal (due within 24 h" in details["c"]


def test_old_unresolved_cases_go_to_a_supervisor(make_conversation: Make) -> None:
    old = make_conversation("c1", (0, "in"))  # the customer is still waiting
    answered = make_conversation("c2", (0, "in"), (5, "out"))
    assert evaluate(answered).conforms is None  # answered cases are not "old and open"
    late = escalate(old, 60, "supervisor")
    outcome = evaluate(late)
    assert outcome.nonconforming == 1
    assert "escalated only after 12 h to supervisor" in outcome.evidence[0].detail
    assert evaluate(escalate(old, 49, "supervisor")).conforms is True
    assert (
        evaluate(escalate(old, 49, "the boss"))
        .evidence[0]
        .detail.startswith("escalated to 'the boss', which is not on the path")
    )


def test_an_escalation_nothing_called_for_is_still_held_to_the_path(
    make_conversation: Make,
) -> None:
    """A case escalated in the window is in scope without a trigger (answered, no words)."""
    calm = make_conversation("c1", (0, "in"), (5, "out"))
    assert evaluate(calm).conforms is None  # nothing called for an escalation, none made
    skipping = evaluate(escalate(calm, 2, "quality_manager"))
    assert skipping.population == 1 and "skipping a level" in skipping.evidence[0].detail
    assert evaluate(escalate(calm, 2, "supervisor")).conforms is True
    assert evaluate(escalate(calm, 24 * 12, "quality_manager")).conforms is None  # after it


def test_the_status_records_tell_whether_an_old_case_is_still_open(
    make_conversation: Make,
) -> None:
    """With status records (a helpdesk's), a case resolved before its age needs no
    supervisor, whatever the messages say; one still open does."""
    waiting = make_conversation("c1", (0, "in"))

    def recorded(hours: float, status: Status) -> Conversation:
        return replace(waiting, statuses=(StatusChange("c1", T0 + timedelta(hours=hours), status),))

    assert evaluate(recorded(10, Status.RESOLVED)).conforms is None
    assert evaluate(recorded(10, Status.CLOSED)).conforms is None
    still_open = evaluate(recorded(1, Status.OPEN))
    assert still_open.nonconforming == 1
    assert "not escalated to supervisor" in still_open.evidence[0].detail
    assert evaluate(recorded(60, Status.RESOLVED)).nonconforming == 1  # resolved too late


def test_trigger_levels_must_be_on_the_path() -> None:
    with pytest.raises(ValidationError, match="not one of the levels"):
        EscalationPathParams.model_validate({"triggers": [{"level": "ceo", "after": "1h"}]})
    with pytest.raises(ValidationError, match="needs `after`"):
        EscalationPathParams.model_validate({"triggers": [{"level": "legal"}]})


@pytest.mark.parametrize(
    ("steps", "open_at_48_hours"),
    [
        (((0, "in"),), True),
        (((0, "in"), (60, "out")), False),
        (((0, "in"), (60, "auto-agent")), True),  # an automated reply answers nothing
        (((0, "in"), (60, "out"), (120, "in")), True),  # the customer wrote again
        (((0, "in"), (3000, "out")), True),  # answered only after the 48 hours
        (((0, "in"), (60, "out"), (3000, "in")), False),  # wrote again only after them
    ],
)
def test_a_case_without_statuses_is_open_while_the_customer_waits(
    make_conversation: Make, steps: tuple[tuple[float, str], ...], open_at_48_hours: bool
) -> None:
    """Social conversations have no status records: a case is open at 48 hours when the
    customer's last message by then has no human answer after it."""
    outcome = evaluate(make_conversation("c1", *steps))
    assert outcome.population == int(open_at_48_hours)


def test_words_count_only_inside_the_window(make_conversation: Make) -> None:
    answered = with_text(make_conversation("c1", (0, "in"), (60, "out")), "llamaré a mi abogado")
    assert evaluate(answered).population == 1
    before = replace(
        answered,
        messages=tuple(
            m._replace(created_at=m.created_at - timedelta(days=3)) for m in answered.messages
        ),
    )
    assert evaluate(before).population == 0


def test_each_trigger_with_words_is_found_by_its_index(
    make_conversation: Make,
) -> None:
    """One trigger with words, or several: a customer's message holding a trigger's words is
    found under that trigger's index; an agent's is not read."""
    base = make_conversation("c1", (0, "in"), (10, "out"), (20, "in"))
    conversation = with_text(base, "I will call my lawyer")
    messages = list(conversation.messages)
    messages[1] = messages[1]._replace(text="our lawyer and the regulator")
    messages[2] = messages[2]._replace(text="the regulator hears of this")
    conversation = replace(conversation, messages=tuple(messages))
    lawyer = Trigger(level="legal", words=("lawyer",))
    regulator = Trigger(level="quality_manager", words=("regulator",))
    age = Trigger(level="supervisor", after=timedelta(hours=48))
    one = _path(EscalationPathParams(triggers=(age, lawyer)))[1]
    two = _path(EscalationPathParams(triggers=(lawyer, age, regulator)))[1]
    assert one is not None and two is not None
    first, last = messages[0].message_id, messages[2].message_id
    assert one.find(conversation) == {first: ("1",)}
    assert {k: list(v) for k, v in two.find(conversation).items()} == {first: ["0"], last: ["2"]}
