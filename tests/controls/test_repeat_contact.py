"""repeat_contact: a customer coming back, on any channel, about an unresolved case."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from iso_social.controls import ControlInput
from iso_social.controls.repeat_contact import RepeatContact, RepeatContactParams
from iso_social.domain import Channel, Conversation, Status, StatusChange, Window
from tests.conftest import T0

Make = Callable[..., Conversation]
WINDOW = Window(T0 - timedelta(days=1), T0 + timedelta(days=30))


def by(author: str, conversation: Conversation) -> Conversation:
    messages = tuple(
        m._replace(author=author) if m.is_customer_inbound else m for m in conversation.messages
    )
    return replace(conversation, messages=messages)


def test_repeats_across_channels_unless_resolved(make_conversation: Make) -> None:
    first = by("ana", make_conversation("c1", (0, "in"), (10, "out")))
    again = by("ana", make_conversation("c2", (2 * 24 * 60, "in"), channel=Channel.EMAIL))
    resolved = by(
        "bo",
        make_conversation(
            "c3",
            (0, "in"),
            statuses=(StatusChange("c3", T0 + timedelta(hours=1), Status.RESOLVED),),
        ),
    )
    back = by("bo", make_conversation("c4", (24 * 60, "in")))
    late = by("ana", make_conversation("c5", (20 * 24 * 60, "in")))
    outcome = RepeatContact().evaluate(
        ControlInput(window=WINDOW, conversations=[first, again, resolved, back, late]),
        RepeatContactParams(within="7d"),
    )
    assert (outcome.population, outcome.nonconforming) == (5, 1)
    (item,) = outcome.evidence
    assert item.conversation_id == "c2" and item.message_ids == ("c1",)
    assert "on email 2 d after an unresolved contact on twitter" in item.detail


def test_the_latest_unresolved_contact_within_the_period_is_the_one_named(
    make_conversation: Make,
) -> None:
    day = 24 * 60

    def resolved_at(cid: str, minutes: float) -> tuple[StatusChange, ...]:
        return (StatusChange(cid, T0 + timedelta(minutes=minutes), Status.RESOLVED),)

    contacts = [
        by("ana", make_conversation("a1", (0, "in"))),  # open, but 8 days before a5
        by("ana", make_conversation("a2", (2 * day, "in"))),  # open: the one a5 repeats
        by(
            "ana", make_conversation("a3", (5 * day, "in"), statuses=resolved_at("a3", 5 * day + 5))
        ),
        by("ana", make_conversation("a4", (6 * day, "in"), statuses=resolved_at("a4", 8 * day))),
        by("ana", make_conversation("a5", (8 * day, "in"))),
        by("ana", make_conversation("a6", (8 * day, "in"))),  # same moment as a5: repeats it
        by("bo", make_conversation("b1", (0, "in"))),
        by("bo", make_conversation("b2", (7 * day, "in"))),  # exactly 7 days: still a repeat
    ]
    outcome = RepeatContact().evaluate(
        ControlInput(window=WINDOW, conversations=contacts[::-1]), RepeatContactParams(within="7d")
    )
    repeats = {item.conversation_id: item.message_ids for item in outcome.evidence}
    assert repeats == {
        "a2": ("a1",),
        "a3": ("a2",),
        "a4": ("a2",),  # a3 was resolved before a4
        "a5": ("a4",),
        "a6": ("a5",),
        "b2": ("b1",),
    }
