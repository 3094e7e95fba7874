"""repeat_contact: a customer coming back, on any channel, about an unresolved case."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

from hypothesis import example, given
from hypothesis import strategies as st

from iso_social.controls import ControlInput
from iso_social.controls.base import ContactList
from iso_social.controls.repeat_contact import Contact, RepeatContact, RepeatContactParams, _micros
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
    # a third customer whose repeat (c0) has an id before their first contact's (c6)
    cy_first = by("cy", make_conversation("c6", (0, "in")))
    cy_again = by("cy", make_conversation("c0", (24 * 60, "in")))
    conversations = [cy_again, first, again, resolved, back, late, cy_first]  # by id
    outcome = RepeatContact().evaluate(
        ControlInput(window=WINDOW, conversations=conversations),
        RepeatContactParams(within="7d"),
    )
    assert (outcome.population, outcome.nonconforming) == (7, 2)
    # in the conversations' order; the evidence, and its ids, by conversation id
    assert outcome.population_ids == ("c0", "c1", "c2", "c3", "c4", "c5", "c6")
    assert outcome.nonconforming_ids == ("c0", "c2")
    assert (outcome.measures["customers"], outcome.measures["customers_with_repeats"]) == (3, 2)
    repeat_of_c6, item = outcome.evidence
    assert repeat_of_c6.conversation_id == "c0" and repeat_of_c6.message_ids == ("c6",)
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


def walked_back(contacts: list[Contact], window: Window, within: timedelta) -> list[str]:
    """The repeats as first written: for each contact, walk back over the customer's earlier
    ones to the latest not resolved before it, stopping at one older than the period."""
    by_customer: dict[str, list[Contact]] = {}
    for contact in contacts:
        by_customer.setdefault(contact.customer, []).append(contact)
    start, end = _micros(window.start), _micros(window.end)
    repeats = []
    for mine in by_customer.values():
        mine.sort(key=lambda c: (c.at, c.conversation_id))
        for index, contact in enumerate(mine):
            if not start <= contact.at < end:
                continue
            for earlier in reversed(mine[:index]):
                if earlier.at < contact.at - within // timedelta(microseconds=1):
                    break
                if earlier.done_at is None or earlier.done_at >= contact.at:
                    repeats.append(f"{contact.conversation_id}<{earlier.conversation_id}")
                    break
    return sorted(repeats)


DAY = timedelta(days=1)


def contact(number: int, customer: str, day: int, done_after: int | None) -> Contact:
    """Contact c<number> of `customer` on day `day` from T0, resolved `done_after` days later
    (None: never)."""
    at = T0 + day * DAY
    done = None if done_after is None else _micros(at + done_after * DAY)
    return Contact(customer, _micros(at), f"c{number:02d}", "twitter", done)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["ana", "bo"]),
            st.integers(0, 40),  # day of the contact (the window is days 1 to 30)
            st.one_of(st.none(), st.integers(0, 12)),  # days until resolved
        ),
        max_size=25,
    ),
    st.integers(1, 10),
)
def test_each_repeat_is_the_one_walking_back_finds(
    rows: list[tuple[str, int, int | None]], within_days: int
) -> None:
    """Earlier contacts resolved before a later one are dropped once, not walked over again
    for every later contact: the repeats and their earlier contacts are those a walk finds."""
    contacts = [contact(i, customer, at, done) for i, (customer, at, done) in enumerate(rows)]
    within = within_days * DAY
    outcome = RepeatContact().evaluate_contacts(
        contacts, ControlInput(window=WINDOW, conversations=()), RepeatContactParams(within=within)
    )
    found = sorted(f"{e.conversation_id}<{e.message_ids[0]}" for e in outcome.evidence)
    assert found == walked_back(contacts, WINDOW, within)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["ana", "bo", "cy"]),
            st.integers(0, 40),  # day of the contact
            st.one_of(st.none(), st.integers(0, 12)),  # days until resolved
            st.integers(0, 3),  # the check from which the contact is there
        ),
        max_size=30,
    ),
    st.lists(st.tuples(st.integers(-2, 12), st.integers(20, 42)), min_size=4, max_size=4),
    st.integers(1, 10),
)
@example(  # the first contact's case resolved at the second check: no repeat from then on
    rows=[("ana", 5, 1, 0), ("ana", 10, None, 0)], windows=[(0, 30)] * 4, within_days=7
)
def test_a_scheduled_check_counts_as_a_full_one(
    rows: list[tuple[str, int, int | None, int]],
    windows: list[tuple[int, int]],
    within_days: int,
) -> None:
    """With `kept` (what a scheduled check keeps between checks), contacts arriving, their
    cases resolved later and the window moving give the outcome counting everything again
    gives, check after check: handed as plain lists (everything counted again) or, as a
    scheduled check hands them, as `ContactList`s saying what changed since the list before
    (only the customers touched counted again)."""
    params = RepeatContactParams(within=within_days * DAY)
    kept: dict[object, object] = {}
    as_changes: dict[object, object] = {}
    handed: dict[int, Contact] = {}  # what the last `ContactList` held, by row
    serial = None  # the last `ContactList`'s
    for check, (first, last) in enumerate(windows):
        contacts = [
            # a case resolved after the check it arrived in: unresolved before
            contact(i, customer, at, None if check < arrives + 1 else done)
            for i, (customer, at, done, arrives) in enumerate(rows)
            if arrives <= check
        ]
        data = ControlInput(window=Window(T0 + first * DAY, T0 + last * DAY))
        full = RepeatContact().evaluate_contacts(contacts, data, params)
        assert RepeatContact().evaluate_contacts(contacts, data, params, kept) == full, check
        listed = ContactList()
        listed.since, serial = serial, listed.serial
        for i, now in zip([int(c.conversation_id[1:]) for c in contacts], contacts, strict=True):
            before = handed.get(i)
            if before is not None and before == now:
                now = before  # the very tuple, as for a conversation not read again
            else:
                listed.arrived.append(now)
                if before is not None:
                    listed.left.append(before)
            handed[i] = now
            listed.append(now)
        scheduled = RepeatContact().evaluate_contacts(listed, data, params, as_changes)
        assert scheduled == full, check


def test_contacts_not_following_the_last_list_are_counted_afresh() -> None:
    """A `ContactList` that is not the next after the one last taken (a check that failed
    between), or whose left contacts were never taken, is counted in full: the same outcome."""
    data = ControlInput(window=Window(T0, T0 + 30 * DAY))
    params = RepeatContactParams()
    kept: dict[object, object] = {}
    one, two = contact(1, "ana", 1, None), contact(2, "ana", 2, None)
    start = ContactList()
    start += [one, two]
    start.arrived += [one, two]
    first = RepeatContact().evaluate_contacts(start, data, params, kept)
    assert first.nonconforming_ids == ("c02",)
    stranger = contact(3, "ana", 3, None)
    skipped = ContactList()  # says it follows a list never handed over
    skipped.since = start.serial + 1000
    skipped += [one]
    assert RepeatContact().evaluate_contacts(skipped, data, params, kept).population == 1
    odd = ContactList()  # follows the last, but its left contact was never among them
    odd.since = skipped.serial
    odd += [one, two]
    odd.arrived.append(two)
    odd.left.append(stranger)
    assert RepeatContact().evaluate_contacts(odd, data, params, kept) == first
