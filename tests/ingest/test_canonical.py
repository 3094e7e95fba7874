"""The fast paths for documented messages (`plain_message` of a decoded record,
`plain_message_json` of a JSON line) agree with the field-by-field validation (`_message`) on
every record they accept, and leave every other record to it; the message digest's shortcut
equals the generic digest."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import orjson
from hypothesis import given
from hypothesis import strategies as st

from iso_social.domain import Message, field_names
from iso_social.ingest.canonical import (
    MAX_ID_CHARS,
    RecordInvalid,
    _message,
    _short_hash,
    _utc_seconds,
    plain_message,
    plain_message_json,
    record_digest,
    record_from_mapping,
    record_json,
)


def _plain_message(data: dict[str, Any]) -> Message | None:
    plain = plain_message(data, 1)
    return None if plain is None else plain.parsed().record  # type: ignore[return-value]


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


@given(
    st.dictionaries(
        st.sampled_from([*sorted(DOCUMENTED), "automated", "unknown"]),
        st.one_of(ANY_VALUE, st.just("message"), st.just("status")),
    )
)
def test_a_json_line_takes_the_json_fast_path_only_to_the_same_message(
    changes: dict[str, Any],
) -> None:
    """Whatever msgspec accepts in one pass, the checks of the decoded record accept too, and
    make the same `PlainMessage` of (its time in UTC and that time's ISO form included)."""
    data = {**DOCUMENTED, **changes}
    line = json.dumps(data).encode()  # orjson refuses integers beyond 64 bits
    fast = plain_message_json(line, 7)
    if fast is not None:
        assert fast == plain_message(orjson.loads(line), 7)
        assert fast.created_at.tzinfo is UTC
        assert fast.created_iso == fast.created_at.isoformat()


def test_the_documented_record_takes_the_fast_paths() -> None:
    assert _plain_message(DOCUMENTED) == _message(DOCUMENTED, None)
    assert _plain_message(DOCUMENTED) is not None
    line = orjson.dumps(DOCUMENTED)
    assert plain_message_json(line, 3) == plain_message(DOCUMENTED, 3)
    assert plain_message_json(line, 3) is not None
    assert plain_message_json(orjson.dumps({**DOCUMENTED, "kind": None}), 3) is None
    too_long = "x" * (MAX_ID_CHARS + 1)
    for change in (
        {"channel": "Twitter"},
        {"text": 3},
        {"extra": 1},
        {"author": ""},
        {"message_id": too_long},
    ):
        assert plain_message_json(orjson.dumps({**DOCUMENTED, **change}), 3) is None
    assert plain_message_json(b"not json", 3) is None


def test_the_message_digest_shortcut_equals_the_generic_digest() -> None:
    for reply, automated in ((None, False), ("m0", True)):
        message = _message(DOCUMENTED, None)._replace(
            created_at=datetime(2026, 10, 1, 7, 15, 0, 123, tzinfo=UTC),
            text="text\x1fwith a separator",
            in_reply_to=reply,
            automated=automated,
        )
        generic = _short_hash(
            *(
                v.isoformat() if isinstance(v, datetime) else str(v)
                for v in (getattr(message, name) for name in message._fields)
            )
        )
        assert record_digest(message) == generic


OTHER_DOCUMENTED: dict[str, dict[str, Any]] = {
    "status": {
        "kind": "status",
        "conversation_id": "c1",
        "created_at": "2026-10-01T09:15:00+02:00",
        "status": "resolved",
    },
    "escalation": {
        "kind": "escalation",
        "conversation_id": "c1",
        "created_at": "2026-10-01T09:15:00Z",
        "to": "supervisor",
        "by": "agent-7",
    },
    "call": {
        "kind": "call",
        "call_id": "k1",
        "channel": "phone",
        "queue": "loans",
        "customer": "+34600111222",
        "offered_at": "2026-10-01T09:15:00Z",
        "answered_at": "2026-10-01T09:15:20.5+00:00",
        "ended_at": "2026-10-01T09:20:00Z",
        "outcome": "answered",
    },
}
# what those fields may hold besides any value: right and wrong names, times out of order
OTHER_VALUES = st.one_of(
    ANY_VALUE,
    st.sampled_from(
        [
            "status",
            "call",
            "escalation",
            "resolved",
            "RESOLVED",
            "pending_customer",
            "abandoned",
            "answered",
            "phone",
            "2026-10-01T09:14:00Z",
            "2026-10-01T09:30:00+01:00",
            "2026-10-01T10:30:00+01:00",
        ]
    ),
)


def _validated(data: dict[str, Any]) -> Any:
    try:
        return record_from_mapping(data)
    except RecordInvalid as exc:
        return str(exc)


@given(
    st.sampled_from(sorted(OTHER_DOCUMENTED)),
    st.dictionaries(
        st.sampled_from(sorted({k for d in OTHER_DOCUMENTED.values() for k in d} | {"extra"})),
        OTHER_VALUES,
    ),
)
def test_a_status_escalation_or_call_line_takes_the_fast_path_only_to_the_same_record(
    kind: str, changes: dict[str, Any]
) -> None:
    """Whatever `record_json` accepts, field-by-field validation accepts too and makes the same
    record of (its times in UTC); anything else is left to it."""
    data = {**OTHER_DOCUMENTED[kind], **changes}
    line = json.dumps(data).encode()
    fast = record_json(line)
    if fast is not None:
        assert fast == _validated(orjson.loads(line))
        assert all(
            getattr(fast, name).tzinfo is UTC
            for name in ("created_at", "offered_at", "ended_at")
            if hasattr(fast, name)
        )


def test_documented_statuses_escalations_and_calls_take_the_fast_path() -> None:
    for data in OTHER_DOCUMENTED.values():
        fast = record_json(orjson.dumps(data))
        assert fast is not None and fast == record_from_mapping(data)
    call = OTHER_DOCUMENTED["call"]
    for change in (
        {"outcome": "Answered"},  # the validation's spelling rules, not the fast path's
        {"answered_at": None},  # an answered call without its answer: an error to name
        {"ended_at": "2026-10-01T09:00:00Z"},  # ended before it was offered
        {"ended_at": "2026-10-01T09:00:00Z", "outcome": "abandoned", "answered_at": None},
        {"offered_at": "2026-10-01T09:15:00"},  # no offset: --assume-tz or an error
        {"queue": 7},
        {"extra": 1},
        {"kind": None},
    ):
        assert record_json(orjson.dumps({**call, **change})) is None
    assert record_json(orjson.dumps(DOCUMENTED)) is None  # messages have their own
    assert record_json(b'{"kind": "status", "conversation_id": "c\\u0000"}') is None
    bare = {k: v for k, v in call.items() if k not in ("channel", "queue", "customer")}
    assert record_json(orjson.dumps({**bare, "outcome": "abandoned", "answered_at": None})) == (
        record_from_mapping({**bare, "outcome": "abandoned", "answered_at": None})
    )


def _generic_digest(record: Any) -> str:
    """`record_digest` as first written: every field in order, times in ISO form."""
    return _short_hash(
        *(
            v.isoformat() if isinstance(v, datetime) else str(v)
            for v in (getattr(record, name) for name in field_names(record))
        )
    )


def test_the_call_and_status_digest_shortcuts_equal_the_generic_digest() -> None:
    call = record_from_mapping(OTHER_DOCUMENTED["call"])
    unanswered = record_from_mapping(
        {**OTHER_DOCUMENTED["call"], "outcome": "abandoned", "answered_at": None}
    )
    for record in (
        call,
        unanswered,
        record_from_mapping(OTHER_DOCUMENTED["status"]),
        record_from_mapping(OTHER_DOCUMENTED["escalation"]),
    ):
        assert record_digest(record) == _generic_digest(record)


def test_a_deeply_nested_line_is_left_to_validation() -> None:
    """Looking for `kind` among an object's fields walks its values: a line nested past the
    decoder's depth is not a documented record (the JSON parser then names it)."""
    depth = 100_000
    assert record_json(b'{"a": ' * depth + b"1" + b"}" * depth) is None


@given(
    st.one_of(
        st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ")),
        st.text(alphabet="0123456789-T:Z.W+ ", min_size=20, max_size=20),
    )
)
def test_a_utc_time_in_seconds_keeps_its_text_as_its_iso_form(created: str) -> None:
    """The message fast path reuses `2026-10-01T09:15:00Z` as `2026-10-01T09:15:00+00:00`
    instead of formatting the time again: only where formatting would give that."""
    try:
        moment = datetime.fromisoformat(created)
    except ValueError:
        return
    if _utc_seconds(created):
        assert created[:19] + "+00:00" == moment.astimezone(UTC).isoformat()
