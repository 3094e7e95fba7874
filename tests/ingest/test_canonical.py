"""The fast path for documented messages (`_plain_message`) agrees with the field-by-field
validation (`_message`) on every record it accepts, and leaves every other record to it; the
message digest's shortcut equals the generic digest."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from iso_social.domain import Message
from iso_social.ingest.canonical import (
    MAX_ID_CHARS,
    RecordInvalid,
    _message,
    _plain_message,
    _short_hash,
    record_digest,
    record_from_mapping,
)

DOCUMENTED = {
    "kind": "message",
    "message_id": "m1",
    "conversation_id": "c1",
    "channel": "twitter",
    "direction": "inbound",
    "author": "@someone",
    "author_role": "customer",
    "visibility": "public",
    "created_at": "2026-10-01T09:15:00+02:00",
    "text": "hello",
    "in_reply_to": None,
}

# values a JSON record may hold in any field: right, wrong case, wrong type, empty, too long
ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from(
        [
            "",
            "twitter",
            "Twitter",
            "email",
            "inbound",
            "OUTBOUND",
            "agent",
            "customer",
            "public",
            "private",
            "true",
            "2026-10-01T09:15:00Z",
            "2026-10-01T09:15:00",
            "2026-13-01T09:15:00Z",
            "2026-10-01 09:15:00.123456-05:00",
            "x" * (MAX_ID_CHARS + 1),
        ]
    ),
    st.text(max_size=20),
    st.lists(st.integers(), max_size=2),
)


def _slow(data: dict[str, Any]) -> Message | str:
    try:
        return _message(data, None)
    except RecordInvalid as exc:
        return str(exc)


@given(st.dictionaries(st.sampled_from(sorted(DOCUMENTED)), ANY_VALUE))
def test_the_fast_path_accepts_only_what_validation_accepts_and_builds_the_same(
    changes: dict[str, Any],
) -> None:
    data = {**DOCUMENTED, **changes}
    fast = _plain_message(data)
    if fast is not None:
        assert fast == _slow(data)
        assert fast.created_at.tzinfo is UTC


@given(st.dictionaries(st.sampled_from(sorted(DOCUMENTED)), ANY_VALUE))
def test_records_give_the_same_result_or_error_through_record_from_mapping(
    changes: dict[str, Any],
) -> None:
    data = {**DOCUMENTED, **changes}
    slow = _slow(data) if data.get("kind") == "message" else None
    try:
        result: Message | str | None = record_from_mapping(data)
    except RecordInvalid as exc:
        result = str(exc)
    if slow is not None:
        assert result == slow


def test_the_documented_record_takes_the_fast_path() -> None:
    assert _plain_message(DOCUMENTED) == _message(DOCUMENTED, None)
    assert _plain_message(DOCUMENTED) is not None


def test_the_message_digest_shortcut_equals_the_generic_digest() -> None:
    for reply, automated in ((None, False), ("m0", True)):
        message = dataclasses.replace(
            _message(DOCUMENTED, None),
            created_at=datetime(2026, 10, 1, 7, 15, 0, 123, tzinfo=UTC),
            text="text\x1fwith a separator",
            in_reply_to=reply,
            automated=automated,
        )
        generic = _short_hash(
            *(
                v.isoformat() if isinstance(v, datetime) else str(v)
                for v in (getattr(message, name) for name in message.__slots__)
            )
        )
        assert record_digest(message) == generic
