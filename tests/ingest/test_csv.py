"""The canonical CSV format: same columns as JSON Lines; empty cells mean 'not given'."""

from __future__ import annotations

import io

from iso_social.domain import Message
from iso_social.ingest import IngestOptions, ParsedRecord, Rejection
from iso_social.ingest.csv import CanonicalCsv

HEADER = (
    "kind,message_id,conversation_id,channel,direction,author,author_role,visibility,"
    "created_at,text,in_reply_to,call_id,offered_at,answered_at,ended_at,outcome,queue,"
    "customer\n"
)


def parse(text: str) -> list[object]:
    return list(CanonicalCsv().parse(io.BytesIO(text.encode("utf-8-sig")), IngestOptions()))


def test_mixed_kinds_with_blank_columns() -> None:
    text = HEADER + (
        "message,m1,c1,email,inbound,ana@example.com,customer,private,2026-10-01T10:00:00Z,"
        '"Hola,\nsegunda línea",,,,,,,,\n'
        "call,,,phone,,,,,,,,k1,2026-10-01T10:00:00Z,,2026-10-01T10:01:00Z,abandoned,cards,x\n"
    )
    first, second = parse(text)
    assert isinstance(first, ParsedRecord) and isinstance(first.record, Message)
    assert first.record.text == "Hola,\nsegunda línea"
    assert isinstance(second, ParsedRecord) and second.line == 4


def test_formula_text_is_kept_as_data() -> None:
    text = HEADER + (
        "message,m1,c1,twitter,inbound,@a,customer,public,2026-10-01T10:00:00Z,"
        '"=HYPERLINK(""http://evil"")",,,,,,,,\n'
    )
    (item,) = parse(text)
    assert isinstance(item, ParsedRecord)
    assert item.record.text == '=HYPERLINK("http://evil")'  # type: ignore[union-attr]


def test_wrong_cell_count_and_unknown_column() -> None:
    (short,) = parse(HEADER + "message,m1\n")
    assert isinstance(short, Rejection) and short.line == 2 and "cells" in short.reason
    (bad_header,) = parse("kind,message_id,colour\nmessage,m1,red\n")
    assert isinstance(bad_header, Rejection) and "unknown column 'colour'" in bad_header.reason


def test_sniff() -> None:
    assert CanonicalCsv().sniff(HEADER.encode())
    assert not CanonicalCsv().sniff(b"tweet_id,author_id,inbound,created_at,text\n")
