"""The `LogFormat` contract and the records a format yields.

A format reads a byte stream and yields, in file order, either a `ParsedRecord` (a validated
domain record with the line it started on) or a `Rejection` (the line, the reason and the raw
text, so that nothing is silently dropped). Formats stream: they never hold a whole file.

The style guide sketches `parse() -> Iterator[Conversation]`; formats yield records instead,
because the lines of one conversation can be far apart in a file (and in several files) and a
streaming parser cannot know when a conversation is complete. The store assembles conversations.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, BinaryIO, ClassVar, NamedTuple, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from iso_social.domain import (
    CHANNEL_OF,
    DIRECTION_OF,
    ROLE_OF,
    VISIBILITY_OF,
    Message,
    Record,
    field_names,
)

MAX_RAW_CHARS = 65_536  # raw text kept for a rejected record; longer lines are cut and marked


@dataclass(frozen=True, slots=True)
class ParsedRecord:
    """A valid record and the line of the source file it starts on."""

    line: int
    record: Record


@dataclass(frozen=True, slots=True)
class Rejection:
    """A record that could not be accepted, kept with its location, reason and raw text."""

    line: int
    reason: str
    raw: str

    @classmethod
    def of(cls, line: int, reason: str, raw: bytes | str) -> Rejection:
        """Build a rejection, decoding and bounding the raw text."""
        text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
        text = text.replace("\x00", "\ufffd")  # no database text can hold a NUL
        if len(text) > MAX_RAW_CHARS:
            text = text[:MAX_RAW_CHARS] + f"…[cut: {len(text)} characters in all]"
        return cls(line, reason, text.rstrip("\r\n"))


Parsed = ParsedRecord | Rejection

NUL_REASON = (
    "contains a NUL character (U+0000), which the database cannot store; remove it from the source"
)


def nul_field(record: Record) -> str | None:
    """The first text field of `record` holding a NUL character (PostgreSQL's text cannot,
    so no backend stores one), or None."""
    for name in field_names(record):
        value = getattr(record, name)
        if type(value) is str and "\x00" in value:
            return name
    return None


class PlainMessage(NamedTuple):
    """A message and the line it is on, its fields as plain values (the enums' values, the time
    with its `isoformat()`, which the digest hashes): what a canonical message written exactly
    as documented becomes without building a `Message` (a format's `parse_plain`, in UTC), and
    what the store makes a message's row of. `parsed()` is the same record as a
    `ParsedRecord`."""

    line: int
    message_id: str
    conversation_id: str
    channel: str
    direction: str
    author: str
    author_role: str
    visibility: str
    created_at: datetime
    created_iso: str
    text: str
    in_reply_to: str | None
    automated: bool

    @classmethod
    def of(cls, line: int, message: Message) -> PlainMessage:
        """A message record's plain values."""
        created = message.created_at
        return cls(
            line,
            message.message_id,
            message.conversation_id,
            # `_value_`, the enum's plain attribute: `.value` is a descriptor and a member
            # itself (a str subclass) goes through sqlite3's adaptation; both cost more
            message.channel._value_,
            message.direction._value_,
            message.author,
            message.author_role._value_,
            message.visibility._value_,
            created,
            created.isoformat(),
            message.text,
            message.in_reply_to,
            message.automated,
        )

    def parsed(self) -> ParsedRecord:
        """The message as a domain record."""
        return ParsedRecord(
            self.line,
            Message(
                self.message_id,
                self.conversation_id,
                CHANNEL_OF[self.channel],
                DIRECTION_OF[self.direction],
                self.author,
                ROLE_OF[self.author_role],
                VISIBILITY_OF[self.visibility],
                self.created_at,
                self.text,
                self.in_reply_to,
                self.automated,
            ),
        )


@dataclass(frozen=True)
class IngestOptions:
    """Options every format may use; each format ignores the ones it does not need."""

    assume_tz: ZoneInfo | None = None
    day: date | None = None  # for logs that hold times of day only
    brands: tuple[str, ...] = ()
    support: tuple[str, ...] = ()  # e-mail: support addresses, or domains as "@example.com"
    agents: tuple[str, ...] = ()  # chat: the nicks of the support team
    bots: tuple[str, ...] = ()  # chat: the nicks of bots
    mapping: Any = None  # csv: a ColumnMapping for exports in other layouts
    pseudonym_key: bytes | None = None  # replace customers' identities by keyed hashes
    gap: timedelta = timedelta(hours=48)
    extra: dict[str, str] = field(default_factory=dict)


@runtime_checkable
class LogFormat(Protocol):
    """A log format: its name, the suffixes it usually has, a sniffer and a streaming parser."""

    name: ClassVar[str]
    description: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]]

    def sniff(self, head: bytes) -> bool:
        """Return True when the first bytes of a file have this format's structure."""
        ...

    def parse(self, stream: BinaryIO, options: IngestOptions) -> Iterator[Parsed]:
        """Yield every record of `stream` in order, valid or rejected."""
        ...


@runtime_checkable
class PlainMessages(Protocol):
    """A format that may also yield messages as `PlainMessage`s: one whose messages are
    mostly written exactly as the canonical format documents, so storing them can skip building
    domain objects (the loader's fast path for large canonical files)."""

    def parse_plain(
        self, stream: BinaryIO, options: IngestOptions
    ) -> Iterator[Parsed | PlainMessage]:
        """What `parse` yields, with each documented message as a `PlainMessage` instead."""
        ...
