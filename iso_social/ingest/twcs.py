"""The "Customer Support on Twitter" CSV (Kaggle twcs) and its damaged variants.

Columns: tweet_id, author_id, inbound, created_at, text, response_tweet_id,
in_response_to_tweet_id; an extra index column (pandas) is ignored. Ids written as floats
(`3.0`) are read as integers; booleans may be True/TRUE/true. An id in scientific notation
(`1.19E+05`, what Excel does to long numbers) cannot be recovered and the row is rejected.

A conversation is a reply tree: `in_response_to_tweet_id` links are followed as far as the data
goes, and the conversation id is the last id reached, whether or not that tweet is in the file,
so replies to the same missing tweet share a conversation. This needs the whole file's links
first, so the file is read twice (only the links are held in memory). `response_tweet_id` is
redundant with those links and is not used: Excel's damage to it (`1,577,157,915` from the list
`1577,1579,1580`) therefore loses nothing. `inbound=True` is the customer; any other author is the
brand's agent. Tweets are public; the channel is `twitter`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import BinaryIO, ClassVar

from iso_social.domain import AuthorRole, Channel, Direction, Message, Visibility
from iso_social.ingest._text import csv_rows, header_of
from iso_social.ingest.base import IngestOptions, Parsed, ParsedRecord, Rejection

REQUIRED = ("tweet_id", "author_id", "inbound", "created_at", "text", "in_response_to_tweet_id")
_ID = re.compile(r"^(\d+)(?:\.0+)?$")
_SCIENTIFIC = re.compile(r"^\d+(?:\.\d+)?[eE][+-]?\d+$")
_TRUE, _FALSE = {"true", "1"}, {"false", "0"}
TWITTER_TIME = "%a %b %d %H:%M:%S %z %Y"
PREFIX = "tw-"


_MAX_ID_DIGITS = 20  # a 64-bit snowflake id has at most 20 digits


class TweetIdError(ValueError):
    """An id that is not a tweet id."""


def tweet_id(value: str, column: str) -> int | None:
    """Parse `123`, `123.0` or empty; reject Excel's scientific notation with a reason."""
    text = value.strip()
    if not text:
        return None
    match = _ID.match(text)
    if match and len(match.group(1)) <= _MAX_ID_DIGITS:
        return int(match.group(1))
    if _SCIENTIFIC.match(text):
        raise TweetIdError(
            f"{column}: written in scientific notation, as Excel does to long "
            "numbers; the id cannot be recovered: export the data again "
            "without opening it in Excel"
        )
    raise TweetIdError(f"{column}: not a tweet id (digits expected)")


def twitter_time(value: str) -> datetime:
    """Parse Twitter's `Tue Oct 31 22:10:47 +0000 2017`."""
    moment = datetime.strptime(value.strip(), TWITTER_TIME)  # noqa: DTZ007 - %z is in the format
    return moment.astimezone(UTC)


class Twcs:
    """The Kaggle "Customer Support on Twitter" CSV."""

    name: ClassVar[str] = "twcs"
    description: ClassVar[str] = "Customer Support on Twitter (Kaggle twcs) CSV"
    suffixes: ClassVar[tuple[str, ...]] = (".csv",)

    def sniff(self, head: bytes) -> bool:
        """The header names the twcs columns (an extra index column is allowed)."""
        return set(REQUIRED) <= set(header_of(head))

    def parse(self, stream: BinaryIO, options: IngestOptions) -> Iterator[Parsed]:
        """Read the reply links, then yield every tweet with its conversation."""
        parents, known = _links(stream), Roots()
        stream.seek(0)
        rows = csv_rows(stream)
        first = next(rows, (1, []))
        if isinstance(first, Rejection):
            yield first
            return
        _, header = first
        index = {name.strip(): i for i, name in enumerate(header)}
        missing = [c for c in REQUIRED if c not in index]
        if missing:
            yield Rejection.of(1, f"missing column '{missing[0]}'", ",".join(header))
            return
        for item in rows:
            if isinstance(item, Rejection):
                yield item
            elif any(cell.strip() for cell in item[1]):
                yield _record(item[0], item[1], header, index, parents, known)


def _links(stream: BinaryIO) -> dict[int, int]:
    parents: dict[int, int] = {}
    rows = csv_rows(stream)
    first = next(rows, (1, []))
    header = [] if isinstance(first, Rejection) else first[1]
    index = {name.strip(): i for i, name in enumerate(header)}
    if "tweet_id" not in index or "in_response_to_tweet_id" not in index:
        return parents
    id_at, parent_at = index["tweet_id"], index["in_response_to_tweet_id"]
    for item in rows:  # rejected rows are reported by the second pass
        if isinstance(item, Rejection) or len(row := item[1]) != len(header):
            continue
        try:
            child, parent = tweet_id(row[id_at], "tweet_id"), tweet_id(row[parent_at], "parent")
        except TweetIdError:
            continue
        if child is not None and parent is not None:
            parents[child] = parent
    return parents


Roots = dict[int, int]  # each tweet's conversation root, as far as a file has been read


def conversation_root(tweet: int, parents: dict[int, int], known: Roots | None = None) -> int:
    """Follow reply links as far as the data goes (a cycle stops where it closes: the first
    tweet met twice is the root, so a cycle's own tweets are each their own).

    With `known`, kept by the caller for a whole file, the root of every tweet passed on the
    way is kept too, so each link is followed once: walking a thread of n replies again from
    each of them took quadratic time (28 s for a thread of 20,000 tweets). A tweet leading to
    one already known has its root (a cycle's tweet is its own: where the cycle is entered)."""
    known = {} if known is None else known
    path: list[int] = []
    on_path: dict[int, int] = {}
    node = tweet
    while True:
        if node in known:
            root = known[node]
            break
        if node in on_path:  # a cycle closes: its tweets are their own roots
            at = on_path[node]
            known.update((member, member) for member in path[at:])
            root, path = node, path[:at]
            break
        on_path[node] = len(path)
        path.append(node)
        if node not in parents:
            root = node
            break
        node = parents[node]
    known.update((member, root) for member in path)
    return known[tweet]


def _record(
    line: int,
    row: list[str],
    header: list[str],
    index: dict[str, int],
    parents: dict[int, int],
    known: Roots,
) -> Parsed:
    raw = ",".join(row)
    if len(row) != len(header):
        return Rejection.of(
            line,
            f"{len(row)} cells where the header has {len(header)} (a "
            "line break or quote inside the text may have split the record)",
            raw,
        )
    try:
        tid = tweet_id(row[index["tweet_id"]], "tweet_id")
        parent = tweet_id(row[index["in_response_to_tweet_id"]], "in_response_to_tweet_id")
    except TweetIdError as exc:
        return Rejection.of(line, str(exc), raw)
    if tid is None:
        return Rejection.of(line, "tweet_id: required field is missing", raw)
    flag = row[index["inbound"]].strip().lower()
    if flag not in _TRUE | _FALSE:
        return Rejection.of(line, "inbound: must be True or False", raw)
    try:
        created = twitter_time(row[index["created_at"]])
    except ValueError:
        return Rejection.of(
            line,
            "created_at: not a Twitter timestamp such as 'Tue Oct 31 22:10:47 +0000 2017'",
            raw,
        )
    author = row[index["author_id"]].strip()
    if not author:
        return Rejection.of(line, "author_id: required field is missing", raw)
    inbound = flag in _TRUE
    return ParsedRecord(
        line,
        Message(
            message_id=f"{PREFIX}{tid}",
            conversation_id=f"{PREFIX}{conversation_root(tid, parents, known)}",
            channel=Channel.TWITTER,
            direction=Direction.INBOUND if inbound else Direction.OUTBOUND,
            author=author,
            author_role=AuthorRole.CUSTOMER if inbound else AuthorRole.AGENT,
            visibility=Visibility.PUBLIC,
            created_at=created,
            text=row[index["text"]],
            in_reply_to=f"{PREFIX}{parent}" if parent is not None else None,
        ),
    )
