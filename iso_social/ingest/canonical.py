"""Validation of canonical records (the documented JSON Lines / CSV format) into domain records.

Both `jsonl` and `csv` formats feed dictionaries through `record_from_mapping`. Validation errors
name the field and the fix but never echo the value: it may be customer text.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import msgspec

from iso_social.domain import (
    CHANNEL_OF,
    DIRECTION_OF,
    ROLE_OF,
    VISIBILITY_OF,
    AuthorRole,
    Call,
    CallOutcome,
    Channel,
    Direction,
    Escalation,
    Message,
    Record,
    Status,
    StatusChange,
    Visibility,
    field_names,
)
from iso_social.ingest.base import NUL_REASON, PlainMessage

MAX_TEXT_CHARS = 1_000_000
MAX_ID_CHARS = 512

MESSAGE_FIELDS = (
    "message_id",
    "conversation_id",
    "channel",
    "direction",
    "author",
    "author_role",
    "visibility",
    "created_at",
    "text",
    "in_reply_to",
    "automated",
)
STATUS_FIELDS = ("conversation_id", "created_at", "status")
ESCALATION_FIELDS = ("conversation_id", "created_at", "to", "by")
CALL_FIELDS = (
    "call_id",
    "channel",
    "queue",
    "customer",
    "offered_at",
    "answered_at",
    "ended_at",
    "outcome",
)
FIELDS_BY_KIND: dict[str, tuple[str, ...]] = {
    "message": MESSAGE_FIELDS,
    "status": STATUS_FIELDS,
    "escalation": ESCALATION_FIELDS,
    "call": CALL_FIELDS,
}
ALL_COLUMNS: tuple[str, ...] = (
    "kind",
    *dict.fromkeys(f for fields in FIELDS_BY_KIND.values() for f in fields),
)


class RecordInvalid(ValueError):
    """A canonical record failed validation; the message names the field and the fix."""


def _choices(enum: type[Any]) -> str:
    return ", ".join(f"'{m.value}'" for m in enum)


def _enum(data: Mapping[str, Any], name: str, enum: type[Any]) -> Any:
    value = data.get(name)
    if value is None or value == "":
        raise RecordInvalid(f"{name}: required field is missing")
    try:
        return enum(value.lower() if isinstance(value, str) else value)
    except ValueError:
        raise RecordInvalid(f"{name}: must be one of {_choices(enum)}") from None


def _text(
    data: Mapping[str, Any], name: str, *, required: bool = True, limit: int = MAX_ID_CHARS
) -> str:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise RecordInvalid(f"{name}: required field is missing")
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise RecordInvalid(f"{name}: must be a string")
    text = str(value)
    if len(text) > limit:
        raise RecordInvalid(f"{name}: longer than {limit} characters")
    if "\x00" in text:
        raise RecordInvalid(f"{name}: {NUL_REASON}")
    return text


def _timestamp(
    data: Mapping[str, Any], name: str, assume_tz: ZoneInfo | None, *, required: bool = True
) -> datetime | None:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise RecordInvalid(f"{name}: required field is missing")
        return None
    if not isinstance(value, str):
        raise RecordInvalid(
            f"{name}: must be an ISO 8601 string such as '2026-11-02T09:15:00+01:00'"
        )
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise RecordInvalid(
            f"{name}: not an ISO 8601 timestamp; write e.g. '2026-11-02T09:15:00+01:00'"
        ) from None
    if moment.tzinfo is None:
        if assume_tz is None:
            raise RecordInvalid(
                f"{name}: timestamp has no UTC offset; add one (e.g. +01:00 or Z)"
                " or pass --assume-tz ZONE"
            )
        moment = moment.replace(tzinfo=assume_tz)
    return moment.astimezone(UTC)


def _flag(data: Mapping[str, Any], name: str) -> bool:
    value = data.get(name)
    if value is None or value == "" or value is False:
        return False
    if value is True:
        return True
    if isinstance(value, str) and value.lower() in ("true", "1", "yes"):
        return True
    if isinstance(value, str) and value.lower() in ("false", "0", "no"):
        return False
    raise RecordInvalid(f"{name}: must be true or false")


def _message(data: Mapping[str, Any], tz: ZoneInfo | None) -> Message:
    created = _timestamp(data, "created_at", tz)
    assert created is not None  # noqa: S101 - required=True guarantees it
    return Message(
        message_id=_text(data, "message_id"),
        conversation_id=_text(data, "conversation_id"),
        channel=_enum(data, "channel", Channel),
        direction=_enum(data, "direction", Direction),
        author=_text(data, "author"),
        author_role=_enum(data, "author_role", AuthorRole),
        visibility=_enum(data, "visibility", Visibility),
        created_at=created,
        text=_text(data, "text", required=False, limit=MAX_TEXT_CHARS),
        in_reply_to=_text(data, "in_reply_to", required=False) or None,
        automated=_flag(data, "automated"),
    )


def _status(data: Mapping[str, Any], tz: ZoneInfo | None) -> StatusChange:
    created = _timestamp(data, "created_at", tz)
    assert created is not None  # noqa: S101
    return StatusChange(_text(data, "conversation_id"), created, _enum(data, "status", Status))


def _escalation(data: Mapping[str, Any], tz: ZoneInfo | None) -> Escalation:
    created = _timestamp(data, "created_at", tz)
    assert created is not None  # noqa: S101
    return Escalation(
        _text(data, "conversation_id"),
        created,
        _text(data, "to"),
        _text(data, "by", required=False),
    )


def _call(data: Mapping[str, Any], tz: ZoneInfo | None) -> Call:
    offered = _timestamp(data, "offered_at", tz)
    ended = _timestamp(data, "ended_at", tz)
    answered = _timestamp(data, "answered_at", tz, required=False)
    assert offered is not None and ended is not None  # noqa: S101
    outcome = _enum(data, "outcome", CallOutcome)
    if answered is not None and not offered <= answered <= ended:
        raise RecordInvalid("answered_at: must lie between offered_at and ended_at")
    if ended < offered:
        raise RecordInvalid("ended_at: must not be before offered_at")
    if outcome is CallOutcome.ANSWERED and answered is None:
        raise RecordInvalid("answered_at: required when outcome is 'answered'")
    channel = _enum(data, "channel", Channel) if data.get("channel") else Channel.PHONE
    return Call(
        _text(data, "call_id"),
        channel,
        _text(data, "queue", required=False),
        _text(data, "customer", required=False),
        offered,
        answered,
        ended,
        outcome,
    )


_MESSAGE_KEYS = frozenset(("kind", *MESSAGE_FIELDS))


def plain_message(data: Mapping[str, Any], line: int) -> PlainMessage | None:
    """A message written as documented (kind message or none, no other fields, every value of
    its JSON type, names in lower case, timestamps with an offset) as a `PlainMessage`: the
    common case, checked in a few comparisons. None for anything else, which `_message`
    validates field by field (and names the error); both give the same message for every
    record this accepts (tests/ingest/test_canonical.py)."""
    get = data.get
    kind = get("kind")
    if kind not in ("message", None, "") or not data.keys() <= _MESSAGE_KEYS:
        return None
    try:
        channel = CHANNEL_OF[data["channel"]]
        direction = DIRECTION_OF[data["direction"]]
        role = ROLE_OF[data["author_role"]]
        visibility = VISIBILITY_OF[data["visibility"]]
    except (KeyError, TypeError):  # missing, another spelling, or not a string at all
        return None
    key, conversation, author, created = (
        get("message_id"),
        get("conversation_id"),
        get("author"),
        get("created_at"),
    )
    text, reply, automated = get("text"), get("in_reply_to"), get("automated")
    if not (
        type(key) is str
        and type(conversation) is str
        and type(author) is str
        and type(created) is str
        and 0 < len(key) <= MAX_ID_CHARS
        and 0 < len(conversation) <= MAX_ID_CHARS
        and 0 < len(author) <= MAX_ID_CHARS
        and (text is None or (type(text) is str and len(text) <= MAX_TEXT_CHARS))
        and (reply is None or (type(reply) is str and len(reply) <= MAX_ID_CHARS))
        and (automated is None or automated is True or automated is False)
    ) or _has_nul(key, conversation, author, text, reply):
        return None
    return _plain(
        line,
        key,
        conversation,
        channel,
        direction,
        author,
        role,
        visibility,
        created,
        text,
        reply,
        automated,
    )


def _has_nul(*values: str | None) -> bool:
    return any(v is not None and "\x00" in v for v in values)


_Id = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_ID_CHARS)]


class _DocumentedMessage(msgspec.Struct, forbid_unknown_fields=True):
    """What `plain_message` accepts, as a type msgspec decodes and checks a JSON line into in
    one pass (in C): the same fields, types and bounds."""

    message_id: _Id
    conversation_id: _Id
    channel: Channel
    direction: Direction
    author: _Id
    author_role: AuthorRole
    visibility: Visibility
    created_at: str
    kind: Literal["message"] = "message"
    text: Annotated[str, msgspec.Meta(max_length=MAX_TEXT_CHARS)] | None = None
    in_reply_to: Annotated[str, msgspec.Meta(max_length=MAX_ID_CHARS)] | None = None
    automated: bool | None = None


_DOCUMENTED = msgspec.json.Decoder(_DocumentedMessage)


def plain_message_json(raw: bytes, line: int) -> PlainMessage | None:
    """`plain_message` of a JSON line, decoded and checked in one pass: about five times
    faster than decoding the line and checking the values in Python. None for anything else
    (another kind, a field to validate one by one, not JSON at all), which the caller decodes
    and validates as before; an accepted line gives what `plain_message` gives for it
    (tests/ingest/test_canonical.py)."""
    if b"\\u0000" in raw:  # JSON writes a NUL only so: left to validation, which names it
        return None
    try:
        m = _DOCUMENTED.decode(raw)
    except msgspec.MsgspecError:
        return None
    return _plain(
        line,
        m.message_id,
        m.conversation_id,
        m.channel,
        m.direction,
        m.author,
        m.author_role,
        m.visibility,
        m.created_at,
        m.text,
        m.in_reply_to,
        m.automated,
    )


def _utc(value: str) -> datetime | None:
    """An ISO 8601 timestamp with an offset, in UTC; None for anything else (left to
    `_timestamp`, which names the error or applies `--assume-tz`). The fast paths' reading
    of every time."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    # astimezone returns a time already in UTC as it is
    return None if moment.tzinfo is None else moment.astimezone(UTC)


def _utc_seconds(text: str) -> bool:
    """`YYYY-MM-DDTHH:MM:SSZ`, of a text `fromisoformat` accepted (so digits where they go):
    its ISO form in UTC is the text with `+00:00` for the `Z`."""
    return (
        len(text) == 20
        and text[19] == "Z"
        and text[4] == text[7] == "-"
        and text[10] == "T"
        and text[13] == text[16] == ":"
    )


def _plain(
    line: int,
    key: str,
    conversation: str,
    channel: Channel,
    direction: Direction,
    author: str,
    role: AuthorRole,
    visibility: Visibility,
    created: str,
    text: str | None,
    reply: str | None,
    automated: bool | None,
) -> PlainMessage | None:
    """The `PlainMessage` of checked values, once its timestamp has an offset."""
    moment = _utc(created)
    if moment is None:
        return None
    # as exports write most times: no second formatting
    iso = created[:19] + "+00:00" if _utc_seconds(created) else moment.isoformat()
    return _new_tuple(  # PlainMessage(...) without its Python-level __new__: every field given
        PlainMessage,
        (
            line,
            key,
            conversation,
            channel._value_,
            direction._value_,
            author,
            role._value_,
            visibility._value_,
            moment,
            iso,
            text or "",
            reply or None,
            automated is True,
        ),
    )


_new_tuple = tuple.__new__


_OptionalId = Annotated[str, msgspec.Meta(max_length=MAX_ID_CHARS)] | None


class _DocumentedStatus(msgspec.Struct, forbid_unknown_fields=True, tag_field="kind", tag="status"):
    """A status record as documented, decoded and checked in one pass (`record_json`)."""

    conversation_id: _Id
    created_at: str
    status: Status


class _DocumentedEscalation(
    msgspec.Struct, forbid_unknown_fields=True, tag_field="kind", tag="escalation"
):
    """An escalation record as documented (`record_json`)."""

    conversation_id: _Id
    created_at: str
    to: _Id
    by: _OptionalId = None


class _DocumentedCall(msgspec.Struct, forbid_unknown_fields=True, tag_field="kind", tag="call"):
    """A call record as documented (`record_json`)."""

    call_id: _Id
    offered_at: str
    ended_at: str
    outcome: CallOutcome
    channel: Channel | None = None
    queue: _OptionalId = None
    customer: _OptionalId = None
    answered_at: str | None = None


_DOCUMENTED_OTHER = msgspec.json.Decoder(
    _DocumentedStatus | _DocumentedEscalation | _DocumentedCall
)


def record_json(raw: bytes) -> StatusChange | Escalation | Call | None:
    """A status, escalation or call record of a JSON line written as documented (its kind
    named, no other fields, every value of its JSON type, names in lower case, timestamps
    with an offset, a call's times in order), decoded and checked in one pass: the third of
    the time `record_from_mapping` takes. None for anything else, which the caller decodes and
    validates field by field (and names the error); both give the same record for every
    line this accepts (tests/ingest/test_canonical.py)."""
    if b"\\u0000" in raw:  # JSON writes a NUL only so: left to validation, which names it
        return None
    try:
        m = _DOCUMENTED_OTHER.decode(raw)
    except (msgspec.MsgspecError, RecursionError):  # looking for `kind` past deep nesting
        return None
    if type(m) is _DocumentedCall:
        offered, ended = _utc(m.offered_at), _utc(m.ended_at)
        answered = None if m.answered_at is None else _utc(m.answered_at)
        if (
            offered is None
            or ended is None
            or ended < offered
            or (
                m.answered_at is not None and (answered is None or not offered <= answered <= ended)
            )
            or (m.outcome is CallOutcome.ANSWERED and answered is None)
        ):
            return None
        return Call(
            m.call_id,
            m.channel or Channel.PHONE,
            m.queue or "",
            m.customer or "",
            offered,
            answered,
            ended,
            m.outcome,
        )
    created = _utc(m.created_at)
    if created is None:
        return None
    if type(m) is _DocumentedStatus:
        return StatusChange(m.conversation_id, created, m.status)
    assert type(m) is _DocumentedEscalation  # noqa: S101
    return Escalation(m.conversation_id, created, m.to, m.by or "")


_BUILDERS: dict[str, Callable[[Mapping[str, Any], ZoneInfo | None], Record]] = {
    "message": _message,
    "status": _status,
    "escalation": _escalation,
    "call": _call,
}


def record_from_mapping(
    data: Mapping[str, Any], assume_tz: ZoneInfo | None = None, *, allow_blank_columns: bool = False
) -> Record:
    """Validate one canonical record; raise `RecordInvalid` naming the field and the fix."""
    kind = data.get("kind")
    if kind is None or kind == "":
        kind = "message"
    if not isinstance(kind, str) or kind not in _BUILDERS:
        raise RecordInvalid(f"kind: must be one of {', '.join(map(repr, _BUILDERS))}")
    if kind == "message":
        plain = plain_message(data, 0)
        if plain is not None:
            return plain.parsed().record
    allowed = FIELDS_BY_KIND[kind]
    unknown = [
        k
        for k, v in data.items()
        if k != "kind" and k not in allowed and not (allow_blank_columns and v in ("", None))
    ]
    if unknown:
        raise RecordInvalid(
            f"{unknown[0]}: unknown field for kind '{kind}' (allowed: {', '.join(allowed)})"
        )
    return _BUILDERS[kind](data, assume_tz)


def record_key(record: Record) -> tuple[str, str]:
    """The table a record goes to and its identity: a re-ingested record has the same key."""
    match record:
        case Message():
            return "message", record.message_id
        case Call():
            return "call", record.call_id
        case StatusChange():
            return "status", _short_hash(
                record.conversation_id, record.created_at.isoformat(), record.status.value
            )
        case Escalation():
            return "escalation", _short_hash(
                record.conversation_id, record.created_at.isoformat(), record.to
            )


def record_digest(record: Record) -> str:
    """A digest of the record's content, to tell a duplicate from a conflicting record."""
    if type(record) is Message:  # most records: the same digest without the generic walk
        return message_digest(record, record.created_at.isoformat())
    if type(record) is Call:  # the next most: the generic walk spelt out (enum members join as
        answered = record.answered_at  # their values; a call not answered as "None")
        return _short_hash(
            record.call_id,
            record.channel,
            record.queue,
            record.customer,
            record.offered_at.isoformat(),
            "None" if answered is None else answered.isoformat(),
            record.ended_at.isoformat(),
            record.outcome,
        )
    if type(record) is StatusChange:
        return _short_hash(record.conversation_id, record.created_at.isoformat(), record.status)
    values = [getattr(record, name) for name in field_names(record)]
    return _short_hash(*(v.isoformat() if isinstance(v, datetime) else str(v) for v in values))


def message_digest(r: Message | PlainMessage, created_at: str) -> str:
    """`record_digest` of a message whose `created_at.isoformat()` the caller has already
    (a `PlainMessage`'s enum values join as their members do): `_short_hash` spelt out, for
    the million messages of a large ingest."""
    parts = (
        r.message_id,
        r.conversation_id,
        r.channel,
        r.direction,
        r.author,
        r.author_role,
        r.visibility,
        created_at,
        r.text,
        str(r.in_reply_to),
        str(r.automated),
    )
    return _sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _short_hash(*parts: str) -> str:
    return _sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


_sha256 = hashlib.sha256
