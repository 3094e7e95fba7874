"""The canonical JSON Lines format: every record validated, every bad line reported."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from iso_social.domain import Call, CallOutcome, Escalation, Message, Status, StatusChange
from iso_social.ingest import IngestOptions, ParsedRecord, Rejection
from iso_social.ingest.jsonl import JsonLines
from tests.conftest import canonical_message


def parse(lines: list[str | dict[str, object]], **options: object) -> list[object]:
    text = "\n".join(json.dumps(x) if isinstance(x, dict) else x for x in lines) + "\n"
    return list(JsonLines().parse(io.BytesIO(text.encode()), IngestOptions(**options)))  # type: ignore[arg-type]


def test_every_kind_parses() -> None:
    items = parse(
        [
            canonical_message("m1", "2026-10-01T10:00:00+02:00"),
            {
                "kind": "status",
                "conversation_id": "c1",
                "created_at": "2026-10-01T12:00:00Z",
                "status": "pending_customer",
            },
            {
                "kind": "escalation",
                "conversation_id": "c1",
                "created_at": "2026-10-01T12:00:00Z",
                "to": "supervisor",
                "by": "agent-7",
            },
            {
                "kind": "call",
                "call_id": "k1",
                "channel": "phone",
                "queue": "cards",
                "customer": "x",
                "offered_at": "2026-10-01T12:00:00Z",
                "answered_at": "2026-10-01T12:00:15Z",
                "ended_at": "2026-10-01T12:05:00Z",
                "outcome": "answered",
            },
        ]
    )
    records = [item.record for item in items if isinstance(item, ParsedRecord)]
    message, status, escalation, call = records
    assert isinstance(message, Message)
    assert message.created_at == datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
    assert isinstance(status, StatusChange) and status.status is Status.PENDING_CUSTOMER
    assert isinstance(escalation, Escalation) and escalation.to == "supervisor"
    assert isinstance(call, Call) and call.outcome is CallOutcome.ANSWERED
    assert [item.line for item in items] == [1, 2, 3, 4]  # type: ignore[attr-defined]


def test_malformed_line_is_rejected_with_its_line_and_the_rest_parse() -> None:
    items = parse(
        [
            canonical_message("m1", "2026-10-01T10:00:00Z"),
            "{not json",
            canonical_message("m2", "2026-10-01T10:05:00Z"),
        ]
    )
    assert isinstance(items[1], Rejection)
    assert items[1].line == 2 and "not valid JSON" in items[1].reason
    assert items[1].raw == "{not json"
    assert [i.record.message_id for i in items if isinstance(i, ParsedRecord)] == ["m1", "m2"]  # type: ignore[union-attr]


def test_timestamp_without_offset_needs_assume_tz() -> None:
    record = canonical_message("m1", "2026-10-01T10:00:00")
    (rejected,) = parse([record])
    assert isinstance(rejected, Rejection)
    assert rejected.reason.startswith("created_at: timestamp has no UTC offset")
    assert "--assume-tz" in rejected.reason
    (accepted,) = parse([record], assume_tz=ZoneInfo("Europe/Madrid"))
    assert isinstance(accepted, ParsedRecord)
    assert accepted.record.created_at == datetime(2026, 10, 1, 8, 0, tzinfo=UTC)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"direction": "sideways"}, "direction: must be one of"),
        ({"channel": "pigeon"}, "channel: must be one of"),
        ({"message_id": None}, "message_id: required field is missing"),
        ({"created_at": "yesterday"}, "created_at: not an ISO 8601 timestamp"),
        ({"colour": "red"}, "colour: unknown field for kind 'message'"),
        ({"kind": "tweet"}, "kind: must be one of"),
        ({"automated": "maybe"}, "automated: must be true or false"),
        ({"text": ["a list"]}, "text: must be a string"),
    ],
)
def test_invalid_fields_are_named(change: dict[str, object], reason: str) -> None:
    (item,) = parse([{**canonical_message("m1", "2026-10-01T10:00:00Z"), **change}])
    assert isinstance(item, Rejection) and item.reason.startswith(reason)


def test_reasons_never_echo_customer_text() -> None:
    card = "4111 1111 1111 1111"
    (item,) = parse(
        [{**canonical_message("m1", "2026-10-01T10:00:00Z"), "direction": card, "text": card}]
    )
    assert isinstance(item, Rejection) and card not in item.reason


def test_call_consistency_is_checked() -> None:
    (item,) = parse(
        [
            {
                "kind": "call",
                "call_id": "k1",
                "offered_at": "2026-10-01T12:00:00Z",
                "ended_at": "2026-10-01T11:00:00Z",
                "outcome": "abandoned",
            }
        ]
    )
    assert isinstance(item, Rejection) and "ended_at" in item.reason


def test_bom_blank_lines_invalid_utf8_and_non_objects() -> None:
    good = json.dumps(canonical_message("m1", "2026-10-01T10:00:00Z")).encode()
    data = b"\xef\xbb\xbf" + good + b"\n\n   \n" + b'{"text": "\xff\xfe"}\n' + b"[1, 2]\n"
    items = list(JsonLines().parse(io.BytesIO(data), IngestOptions()))
    assert isinstance(items[0], ParsedRecord)
    assert isinstance(items[1], Rejection) and items[1].line == 4 and "UTF-8" in items[1].reason
    assert isinstance(items[2], Rejection) and "JSON object" in items[2].reason


def test_deeply_nested_json_is_rejected_not_a_crash() -> None:
    (item,) = parse(["[" * 100_000 + "]" * 100_000])
    assert isinstance(item, Rejection)


def test_sniff() -> None:
    fmt = JsonLines()
    assert fmt.sniff(json.dumps(canonical_message("m1", "2026-10-01T10:00:00Z")).encode())
    assert not fmt.sniff(b"kind,message_id\nmessage,m1\n")
    assert not fmt.sniff(b'{"id": 1, "created_at": "x"}\n')


@pytest.mark.parametrize("field", ["text", "message_id", "author", "in_reply_to"])
def test_a_nul_character_is_rejected_naming_its_field(field: str) -> None:
    """PostgreSQL's text cannot hold U+0000, so no backend stores one: the record is rejected
    (on the fast path as on the field-by-field one), with its raw line."""
    record = {**canonical_message("m1", "2026-10-01T10:00:00Z"), field: "a\x00b"}
    for items in (
        parse([record]),
        list(JsonLines().parse_plain(io.BytesIO(json.dumps(record).encode()), IngestOptions())),
    ):
        (item,) = items
        assert isinstance(item, Rejection)
        assert item.reason.startswith(f"{field}: contains a NUL character")
        assert "\\u0000" in item.raw


def test_a_rejected_lines_raw_text_keeps_no_nul() -> None:
    assert Rejection.of(3, "why", b"a\x00b").raw == "a\ufffdb"
