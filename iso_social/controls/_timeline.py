"""What the time-based control types share: what counts as a response, and pauses.

What counts as a response is a parameter of each control (`response:`). By default it is an
outbound message by a human agent, public or private; bots, system senders and automated
acknowledgements never count, so an auto-reply followed by days of silence is a breach.

A conversation is paused from a `pending_customer` status until the customer's next message (or
a later status that is not pending); paused time is not counted against deadlines.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from iso_social.clock import BusinessCalendar
from iso_social.controls.base import ControlInput
from iso_social.domain import (
    AuthorRole,
    Conversation,
    Direction,
    FirstReply,
    Message,
    ResponseFilter,
    Status,
    Visibility,
)


class ResponseParams(BaseModel):
    """Which messages count as a response to the customer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    roles: tuple[AuthorRole, ...] = (AuthorRole.AGENT,)
    include_private: bool = True
    include_automated: bool = False
    include_internal_notes: bool = False


def counts_as_response(message: Message, rule: ResponseParams) -> bool:
    """True when `message` answers the customer under `rule`."""
    if message.direction is Direction.INBOUND:
        return False
    if message.direction is Direction.INTERNAL and not rule.include_internal_notes:
        return False
    if message.automated and not rule.include_automated:
        return False
    if message.visibility is Visibility.PRIVATE and not rule.include_private:
        return False
    return message.author_role in rule.roles


def first_response(
    conversation: Conversation, after: datetime, rule: ResponseParams
) -> Message | None:
    """The earliest response at or after `after` (`counts_as_response`, its tests written
    out: this runs for every conversation of most time-based controls)."""
    notes, automated, private = (
        rule.include_internal_notes,
        rule.include_automated,
        rule.include_private,
    )
    roles = rule.roles
    for message in conversation.messages:
        if message.created_at < after:
            continue
        direction = message.direction
        if (
            (direction is _OUTBOUND or (notes and direction is _INTERNAL))
            and (automated or not message.automated)
            and (private or message.visibility is not _PRIVATE)
            and message.author_role in roles
        ):
            return message
    return None


_OUTBOUND, _INTERNAL, _PRIVATE = Direction.OUTBOUND, Direction.INTERNAL, Visibility.PRIVATE
_PENDING = Status.PENDING_CUSTOMER


def response_filter(rule: ResponseParams) -> ResponseFilter:
    """`rule` as the stored fields a response has (what `counts_as_response` tests)."""
    internal = {Direction.INTERNAL} if rule.include_internal_notes else set()
    private = set() if rule.include_private else {Visibility.PRIVATE}
    return ResponseFilter(
        directions=frozenset({Direction.OUTBOUND, *internal}),
        roles=frozenset(rule.roles),
        visibilities=frozenset(Visibility) - private,
        automated=rule.include_automated,
    )


def first_reply(conversation: Conversation, rule: ResponseParams) -> FirstReply | None:
    """The conversation's first customer message and first response after it under `rule`;
    None without a customer message."""
    first = conversation.first_customer_message
    if first is None:
        return None
    reply = first_response(conversation, first.created_at, rule)
    return FirstReply(
        conversation.conversation_id,
        conversation.channel,
        first.message_id,
        first.created_at,
        first.visibility,
        None if reply is None else reply.message_id,
        None if reply is None else reply.created_at,
    )


def first_replies_in(data: ControlInput, rule: ResponseParams) -> Iterator[FirstReply]:
    """What a control fed by first replies counts: the pairs the store found
    (`data.first_replies`), else each conversation's under `rule`, in the conversations' order."""
    if data.first_replies is not None:
        yield from data.first_replies
        return
    for conversation in data.conversations:
        if (reply := first_reply(conversation, rule)) is not None:
            yield reply


Pause = tuple[datetime, datetime | None]


def pauses(conversation: Conversation) -> list[Pause]:
    """Intervals waiting on the customer: from a pending status to the customer's next message
    or the next other status; an interval still open has no end. They come disjoint and in
    time order: a pending status repeated before the wait ends (helpdesks record one with each
    agent update) extends the interval it falls in, whose time was otherwise taken off twice."""
    if not any(s.status is _PENDING for s in conversation.statuses):
        return []  # most conversations (social channels have no statuses at all)
    customer_times = sorted(m.created_at for m in conversation.messages if m.is_customer_inbound)
    statuses = sorted(conversation.statuses, key=lambda s: s.created_at)
    next_other: list[datetime | None] = [None] * len(statuses)  # the next status not pending
    following = None
    for index in range(len(statuses) - 1, -1, -1):
        next_other[index] = following
        if statuses[index].status is not _PENDING:
            following = statuses[index].created_at
    result: list[Pause] = []
    for index, status in enumerate(statuses):
        if status.status is not _PENDING:
            continue
        start = status.created_at
        answer = bisect_right(customer_times, start)
        ends = customer_times[answer : answer + 1]  # the customer's next message, if any
        if (other := next_other[index]) is not None:
            ends.append(other)
        end = min(ends, default=None)
        if result and (result[-1][1] is None or start <= result[-1][1]):
            previous_start, previous_end = result[-1]
            longer = None if previous_end is None or end is None else max(previous_end, end)
            result[-1] = (previous_start, longer)
        else:
            result.append((start, end))
    return result


def _pause_end(pause: Pause) -> datetime:
    return pause[1] or datetime.max.replace(tzinfo=pause[0].tzinfo)


def elapsed(
    calendar: BusinessCalendar,
    start: datetime,
    end: datetime,
    paused: Sequence[Pause] = (),
) -> float:
    """Business (or calendar) seconds in `[start, end)` less the paused time (`paused` as
    `pauses` gives them: disjoint, in time order; only those overlapping are looked at, so
    timing every wait of a long conversation stays linear)."""
    total = calendar.seconds_between(start, end)
    for index in range(bisect_right(paused, start, key=_pause_end), len(paused)):
        pause_start, pause_end = paused[index]
        if pause_start >= end:
            break
        lo, hi = max(start, pause_start), min(end, pause_end or end)
        if hi > lo:
            total -= calendar.seconds_between(lo, hi)
    return max(total, 0.0)


def due(
    calendar: BusinessCalendar,
    start: datetime,
    amount: timedelta,
    paused: Sequence[Pause] = (),
) -> datetime:
    """When `amount` of (business) time has run after `start`, pauses (as `pauses` gives them)
    extending it."""
    moment = calendar.add(start, amount)
    for pause_start, pause_end in paused:
        if pause_start >= moment or (pause_end is not None and pause_end <= start):
            continue
        if pause_end is None:
            return datetime.max.replace(tzinfo=start.tzinfo)  # waiting on the customer
        lo = max(start, pause_start)
        moment = calendar.add(moment, timedelta(seconds=calendar.seconds_between(lo, pause_end)))
    return moment


ResponseField = Field(
    default_factory=ResponseParams, description="which messages count as a response"
)
