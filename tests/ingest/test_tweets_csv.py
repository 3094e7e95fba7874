"""tweets-csv: exports without reply links, grouped per customer with the brand's replies."""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

import pytest

from iso_social.domain import Message
from iso_social.errors import IngestError
from iso_social.ingest import IngestOptions, ParsedRecord, Rejection, detect_log_format
from iso_social.ingest.tweets_csv import TweetsCsv

HEADER = "screen_name,created_at,status_id,text\n"


def parse(data: bytes, *brands: str, gap: timedelta = timedelta(hours=48)) -> list[object]:
    options = IngestOptions(brands=brands, gap=gap)
    return list(TweetsCsv().parse(io.BytesIO(data), options))


def conversations(items: list[object]) -> dict[str, list[str]]:
    result: dict[str, list[str]] = defaultdict(list)
    for item in items:
        if isinstance(item, ParsedRecord) and isinstance(item.record, Message):
            result[item.record.conversation_id].append(item.record.message_id)
    return result


def test_customer_tweets_and_brand_replies_split_by_the_gap() -> None:
    text = HEADER + (
        "ana,2026-10-01T10:00:00Z,1,@AcmeBank my card\n"
        "AcmeBank,2026-10-01T10:20:00Z,2,@ana sorry! DM us\n"
        "ana,2026-10-05T10:00:00Z,3,@acmebank again?\n"
        "AcmeBank,2026-10-05T09:00:00Z,4,New branch opening today\n"
        "bob,2026-10-01T10:00:00Z,5,unrelated\n"
    )
    items = parse(text.encode(), "@AcmeBank")
    groups = conversations(items)
    assert groups == {"tw-1": ["tw-1", "tw-2"], "tw-3": ["tw-3"], "tw-4": ["tw-4"]}
    (skipped,) = [i for i in items if isinstance(i, Rejection)]
    assert skipped.line == 6 and skipped.reason.startswith("skipped: neither from nor")
    reply = next(
        i.record for i in items if isinstance(i, ParsedRecord) and i.record.message_id == "tw-2"
    )  # type: ignore[union-attr]
    assert reply.direction.value == "outbound" and reply.author_role.value == "agent"  # type: ignore[union-attr]


def test_utf16_with_bom_and_the_brand_is_required() -> None:
    data = (HEADER + "ana,2026-10-01T10:00:00Z,1,@Acme ¿y mi reembolso?\n").encode("utf-16")
    (item,) = parse(data, "acme")
    assert isinstance(item, ParsedRecord) and item.record.text == "@Acme ¿y mi reembolso?"  # type: ignore[union-attr]
    with pytest.raises(IngestError, match="brand's accounts must be named"):
        parse(data)


def test_citibanamex_golden(shared_data: Path) -> None:
    path = shared_data / "spanish" / "citibanamex_2021-12-21_25.csv"
    assert detect_log_format(path).name == "tweets-csv"
    with path.open("rb") as stream:
        items = list(
            TweetsCsv().parse(stream, IngestOptions(brands=("Citibanamex", "ContactoCitibmx")))
        )
    assert len(items) == 1361
    messages = [i.record for i in items if isinstance(i, ParsedRecord)]
    assert len(messages) == 1007
    directions = Counter(m.direction.value for m in messages if isinstance(m, Message))
    assert directions["outbound"] + directions["inbound"] == 1007
    groups = conversations(items)
    assert len(groups) == 325
    # checked by hand: aggri_'s 14 tweets and 8 replies over two days, never 48 h apart
    assert len(groups["tw-1473694990681481216"]) == 22


def test_spanish_airline_without_author_column(shared_data: Path) -> None:
    path = shared_data / "spanish" / "airline_tweets_utf8_bom.csv"
    with path.open("rb") as stream:
        items = list(
            TweetsCsv().parse(
                stream, IngestOptions(brands=("Iberia", "vueling", "Ryanair", "AirEuropa"))
            )
        )
    messages = [i.record for i in items if isinstance(i, ParsedRecord)]
    assert len(items) == 7867 and len(messages) == 3959
    assert len({m.conversation_id for m in messages}) == 3959  # one per tweet
    assert {m.author for m in messages} == {"(unknown)"}


def test_us_airline_offsets(shared_data: Path) -> None:
    path = shared_data / "twitter_us_airline" / "us_airline_tweets.csv"
    brands = (
        "united",
        "AmericanAir",
        "SouthwestAir",
        "JetBlue",
        "USAirways",
        "VirginAmerica",
        "Delta",
    )
    with path.open("rb") as stream:
        items = list(TweetsCsv().parse(stream, IngestOptions(brands=brands)))
    messages = [i.record for i in items if isinstance(i, ParsedRecord)]
    assert len(messages) == 8783
    first = next(m for m in messages if m.message_id == "tw-569237160886276096")
    assert first.created_at.utcoffset() == timedelta(0)
    assert first.author == "venkatesh_cr"
