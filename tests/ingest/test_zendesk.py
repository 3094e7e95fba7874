"""Zendesk API exports: requester vs agent, public vs private comments, statuses, cassettes."""

from __future__ import annotations

import io
import json
from pathlib import Path

from iso_social.domain import Direction, Message, Status, StatusChange
from iso_social.ingest import IngestOptions, ParsedRecord, Rejection, detect_log_format
from iso_social.ingest.zendesk import Zendesk


def parse(document: object) -> list[object]:
    data = (json.dumps(document) + "\n").encode()
    return list(Zendesk().parse(io.BytesIO(data), IngestOptions()))


def test_comments_statuses_and_reopen() -> None:
    tickets = {
        "tickets": [
            {
                "id": 7,
                "requester_id": 1,
                "status": "open",
                "updated_at": "2026-10-02T10:00:00Z",
                "via": {"channel": "email"},
            }
        ]
    }
    audits = {
        "audits": [
            {
                "id": 1,
                "ticket_id": 7,
                "created_at": "2026-10-01T09:00:00Z",
                "author_id": 1,
                "events": [
                    {
                        "id": 11,
                        "type": "Comment",
                        "author_id": 1,
                        "public": True,
                        "plain_body": "My order never came",
                    },
                    {"id": 12, "type": "Create", "field_name": "status", "value": "new"},
                ],
            },
            {
                "id": 2,
                "ticket_id": 7,
                "created_at": "2026-10-01T10:00:00Z",
                "author_id": 2,
                "events": [
                    {
                        "id": 21,
                        "type": "Comment",
                        "author_id": 2,
                        "public": False,
                        "body": "checking the courier",
                    },
                    {
                        "id": 22,
                        "type": "Comment",
                        "author_id": 2,
                        "public": True,
                        "body": "We are on it",
                    },
                    {
                        "id": 23,
                        "type": "Change",
                        "field_name": "status",
                        "value": "pending",
                        "previous_value": "open",
                    },
                ],
            },
            {
                "id": 3,
                "ticket_id": 7,
                "created_at": "2026-10-03T10:00:00Z",
                "author_id": 1,
                "events": [
                    {
                        "id": 31,
                        "type": "Change",
                        "field_name": "status",
                        "value": "open",
                        "previous_value": "solved",
                    }
                ],
            },
        ]
    }
    items = parse(tickets) + parse(audits)
    records = [i.record for i in items if isinstance(i, ParsedRecord)]
    messages = [r for r in records if isinstance(r, Message)]
    assert [m.direction for m in messages] == [
        Direction.INBOUND,
        Direction.INTERNAL,
        Direction.OUTBOUND,
    ]
    assert {m.channel.value for m in messages} == {"other"}  # the channel is in the other file
    statuses = [r.status for r in records if isinstance(r, StatusChange)]
    assert statuses == [Status.OPEN, Status.OPEN, Status.PENDING_CUSTOMER, Status.REOPENED]
    combined = Zendesk().parse(
        io.BytesIO((json.dumps(tickets) + "\n" + json.dumps(audits) + "\n").encode()),
        IngestOptions(),
    )
    channels = {
        r.record.channel.value
        for r in combined
        if isinstance(r, ParsedRecord) and isinstance(r.record, Message)
    }
    assert channels == {"email"}


def test_deleted_tickets_are_skipped_with_the_reason() -> None:
    (item,) = parse(
        {"tickets": [{"id": 9, "status": "deleted", "requester_id": 1, "via": {"channel": "api"}}]}
    )
    assert isinstance(item, Rejection) and item.reason == "skipped: ticket 9 is deleted"


def test_zenpy_recordings_golden(shared_data: Path) -> None:
    folder = shared_data / "formats" / "zendesk_api"
    extracted = folder / "zendesk_api_responses__extracted.jsonl"
    for path in [extracted, *sorted((folder / "raw_cassettes").glob("*.json"))]:
        assert detect_log_format(path).name == "zendesk", path
    with extracted.open("rb") as stream:
        items = list(Zendesk().parse(stream, IngestOptions()))
    messages = {
        i.record.message_id: i.record
        for i in items
        if isinstance(i, ParsedRecord) and isinstance(i.record, Message)
    }
    assert len(messages) == 118
    assert sum(isinstance(i, Rejection) for i in items) == 1030  # deleted tickets
    ticket_1 = sorted(
        (m for m in messages.values() if m.conversation_id == "zd-1"), key=lambda m: m.created_at
    )
    assert [m.direction for m in ticket_1] == [
        Direction.INBOUND,
        Direction.OUTBOUND,
        Direction.INTERNAL,
    ]
    cassette = folder / "raw_cassettes" / "TestTicketAudits.test_values.json"
    with cassette.open("rb") as stream:
        recorded = {
            i.record.message_id
            for i in Zendesk().parse(stream, IngestOptions())
            if isinstance(i, ParsedRecord) and isinstance(i.record, Message)
        }
    assert len(recorded) == 88
