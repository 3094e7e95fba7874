"""Twitter API v2 (twarc pages and flattened tweets) and X archives, on the real files."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from iso_social.domain import Message
from iso_social.errors import IngestError
from iso_social.ingest import IngestOptions, ParsedRecord, Rejection, detect_log_format
from iso_social.ingest.twitter_v2 import TwitterV2
from iso_social.ingest.x_archive import XArchive

BRAND = IngestOptions(brands=("@AcmeHelp",))


def v2(*lines: object) -> list[object]:
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()
    return list(TwitterV2().parse(io.BytesIO(data), BRAND))


def test_page_with_users_replies_and_dms() -> None:
    page = {
        "data": [
            {
                "id": "2",
                "author_id": "10",
                "conversation_id": "1",
                "text": "@AcmeHelp help",
                "created_at": "2026-10-01T10:00:00.000Z",
                "referenced_tweets": [{"type": "replied_to", "id": "1"}],
            },
            {
                "id": "3",
                "author_id": "20",
                "conversation_id": "1",
                "text": "@ana on it",
                "created_at": "2026-10-01T10:05:00.000Z",
                "referenced_tweets": [{"type": "replied_to", "id": "2"}],
            },
            {
                "id": "4",
                "author_id": "10",
                "text": "RT @x: y",
                "conversation_id": "4",
                "created_at": "2026-10-01T10:06:00.000Z",
                "referenced_tweets": [{"type": "retweeted", "id": "9"}],
            },
        ],
        "includes": {
            "users": [{"id": "10", "username": "ana"}, {"id": "20", "username": "AcmeHelp"}]
        },
    }
    dm = {
        "id": "7",
        "dm_conversation_id": "10-20",
        "sender_id": "20",
        "author_id": "20",
        "text": "DM us your order",
        "created_at": "2026-10-01T10:07:00.000Z",
    }
    customer, agent, retweet, private = v2(page, dm)
    assert isinstance(customer, ParsedRecord) and isinstance(customer.record, Message)
    assert customer.record.conversation_id == "tw-1" and customer.record.author == "ana"
    assert customer.record.in_reply_to == "tw-1"
    assert agent.record.direction.value == "outbound"  # type: ignore[attr-defined]
    assert isinstance(retweet, Rejection) and "retweet" in retweet.reason
    assert private.record.visibility.value == "private"  # type: ignore[attr-defined]
    assert private.record.conversation_id == "tw-dm-10-20"  # type: ignore[attr-defined]


def test_brand_is_required() -> None:
    with pytest.raises(IngestError, match="brand's accounts"):
        list(TwitterV2().parse(io.BytesIO(b"{}\n"), IngestOptions()))


def test_twarc_samples_golden(shared_data: Path) -> None:
    folder = shared_data / "formats" / "twitter_api_v2"
    for path in sorted(folder.glob("*.jsonl")):
        assert detect_log_format(path).name == "twitter-v2", path
    options = IngestOptions(brands=("Twitter",))

    def tweets(name: str) -> dict[str, Message]:
        with (folder / name).open("rb") as stream:
            return {
                i.record.message_id: i.record
                for i in TwitterV2().parse(stream, options)
                if isinstance(i, ParsedRecord) and isinstance(i.record, Message)
            }

    flat, paged = tweets("flat.jsonl"), tweets("noflat.jsonl")
    assert len(flat) == 53 and flat == paged  # the same tweets, flattened or not
    assert tweets("users.jsonl") == {} and tweets("counts.jsonl") == {}
    assert len({m.conversation_id for m in flat.values()}) == 50


def test_x_archive_golden(shared_data: Path) -> None:
    path = shared_data / "formats" / "x_archive" / "tweets.js"
    assert detect_log_format(path).name == "x-archive"
    with path.open("rb") as stream:
        items = list(XArchive().parse(stream, IngestOptions(brands=("milahu104",))))
    messages = [i.record for i in items if isinstance(i, ParsedRecord)]
    assert len(items) == 2045 and len(messages) == 1806
    assert {m.direction.value for m in messages} == {"outbound"}
    by_id = {m.message_id: m for m in messages}
    chained = [m for m in messages if m.in_reply_to in by_id]  # type: ignore[union-attr]
    assert len(chained) == 41  # self-threads: the parent is in the archive too (counted by hand)
    assert all(
        m.conversation_id == by_id[m.in_reply_to].conversation_id  # type: ignore[index]
        for m in chained
    )
