"""An X (Twitter) data archive's `tweets.js` (and `direct-messages.js`): the JavaScript
assignment `window.YTD.tweets.part0 = [...]` around a JSON array.

An archive holds its owner's tweets: the brand's account that exported it, so every tweet is an
outbound agent message (name the brand with `--brand`). A reply's conversation follows
`in_reply_to_status_id` as far as the archive goes, and the conversation id is the last id
reached (the customer's tweet, which an archive does not hold), as for twcs. Direct messages are
private; the brand's messages are those whose sender is a `--brand` id.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO, ClassVar

from iso_social.domain import AuthorRole, Channel, Direction, Message, Visibility
from iso_social.ingest._json import loads
from iso_social.ingest.base import IngestOptions, Parsed, ParsedRecord, Rejection
from iso_social.ingest.twcs import PREFIX, Roots, conversation_root, twitter_time
from iso_social.ingest.twitter_v2 import brand_set, iso_time

_ASSIGNMENT = re.compile(rb"^\s*window\.YTD\.(\w+)\.part\d+\s*=\s*")


class XArchive:
    """`tweets.js` / `direct-messages.js` from an X data archive."""

    name: ClassVar[str] = "x-archive"
    description: ClassVar[str] = "X data archive tweets.js / direct-messages.js; --brand"
    suffixes: ClassVar[tuple[str, ...]] = (".js",)

    def sniff(self, head: bytes) -> bool:
        """The archive's `window.YTD.<kind>.partN =` prefix."""
        return bool(_ASSIGNMENT.match(head))

    def parse(self, stream: BinaryIO, options: IngestOptions) -> Iterator[Parsed]:
        """Yield every tweet or direct message of the archive file."""
        brands = brand_set(options, self.name)
        data = stream.read()
        match = _ASSIGNMENT.match(data)
        if not match:
            yield Rejection.of(1, "not an X archive file (window.YTD....part0 = [...])", b"")
            return
        try:
            entries = loads(data[match.end() :].decode("utf-8").rstrip().rstrip(";"))
        except ValueError as exc:
            yield Rejection.of(1, f"the archive's JSON is damaged ({exc})", b"")
            return
        if not isinstance(entries, list):
            yield Rejection.of(1, "the archive's JSON is not a list", b"")
            return
        kind = match.group(1).decode()
        if kind.startswith("direct_messages"):
            yield from _direct_messages(entries, brands)
            return
        tweets = [e.get("tweet", e) for e in entries if isinstance(e, dict)]
        parents = {
            int(t["id_str"]): int(t["in_reply_to_status_id_str"])
            for t in tweets
            if str(t.get("id_str", "")).isdigit()
            and str(t.get("in_reply_to_status_id_str") or "").isdigit()
        }
        owner, known = next(iter(sorted(brands))), Roots()
        for index, tweet in enumerate(tweets, start=1):
            yield _tweet(index, tweet, parents, owner, known)


def _tweet(
    index: int, tweet: dict[str, Any], parents: dict[int, int], owner: str, known: Roots
) -> Parsed:
    tid = str(tweet.get("id_str", ""))
    if not tid.isdigit():
        return Rejection.of(index, "id_str: not a tweet id", "")
    text = str(tweet.get("full_text") or tweet.get("text") or "")
    if text.startswith("RT @"):
        return Rejection.of(index, f"skipped: tweet {tid} is a retweet, not a contact", "")
    try:
        moment = twitter_time(str(tweet.get("created_at", "")))
    except ValueError:
        return Rejection.of(index, f"tweet {tid}: created_at is not a Twitter timestamp", "")
    parent = parents.get(int(tid))
    return ParsedRecord(
        index,
        Message(
            message_id=f"{PREFIX}{tid}",
            conversation_id=f"{PREFIX}{conversation_root(int(tid), parents, known)}",
            channel=Channel.TWITTER,
            direction=Direction.OUTBOUND,
            author=owner,
            author_role=AuthorRole.AGENT,
            visibility=Visibility.PUBLIC,
            created_at=moment,
            text=text,
            in_reply_to=f"{PREFIX}{parent}" if parent else None,
        ),
    )


def _direct_messages(entries: list[Any], brands: set[str]) -> Iterator[Parsed]:
    index = 0
    for entry in entries:
        conversation = (entry or {}).get("dmConversation") or {}
        cid = str(conversation.get("conversationId", ""))
        for item in conversation.get("messages") or []:
            index += 1
            created = (item or {}).get("messageCreate")
            if not isinstance(created, dict):
                continue
            try:
                moment = iso_time(created.get("createdAt"))
            except ValueError:
                yield Rejection.of(index, "createdAt: missing or not ISO 8601", "")
                continue
            sender = str(created.get("senderId", ""))
            ours = sender in brands
            yield ParsedRecord(
                index,
                Message(
                    message_id=f"{PREFIX}dm-{created.get('id')}",
                    conversation_id=f"{PREFIX}dm-{cid}",
                    channel=Channel.TWITTER,
                    direction=Direction.OUTBOUND if ours else Direction.INBOUND,
                    author=sender,
                    author_role=AuthorRole.AGENT if ours else AuthorRole.CUSTOMER,
                    visibility=Visibility.PRIVATE,
                    created_at=moment,
                    text=str(created.get("text", "")),
                ),
            )
