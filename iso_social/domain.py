"""Value objects every stage shares. Frozen, timezone-aware (UTC), free of I/O.

Ingest produces `Message`, `StatusChange`, `Escalation` and `Call` records; the store assembles
them into `Conversation` objects for the checks; a control type returns an `Outcome`, which the
check stage grades into a `Finding` with a `Verdict`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, NamedTuple


class Channel(StrEnum):
    """A customer-service channel."""

    TWITTER = "twitter"
    FACEBOOK = "facebook"
    INSTAGRAM = "instagram"
    FORUM = "forum"
    EMAIL = "email"
    CHAT = "chat"
    PHONE = "phone"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    WEB = "web"
    OTHER = "other"


class Direction(StrEnum):
    """Who a message goes to: from the customer (inbound), to the customer, or internal."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"
    INTERNAL = "internal"


class AuthorRole(StrEnum):
    """What kind of author wrote a message."""

    CUSTOMER = "customer"
    AGENT = "agent"
    BOT = "bot"
    SYSTEM = "system"


class Visibility(StrEnum):
    """Whether a message is public (a tweet) or seen only by the parties (a DM, an e-mail)."""

    PUBLIC = "public"
    PRIVATE = "private"


class Status(StrEnum):
    """Conversation status as recorded by the helpdesk."""

    OPEN = "open"
    PENDING_CUSTOMER = "pending_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REOPENED = "reopened"


class CallOutcome(StrEnum):
    """How an offered call ended."""

    ANSWERED = "answered"
    ABANDONED = "abandoned"
    TRANSFERRED = "transferred"


# Each record enum's members by value, for code that converts a value per stored or ingested
# record: a dict lookup costs a tenth of calling the enum.
CHANNEL_OF: Mapping[str, Channel] = {m.value: m for m in Channel}
DIRECTION_OF: Mapping[str, Direction] = {m.value: m for m in Direction}
ROLE_OF: Mapping[str, AuthorRole] = {m.value: m for m in AuthorRole}
VISIBILITY_OF: Mapping[str, Visibility] = {m.value: m for m in Visibility}
STATUS_OF: Mapping[str, Status] = {m.value: m for m in Status}
CALL_OUTCOME_OF: Mapping[str, CallOutcome] = {m.value: m for m in CallOutcome}


class Severity(StrEnum):
    """What a non-conforming outcome of a control becomes (ISO 17021-1 grading)."""

    MAJOR = "major"
    MINOR = "minor"
    OBSERVATION = "observation"


class Verdict(StrEnum):
    """The graded result of one control in one run. ISO words, never pass/fail."""

    CONFORMS = "conforms"
    OBSERVATION = "observation"
    MINOR_NONCONFORMITY = "minor_nonconformity"
    MAJOR_NONCONFORMITY = "major_nonconformity"
    NOT_EVALUATED = "not_evaluated"
    WAIVED = "waived"

    @classmethod
    def for_severity(cls, severity: Severity) -> Verdict:
        """The verdict a non-conforming outcome of a control with `severity` receives."""
        return {
            Severity.MAJOR: cls.MAJOR_NONCONFORMITY,
            Severity.MINOR: cls.MINOR_NONCONFORMITY,
            Severity.OBSERVATION: cls.OBSERVATION,
        }[severity]

    @property
    def grade(self) -> Severity | None:
        """The nonconformity grade this verdict is (None when it is not one)."""
        return {
            Verdict.MAJOR_NONCONFORMITY: Severity.MAJOR,
            Verdict.MINOR_NONCONFORMITY: Severity.MINOR,
            Verdict.OBSERVATION: Severity.OBSERVATION,
        }.get(self)

    @property
    def rank(self) -> int:
        """Order of gravity: 3 major, 2 minor, 1 observation, 0 otherwise."""
        return {
            Verdict.MAJOR_NONCONFORMITY: 3,
            Verdict.MINOR_NONCONFORMITY: 2,
            Verdict.OBSERVATION: 1,
        }.get(self, 0)


def utc(value: datetime) -> datetime:
    """Return `value` converted to UTC; naive datetimes are a programming error here."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: every timestamp must carry a UTC offset")
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Window:
    """A half-open audit window `[start, end)` in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", utc(self.start))
        object.__setattr__(self, "end", utc(self.end))

    def __contains__(self, moment: object) -> bool:
        return isinstance(moment, datetime) and self.start <= moment < self.end


class Message(NamedTuple):
    """One message of a conversation, on any channel. A named tuple, not a frozen dataclass
    like the other records: a check builds a million of them, and a named tuple is built
    five times faster (`_replace` gives a changed copy)."""

    message_id: str
    conversation_id: str
    channel: Channel
    direction: Direction
    author: str
    author_role: AuthorRole
    visibility: Visibility
    created_at: datetime
    text: str = ""
    in_reply_to: str | None = None
    automated: bool = False

    @property
    def is_customer_inbound(self) -> bool:
        """True for a message the customer sent to the organisation."""
        return self.direction is Direction.INBOUND and self.author_role is AuthorRole.CUSTOMER

    @property
    def is_human_agent_reply(self) -> bool:
        """True for an outbound message written by a human agent (not a bot, not automated)."""
        return (
            self.direction is Direction.OUTBOUND
            and self.author_role is AuthorRole.AGENT
            and not self.automated
        )


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A status the helpdesk recorded for a conversation."""

    conversation_id: str
    created_at: datetime
    status: Status


@dataclass(frozen=True, slots=True)
class Escalation:
    """A conversation handed to a higher level (supervisor, quality, legal...)."""

    conversation_id: str
    created_at: datetime
    to: str
    by: str


@dataclass(frozen=True, slots=True)
class Call:
    """One call offered to a phone queue."""

    call_id: str
    channel: Channel
    queue: str
    customer: str
    offered_at: datetime
    answered_at: datetime | None
    ended_at: datetime
    outcome: CallOutcome


Record = Message | StatusChange | Escalation | Call


def field_names(record: Record) -> tuple[str, ...]:
    """The names of a record's fields, in order."""
    return record._fields if isinstance(record, Message) else record.__slots__


@dataclass(frozen=True, slots=True)
class Conversation:
    """A conversation as the checks see it: messages, statuses and escalations in time order."""

    conversation_id: str
    channel: Channel
    messages: tuple[Message, ...]
    statuses: tuple[StatusChange, ...] = ()
    escalations: tuple[Escalation, ...] = ()
    # found on first use and kept: most controls ask, once per conversation each
    _first_customer: Message | bool | None = field(
        default=False, init=False, repr=False, compare=False
    )

    @property
    def first_customer_message(self) -> Message | None:
        """The earliest inbound message from the customer, if any."""
        found = self._first_customer
        if found is False:
            found = next((m for m in self.messages if m.is_customer_inbound), None)
            object.__setattr__(self, "_first_customer", found)
        return found  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class ResponseFilter:
    """Which stored messages count as a response to the customer, field by field: what a
    control's response rule becomes when the store, not Python, looks for the first response."""

    directions: frozenset[Direction]
    roles: frozenset[AuthorRole]
    visibilities: frozenset[Visibility]
    automated: bool  # automated messages count too

    def matches(self, message: Message) -> bool:
        """True when `message` is a response under this filter."""
        return (
            message.direction in self.directions
            and message.author_role in self.roles
            and message.visibility in self.visibilities
            and (self.automated or not message.automated)
        )


@dataclass(frozen=True, slots=True)
class FirstReply:
    """A conversation's first customer message and the first response at or after it (None
    while unanswered), as the first-response controls measure them."""

    conversation_id: str
    channel: Channel
    asked_id: str
    asked_at: datetime
    asked_visibility: Visibility
    reply_id: str | None
    reply_at: datetime | None


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    """One nonconforming case: which conversation, which messages, the measured value, why."""

    conversation_id: str
    message_ids: tuple[str, ...]
    value: float | None
    detail: str


@dataclass(frozen=True, slots=True)
class Upcoming:
    """An item still within its deadline at the end of the window, and when it breaches."""

    conversation_id: str
    due_at: datetime


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a control type measured; it knows nothing of the policy's grading."""

    conforms: bool | None
    statement: str
    population: int = 0
    conforming: int = 0
    nonconforming: int = 0
    rate: float | None = None
    target: float | None = None
    measures: Mapping[str, Any] = field(default_factory=dict)
    evidence: tuple[EvidenceItem, ...] = ()
    population_ids: tuple[str, ...] = ()  # for audit sampling; not part of the run document
    nonconforming_ids: tuple[str, ...] = ()  # each evidence item's population id (waivers)
    grade_floor: Severity | None = None  # a finding that is major on its own (agent exposure)
    upcoming: tuple[Upcoming, ...] = ()  # pending items' due times, for warnings; not recorded

    @classmethod
    def not_evaluated(
        cls, reason: str, upcoming: tuple[Upcoming, ...] = (), **measures: Any
    ) -> Outcome:
        """A skip is data: nothing in scope, with the reason as the statement."""
        return cls(conforms=None, statement=reason, measures=measures, upcoming=upcoming)


@dataclass(frozen=True, slots=True)
class Finding:
    """A graded outcome of one control of one policy document."""

    control_id: str
    control_type: str
    title: str
    policy_id: str
    channels: tuple[str, ...]
    clauses: tuple[str, ...]
    severity: Severity
    verdict: Verdict
    outcome: Outcome
    params: Mapping[str, Any] = field(default_factory=dict)
    waivers: tuple[Mapping[str, Any], ...] = ()  # waivers in force for this control
    warnings: tuple[str, ...] = ()  # e.g. an expired waiver


def now_utc() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)
