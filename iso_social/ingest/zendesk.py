"""Zendesk Support API exports: ticket pages and ticket audits with their events.

Reads JSON Lines or one JSON document, each line or document an API response body (`tickets`
from the incremental export or a ticket list, `audits` from the ticket audits API, or a single
`ticket` or `audit`), optionally wrapped as a recorded response (`{"body": {...}}`) or in a
betamax/VCR cassette of API calls (`http_interactions`, gzip and base64 bodies included).

- A Comment event is a message of conversation `zd-<ticket id>`. The ticket's requester writes
  inbound customer messages; anyone else writes outbound agent messages, or an internal note
  when the comment is private (`public: false`).
- The channel comes from `via.channel` (email, web, chat, twitter, facebook, voice...).
- Status events (Create or Change of `status`) and each ticket's current status become status
  records: pending is `pending_customer`, solved is `resolved`, a change from solved or closed
  back to open is `reopened`. A deleted ticket's status is skipped with that reason.

The requester is taken from the ticket pages or from the audit's `requester_id` event, and
failing both, is whoever wrote the ticket's first comment; the file is read twice, so tickets
and audits may come in any order.
"""

from __future__ import annotations

import base64
import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, BinaryIO, ClassVar

from iso_social.domain import (
    AuthorRole,
    Channel,
    Direction,
    Message,
    Status,
    StatusChange,
    Visibility,
)
from iso_social.ingest._json import loads
from iso_social.ingest.base import IngestOptions, Parsed, ParsedRecord, Rejection

_CHANNELS = {
    "email": Channel.EMAIL,
    "mail": Channel.EMAIL,
    "web": Channel.WEB,
    "web_form": Channel.WEB,
    "web_widget": Channel.WEB,
    "chat": Channel.CHAT,
    "native_messaging": Channel.CHAT,
    "voice": Channel.PHONE,
    "phone": Channel.PHONE,
    "sms": Channel.SMS,
    "twitter": Channel.TWITTER,
    "twitter_dm": Channel.TWITTER,
    "facebook": Channel.FACEBOOK,
    "facebook_post": Channel.FACEBOOK,
    "instagram_dm": Channel.INSTAGRAM,
    "whatsapp": Channel.WHATSAPP,
    "forum": Channel.FORUM,
    "community": Channel.FORUM,
}
_PUBLIC_CHANNELS = {"twitter", "facebook_post", "forum", "community"}
_STATUS = {
    "new": Status.OPEN,
    "open": Status.OPEN,
    "hold": Status.OPEN,
    "pending": Status.PENDING_CUSTOMER,
    "solved": Status.RESOLVED,
    "closed": Status.CLOSED,
}


@dataclass
class _Ticket:
    requester: str | None = None
    via: str = ""
    first_comment: tuple[str, str] | None = None  # (created_at, author): the fallback requester

    @property
    def customer(self) -> str | None:
        """The requester, or else whoever wrote the ticket's first comment."""
        return self.requester or (self.first_comment[1] if self.first_comment else None)


def _recorded_body(interaction: Any) -> Any:
    """The JSON body of a recorded HTTP interaction (betamax / VCR cassettes)."""
    body = ((interaction or {}).get("response") or {}).get("body") or {}
    if body.get("string"):
        return loads(body["string"])
    if body.get("base64_string"):
        raw = base64.b64decode(body["base64_string"])
        if raw[:2] == b"\x1f\x8b":
            raw = gzip.decompress(raw)
        return loads(raw)
    return None


def _bodies(document: Any) -> Iterator[dict[str, Any]]:
    """The response bodies in a document: a body, a list of them, or a recorded cassette
    (iterative, so a deeply nested list cannot exhaust the stack)."""
    pending = [document]
    while pending:
        item = pending.pop()
        if isinstance(item, list):
            pending.extend(reversed(item))
        elif isinstance(item, dict) and isinstance(item.get("http_interactions"), list):
            for interaction in reversed(item["http_interactions"]):
                try:
                    pending.append(_recorded_body(interaction))
                except (ValueError, OSError, EOFError, AttributeError):
                    continue  # a non-JSON response of the recording (an error page)
        elif isinstance(item, dict):
            wrapped = item.get("body")
            yield wrapped if isinstance(wrapped, dict) else item


def _time(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("created_at: missing")
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def _units(stream: BinaryIO) -> Iterator[tuple[int, Any | Exception]]:
    """Each JSON line, with its line number, streamed; a document that spans lines (a
    pretty-printed response, a list, a cassette) is read whole."""
    first = stream.readline()
    stream.seek(0)
    try:
        loads(first)
        streaming = True
    except ValueError:
        streaming = False
    if not streaming:
        try:
            yield 1, loads(stream.read().decode("utf-8-sig"))
        except ValueError as exc:
            yield 1, exc
        return
    for number, raw in enumerate(stream, start=1):
        if raw.strip():
            try:
                yield number, loads(raw.removeprefix(b"\xef\xbb\xbf"))
            except ValueError as exc:
                yield number, exc


class Zendesk:
    """Zendesk Support API ticket and audit exports."""

    name: ClassVar[str] = "zendesk"
    description: ClassVar[str] = "Zendesk Support API exports (tickets, ticket audits)"
    suffixes: ClassVar[tuple[str, ...]] = (".json", ".jsonl")

    def sniff(self, head: bytes) -> bool:
        """JSON with Zendesk ticket or audit structure."""
        start = head.lstrip()[:1]
        if start == b"{" and b'"http_interactions"' in head:
            return b"zendesk.com/api/v2/" in head
        return start in (b"{", b"[") and (
            (b'"audits"' in head and b'"ticket_id"' in head)
            or (b'"tickets"' in head and b'"requester_id"' in head)
            or (b'"ticket"' in head and b'"requester_id"' in head and b'"via"' in head)
        )

    def parse(self, stream: BinaryIO, options: IngestOptions) -> Iterator[Parsed]:
        """Learn requesters and channels, then yield comments and status changes."""
        tickets: dict[int, _Ticket] = {}
        for _, unit in _units(stream):
            if not isinstance(unit, Exception):
                for body in _bodies(unit):
                    _learn(body, tickets)
        stream.seek(0)
        for line, unit in _units(stream):
            if isinstance(unit, Exception):
                yield Rejection.of(line, f"not valid JSON ({unit})", b"")
                continue
            for body in _bodies(unit):
                yield from _records(line, body, tickets)


def _ticket_list(body: dict[str, Any]) -> list[dict[str, Any]]:
    if isinstance(body.get("tickets"), list):
        return [t for t in body["tickets"] if isinstance(t, dict)]
    return [body["ticket"]] if isinstance(body.get("ticket"), dict) else []


def _audit_list(body: dict[str, Any]) -> list[dict[str, Any]]:
    if isinstance(body.get("audits"), list):
        return [a for a in body["audits"] if isinstance(a, dict)]
    return [body["audit"]] if isinstance(body.get("audit"), dict) else []


def _learn(body: dict[str, Any], tickets: dict[int, _Ticket]) -> None:
    for ticket in _ticket_list(body):
        if isinstance(ticket.get("id"), int):
            known = tickets.setdefault(ticket["id"], _Ticket())
            if ticket.get("requester_id") is not None:
                known.requester = str(ticket["requester_id"])
            known.via = str((ticket.get("via") or {}).get("channel") or known.via)
    for audit in _audit_list(body):
        if not isinstance(audit.get("ticket_id"), int):
            continue
        known = tickets.setdefault(audit["ticket_id"], _Ticket())
        if not known.via:
            known.via = str((audit.get("via") or {}).get("channel") or "")
        for event in audit.get("events") or []:
            if event.get("field_name") == "requester_id" and event.get("value"):
                known.requester = known.requester or str(event["value"])
            if event.get("type") == "Comment":
                author = str(event.get("author_id") or audit.get("author_id") or "")
                candidate = (str(audit.get("created_at") or ""), author)
                if author and (known.first_comment is None or candidate < known.first_comment):
                    known.first_comment = candidate


def _records(line: int, body: dict[str, Any], tickets: dict[int, _Ticket]) -> Iterator[Parsed]:
    for ticket in _ticket_list(body):
        status = str(ticket.get("status", ""))
        if status == "deleted":
            yield Rejection.of(line, f"skipped: ticket {ticket.get('id')} is deleted", b"")
            continue
        if status in _STATUS and isinstance(ticket.get("id"), int):
            try:
                moment = _time(ticket.get("updated_at") or ticket.get("created_at"))
            except ValueError as exc:
                yield Rejection.of(line, f"ticket {ticket.get('id')}: {exc}", b"")
                continue
            yield ParsedRecord(line, StatusChange(f"zd-{ticket['id']}", moment, _STATUS[status]))
    for audit in _audit_list(body):
        yield from _audit_records(line, audit, tickets)


def _audit_records(
    line: int, audit: dict[str, Any], tickets: dict[int, _Ticket]
) -> Iterator[Parsed]:
    ticket_id = audit.get("ticket_id")
    if not isinstance(ticket_id, int):
        yield Rejection.of(line, "audit without a ticket_id", b"")
        return
    try:
        moment = _time(audit.get("created_at"))
    except ValueError as exc:
        yield Rejection.of(line, f"audit {audit.get('id')}: {exc}", b"")
        return
    ticket = tickets.get(ticket_id, _Ticket())
    via = str((audit.get("via") or {}).get("channel") or ticket.via)
    conversation = f"zd-{ticket_id}"
    for event in audit.get("events") or []:
        kind = event.get("type")
        if kind == "Comment":
            author = str(event.get("author_id") or audit.get("author_id") or "")
            customer = ticket.customer is not None and author == ticket.customer
            public = bool(event.get("public", True))
            direction = (
                Direction.INBOUND
                if customer
                else Direction.OUTBOUND
                if public
                else Direction.INTERNAL
            )
            yield ParsedRecord(
                line,
                Message(
                    message_id=f"zd-c{event.get('id')}",
                    conversation_id=conversation,
                    channel=_CHANNELS.get(via, Channel.OTHER),
                    direction=direction,
                    author=f"zd-user-{author}",
                    author_role=AuthorRole.CUSTOMER if customer else AuthorRole.AGENT,
                    visibility=Visibility.PUBLIC
                    if public and via in _PUBLIC_CHANNELS
                    else Visibility.PRIVATE,
                    created_at=moment,
                    text=str(event.get("plain_body") or event.get("body") or ""),
                ),
            )
        elif event.get("field_name") == "status" and kind in ("Create", "Change"):
            value = str(event.get("value"))
            status = _STATUS.get(value)
            if status is None:
                continue
            if status is Status.OPEN and event.get("previous_value") in ("solved", "closed"):
                status = Status.REOPENED
            yield ParsedRecord(line, StatusChange(conversation, moment, status))
