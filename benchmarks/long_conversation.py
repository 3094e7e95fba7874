"""Every shipped control on one very long conversation: time must grow with its length.

A helpdesk ticket with thousands of updates, a chat channel logged as one conversation, or a
CSV mapped with a constant conversation id all make one conversation of many messages (and a
constant author, one customer of many conversations). Each control of the shipped policies is
timed on 5,000 and 20,000 messages of a few hostile shapes (replies with repeated pending
statuses, exposures of card numbers that no agent remedies, reopen cycles, everything at one
moment, one customer's resolved cases one after another); four times the messages should take
about four times as long (target: at most 6x, linear within noise; the best of three runs
each, the garbage collector paused as a check pauses it).

Run: python benchmarks/long_conversation.py
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from iso_social.check import evaluate_control
from iso_social.config import resource_dir
from iso_social.domain import (
    AuthorRole,
    Channel,
    Conversation,
    Direction,
    Message,
    Status,
    StatusChange,
    Visibility,
    Window,
)
from iso_social.policy import Control, Policy, load_policies

T0 = datetime(2026, 10, 1, tzinfo=UTC)
WINDOW = Window(T0, T0 + timedelta(days=400))
SIZES = (5_000, 20_000)
TARGET_GROWTH = 6.0


def _message(
    i: int, channel: Channel, at: datetime, customer: bool, text: str, conversation: str = "c1"
) -> Message:
    return Message(
        f"m{i}",
        conversation,
        channel,
        Direction.INBOUND if customer else Direction.OUTBOUND,
        "@customer" if customer else "@brand",
        AuthorRole.CUSTOMER if customer else AuthorRole.AGENT,
        Visibility.PUBLIC,
        at,
        text,
    )


def replies_with_pending(n: int, channel: Channel) -> list[Conversation]:
    """Customer and agent in turn, the agent marking the case pending twice each time."""
    messages = [
        _message(i, channel, T0 + timedelta(minutes=3 * i), i % 2 == 0, f"message {i}")
        for i in range(n)
    ]
    statuses = [
        StatusChange("c1", T0 + timedelta(minutes=3 * i, seconds=s), Status.PENDING_CUSTOMER)
        for i in range(1, n, 2)
        for s in (10, 20)
    ]
    return [Conversation("c1", channel, tuple(messages), tuple(statuses))]


def unremedied_exposures(n: int, channel: Channel) -> list[Conversation]:
    """A customer posting card numbers again and again, no agent answering."""
    messages = [
        _message(i, channel, T0 + timedelta(seconds=i), True, f"card 4111 1111 1111 1111 #{i}")
        for i in range(n)
    ]
    return [Conversation("c1", channel, tuple(messages))]


def reopened_cycles(n: int, channel: Channel) -> list[Conversation]:
    """A case resolved and reopened at every other message."""
    messages = [
        _message(i, channel, T0 + timedelta(minutes=i), i % 2 == 0, f"message {i}")
        for i in range(n)
    ]
    statuses = [
        StatusChange(
            "c1",
            T0 + timedelta(minutes=i, seconds=30),
            Status.RESOLVED if i % 4 == 1 else Status.REOPENED,
        )
        for i in range(1, n, 2)
    ]
    return [Conversation("c1", channel, tuple(messages), tuple(statuses))]


def one_moment(n: int, channel: Channel) -> list[Conversation]:
    """Every message at the same second (a broken export's timestamps)."""
    messages = [
        _message(i, channel, T0, i % 2 == 0, f"card 4111 1111 1111 1111 please delete {i}")
        for i in range(n)
    ]
    return [Conversation("c1", channel, tuple(messages))]


def one_customer(n: int, channel: Channel) -> list[Conversation]:
    """One customer's cases, a minute apart, each resolved within seconds."""
    return [
        Conversation(
            f"c{i:06d}",
            channel,
            (_message(i, channel, T0 + timedelta(minutes=i), True, "hi", f"c{i:06d}"),),
            (StatusChange(f"c{i:06d}", T0 + timedelta(minutes=i, seconds=5), Status.RESOLVED),),
        )
        for i in range(n)
    ]


SHAPES: dict[str, Callable[[int, Channel], list[Conversation]]] = {
    "replies, pending twice": replies_with_pending,
    "unremedied exposures": unremedied_exposures,
    "reopened cycles": reopened_cycles,
    "one moment": one_moment,
    "one customer's cases": one_customer,
}


def timed(policy: Policy, control: Control, conversations: list[Conversation]) -> float:
    """One evaluation's time, the garbage collector paused as a check pauses it."""
    gc.collect()
    gc.disable()
    try:
        start = time.perf_counter()
        evaluate_control(control, policy, WINDOW, conversations, [])
        return time.perf_counter() - start
    finally:
        gc.enable()


def main() -> None:
    """Time every shipped control on every shape; print each control's slowest shape."""
    policies = load_policies([resource_dir("policies")])
    print(f"shipped controls on one conversation of {SIZES[0]:,} and {SIZES[1]:,} messages")
    for policy in policies:
        for control in policy.controls:
            channel = Channel(sorted(control.spec.channels)[0] if control.spec.channels else "chat")
            worst = (0.0, 0.0, "")
            for name, shape in SHAPES.items():
                times = []
                for size in SIZES:
                    conversations = shape(size, channel)
                    times.append(min(timed(policy, control, conversations) for _ in range(3)))
                if times[1] > worst[1]:
                    worst = (times[0], times[1], name)
            small, large, name = worst
            growth = large / small if small > 0.005 else 1.0  # below that: noise
            print(
                f"  {control.spec.id:10s} {control.spec.type:26s} worst: {name:22s} "
                f"{large:6.2f} s ({growth:4.1f}x for 4x)   target <= {TARGET_GROWTH:.0f}x   "
                f"{'ok' if growth <= TARGET_GROWTH else 'NOT MET'}"
            )


if __name__ == "__main__":
    main()
