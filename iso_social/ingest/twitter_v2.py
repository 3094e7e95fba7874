"""Twitter/X API v2 responses as written by twarc: one response page per line (`data`,
`includes`, `meta`), or one flattened tweet per line (`twarc2 flatten`), and DM events.

A tweet is a message of conversation `tw-<conversation_id>` (Twitter's id of the thread's first
tweet, the same convention as the twcs format); `referenced_tweets` of type `replied_to` give
`in_reply_to`. Authors are resolved to usernames through `includes.users` (or the flattened
`author`). `--brand` names the brand's accounts (handles or numeric ids): their tweets are
outbound agent messages, everyone else's inbound customer messages. Tweets are public; DM events
(`dm_conversation_id`) are private, in conversation `tw-dm-<id>`. Retweets are not contacts and
responses without tweets (user lookups, tweet counts) hold nothing to store: both are kept as
rejected records marked `skipped:`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO, ClassVar

from iso_social.domain import AuthorRole, Channel, Direction, Message, Visibility
from iso_social.errors import IngestError
from iso_social.ingest._json import loads
from iso_social.ingest.base import IngestOptions, Parsed, ParsedRecord, Rejection
from iso_social.ingest.twcs import PREFIX


def brand_set(options: IngestOptions, fmt: str) -> set[str]:
    """The brand's handles and ids, lower-case without `@`; required."""
    brands = {b.strip().lstrip("@").lower() for b in options.brands if b.strip()}
    if not brands:
        raise IngestError(
            f"--format {fmt}",
            "tweets carry no direction, so the brand's accounts must be named",
            hint="pass --brand HANDLE (repeatable), e.g. --brand AcmeSupport",
        )
    return brands


def iso_time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("created_at: missing")
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


class TwitterV2:
    """Twitter/X API v2 JSON (twarc)."""

    name: ClassVar[str] = "twitter-v2"
    description: ClassVar[str] = "Twitter/X API v2 JSON pages or flattened tweets (twarc); --brand"
    suffixes: ClassVar[tuple[str, ...]] = (".jsonl", ".json")

    def sniff(self, head: bytes) -> bool:
        """twarc metadata, or v2 tweet fields."""
        start = head.lstrip()
        if not start.startswith(b"{"):
            return False
        if start[:40].replace(b" ", b"").startswith((b'{"data":', b'{"includes":')):
            return True  # an API v2 response page
        return b'"__twarc"' in head or (
            b'"author_id"' in head
            and (b'"conversation_id"' in head or b'"dm_conversation_id"' in head)
            and b'"kind"' not in head
        )

    def parse(self, stream: BinaryIO, options: IngestOptions) -> Iterator[Parsed]:
        """Yield the tweets of every page or line."""
        brands = brand_set(options, self.name)
        for number, raw in enumerate(stream, start=1):
            if not raw.strip():
                continue
            try:
                document = loads(raw)
            except ValueError as exc:
                yield Rejection.of(number, f"not valid JSON ({exc})", raw)
                continue
            if not isinstance(document, dict):
                yield Rejection.of(number, "a line must be a JSON object", raw)
                continue
            yield from _page(number, document, brands, raw)


def _page(number: int, document: dict[str, Any], brands: set[str], raw: bytes) -> Iterator[Parsed]:
    if "data" in document or "includes" in document:
        data = document.get("data")
        tweets = data if isinstance(data, list) else [data] if isinstance(data, dict) else []
        users = {
            u.get("id"): u.get("username")
            for u in (document.get("includes") or {}).get("users") or []
            if isinstance(u, dict)
        }
        real = [t for t in tweets if isinstance(t, dict) and "text" in t]
        if not real:
            yield Rejection.of(
                number,
                "skipped: a response without tweets (a user lookup or tweet counts)",
                raw[:2000],
            )
            return
        for tweet in real:
            yield _tweet(number, tweet, users, brands)
    else:
        author = document.get("author")
        users = (
            {document.get("author_id"): author.get("username")} if isinstance(author, dict) else {}
        )
        yield _tweet(number, document, users, brands)


def _tweet(number: int, tweet: dict[str, Any], users: dict[Any, Any], brands: set[str]) -> Parsed:
    tid = str(tweet.get("id", ""))
    if not tid.isdigit():
        return Rejection.of(number, "id: not a tweet id", json.dumps(tweet)[:2000])
    references = {
        r.get("type"): str(r.get("id"))
        for r in tweet.get("referenced_tweets") or []
        if isinstance(r, dict)
    }
    if "retweeted" in references:
        return Rejection.of(number, f"skipped: tweet {tid} is a retweet, not a contact", "")
    try:
        moment = iso_time(tweet.get("created_at"))
    except ValueError as exc:
        return Rejection.of(number, f"tweet {tid}: {exc}", "")
    author_id = str(tweet.get("author_id") or tweet.get("sender_id") or "")
    handle = str(users.get(tweet.get("author_id")) or author_id)
    ours = handle.lower() in brands or author_id in brands
    dm = tweet.get("dm_conversation_id")
    conversation = (
        f"{PREFIX}dm-{dm}"
        if dm
        else f"{PREFIX}{tweet.get('conversation_id') or references.get('replied_to') or tid}"
    )
    parent = references.get("replied_to")
    return ParsedRecord(
        number,
        Message(
            message_id=f"{PREFIX}{'dm-' if dm else ''}{tid}",
            conversation_id=conversation,
            channel=Channel.TWITTER,
            direction=Direction.OUTBOUND if ours else Direction.INBOUND,
            author=handle or "(unknown)",
            author_role=AuthorRole.AGENT if ours else AuthorRole.CUSTOMER,
            visibility=Visibility.PRIVATE if dm else Visibility.PUBLIC,
            created_at=moment,
            text=str(tweet.get("text", "")),
            in_reply_to=f"{PREFIX}{parent}" if parent else None,
        ),
    )
