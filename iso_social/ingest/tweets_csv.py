"""Tweet exports without reply links: rtweet/Kaggle-style CSVs (the Citibanamex, Spanish airline
and US airline files), read by column name.

Columns found by name: the id (`status_id`, `tweet_id`, `id`), the author (`screen_name`,
`name`, `user`, `username`, `author`), the time (`created_at`, `tweet_created`, `date`; ISO 8601
or Twitter's `Tue Oct 31 22:10:47 +0000 2017`) and the text (`text`, `full_text`). Encodings:
UTF-8, UTF-8 with a byte-order mark, UTF-16 with a byte-order mark.

`--brand HANDLE` (repeatable) names the brand's accounts: their tweets are outbound agent
messages; a brand tweet's first @mention names the customer it answers. A customer's
conversation is their tweets that mention a brand and the brand's replies to them, split after an
inactivity gap (`--gap`, 48 hours by default). A file without an author column (customer tweets
only) gives one conversation per tweet. Tweets neither from nor mentioning a brand are not
customer-service contacts: they are kept as rejected records marked `skipped:`. A brand tweet
that mentions nobody (a broadcast) is stored as a conversation of its own.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import BinaryIO, ClassVar

from iso_social.domain import AuthorRole, Channel, Direction, Message, Visibility
from iso_social.errors import IngestError
from iso_social.ingest._text import csv_rows, header_of, sniff_encoding
from iso_social.ingest.base import IngestOptions, Parsed, ParsedRecord, Rejection
from iso_social.ingest.twcs import PREFIX, twitter_time

ID_COLUMNS = ("status_id", "tweet_id", "id", "id_str")
AUTHOR_COLUMNS = ("screen_name", "name", "user", "username", "author", "user_screen_name")
TIME_COLUMNS = ("created_at", "tweet_created", "date", "timestamp")
TEXT_COLUMNS = ("text", "full_text")
_MENTION = re.compile(r"@(\w{1,15})")


def _pick(index: dict[str, int], names: tuple[str, ...]) -> int | None:
    return next((index[n] for n in names if n in index), None)


def _when(value: str) -> datetime:
    text = value.strip()
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = twitter_time(text)
    if moment.tzinfo is None:
        raise ValueError("no UTC offset")
    return moment.astimezone(UTC)


def _handle(value: str) -> str:
    return value.strip().lstrip("@").lower()


class TweetsCsv:
    """Tweet exports without reply links, grouped into conversations per customer."""

    name: ClassVar[str] = "tweets-csv"
    description: ClassVar[str] = "tweet exports without reply links (rtweet, Kaggle), --brand"
    suffixes: ClassVar[tuple[str, ...]] = (".csv",)

    def sniff(self, head: bytes) -> bool:
        """A header with a tweet id, a time and a text column but no twcs reply links."""
        header = set(header_of(head))
        return (
            bool(header & set(ID_COLUMNS))
            and bool(header & set(TIME_COLUMNS))
            and bool(header & set(TEXT_COLUMNS))
            and "in_response_to_tweet_id" not in header
            and "kind" not in header
        )

    def parse(self, stream: BinaryIO, options: IngestOptions) -> Iterator[Parsed]:
        """Read the file twice: first who wrote to whom and when (no text is kept), then the
        messages with their conversations, in file order."""
        brands = {_handle(b) for b in options.brands}
        if not brands:
            raise IngestError(
                "--format tweets-csv",
                "tweet exports have no reply links, so the brand's accounts must be named",
                hint="pass --brand HANDLE (repeatable), e.g. --brand Citibanamex",
            )
        encoding = sniff_encoding(stream.read(4))
        stream.seek(0)
        contacts: list[_Contact] = []
        problems: list[Rejection] = []
        for item in _rows(stream, encoding):
            if isinstance(item, Rejection):
                problems.append(item)
                continue
            line, tid, author, moment, text = item
            mentions = [_handle(m) for m in _MENTION.findall(text)]
            contacts.append(
                _Contact(
                    line,
                    tid,
                    _handle(author),
                    moment,
                    next((m for m in mentions if m not in brands), None),
                    bool(brands.intersection(mentions)),
                    text[:200],
                )
            )
        conversations, skipped = _conversations(contacts, brands, options)
        del contacts
        yield from sorted([*problems, *skipped], key=lambda r: r.line)
        stream.seek(0)
        for item in _rows(stream, encoding):
            if isinstance(item, Rejection):
                continue
            line, tid, author, moment, text = item
            conversation = conversations.get(tid)
            if conversation is None:
                continue
            from_brand = _handle(author) in brands
            yield ParsedRecord(
                line,
                Message(
                    message_id=f"{PREFIX}{tid}",
                    conversation_id=conversation,
                    channel=Channel.TWITTER,
                    direction=Direction.OUTBOUND if from_brand else Direction.INBOUND,
                    author=author or "(unknown)",
                    author_role=AuthorRole.AGENT if from_brand else AuthorRole.CUSTOMER,
                    visibility=Visibility.PUBLIC,
                    created_at=moment,
                    text=text,
                ),
            )


@dataclass(frozen=True, slots=True)
class _Contact:
    """What threading needs of a tweet: never its text (only a snippet for skip reports)."""

    line: int
    tid: str
    handle: str
    moment: datetime
    addressee: str | None  # the first non-brand @mention
    mentions_brand: bool
    snippet: str


def _rows(
    stream: BinaryIO, encoding: str
) -> Iterator[tuple[int, str, str, datetime, str] | Rejection]:
    rows = csv_rows(stream, encoding)
    first = next(rows, (1, []))
    if isinstance(first, Rejection):
        yield first
        return
    _, header = first
    index = {name.strip().lower(): i for i, name in enumerate(header)}
    at = {
        "id": _pick(index, ID_COLUMNS),
        "author": _pick(index, AUTHOR_COLUMNS),
        "time": _pick(index, TIME_COLUMNS),
        "text": _pick(index, TEXT_COLUMNS),
    }
    missing = [k for k in ("id", "time", "text") if at[k] is None]
    if missing:
        wanted = {"id": ID_COLUMNS, "time": TIME_COLUMNS, "text": TEXT_COLUMNS}
        yield Rejection.of(
            1,
            f"no {missing[0]} column (looked for: {', '.join(wanted[missing[0]])})",
            ",".join(header),
        )
        return
    for item in rows:
        if isinstance(item, Rejection):
            yield item
        elif any(cell.strip() for cell in item[1]):
            yield _tweet(item[0], item[1], header, at)


def _tweet(
    line: int, row: list[str], header: list[str], at: dict[str, int | None]
) -> tuple[int, str, str, datetime, str] | Rejection:
    raw = ",".join(row)
    if len(row) != len(header):
        return Rejection.of(line, f"{len(row)} cells where the header has {len(header)}", raw)
    id_at, time_at, text_at, author_at = at["id"], at["time"], at["text"], at["author"]
    assert id_at is not None and time_at is not None and text_at is not None  # noqa: S101
    tid = row[id_at].strip().removesuffix(".0")
    if not tid.isdigit():
        return Rejection.of(line, "tweet id: not a tweet id (digits expected)", raw)
    try:
        moment = _when(row[time_at])
    except ValueError:
        return Rejection.of(line, "time: not an ISO 8601 or Twitter timestamp with an offset", raw)
    author = row[author_at].strip() if author_at is not None else ""
    return line, tid, author, moment, row[text_at]


def _conversations(
    contacts: list[_Contact], brands: set[str], options: IngestOptions
) -> tuple[dict[str, str], list[Rejection]]:
    """Conversation id per tweet id; tweets that are no customer-service contact are skipped."""
    by_customer: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    assigned: dict[str, str] = {}
    skipped: list[Rejection] = []
    for contact in contacts:
        if contact.handle in brands:
            if contact.addressee is None:
                assigned[contact.tid] = f"{PREFIX}{contact.tid}"  # a broadcast: its own
            else:
                by_customer[contact.addressee].append((contact.moment, contact.tid))
        elif not contact.mentions_brand:
            skipped.append(
                Rejection.of(
                    contact.line,
                    "skipped: neither from nor mentioning a brand account (--brand)",
                    contact.snippet,
                )
            )
        elif not contact.handle:
            assigned[contact.tid] = f"{PREFIX}{contact.tid}"  # no author column: one per tweet
        else:
            by_customer[contact.handle].append((contact.moment, contact.tid))
    for items in by_customer.values():
        items.sort()
        start, last = None, None
        for moment, tid in items:
            if last is None or moment - last > options.gap:
                start = tid
            last = moment
            assigned[tid] = f"{PREFIX}{start}"  # not the handle: ids reach reports unmasked
    return assigned, skipped
