"""E-mail (mbox and eml): threads by the reply graph, direction by support address, auto-replies."""

from __future__ import annotations

import io
import mailbox
from datetime import UTC, datetime
from pathlib import Path

import pytest

from iso_social import pipeline
from iso_social.domain import AuthorRole, Direction, Message
from iso_social.errors import IngestError
from iso_social.ingest import IngestOptions, ParsedRecord, Rejection, detect_log_format
from iso_social.ingest._email import message_key
from iso_social.ingest.eml import Eml
from iso_social.ingest.mbox import Mbox

SUPPORT = IngestOptions(support=("help@acme.example", "@staff.acme.example"))


def mail(
    msgid: str,
    sender: str,
    date: str,
    *,
    reply_to: str = "",
    refs: str = "",
    extra: str = "",
    body: str = "Hello",
) -> str:
    headers = [
        f"From: {sender}",
        "To: help@acme.example",
        f"Date: {date}",
        f"Message-ID: <{msgid}>",
        "Subject: order",
    ]
    if reply_to:
        headers.append(f"In-Reply-To: <{reply_to}>")
    if refs:
        headers.append(f"References: {refs}")
    if extra:
        headers.append(extra)
    return "\n".join(headers) + "\n\n" + body + "\n"


def mbox(*mails: str) -> bytes:
    return "".join(f"From MAILER-DAEMON Mon Nov 23 07:49:57 2026\n{m}\n" for m in mails).encode()


def records(items: list[object]) -> list[Message]:
    return [i.record for i in items if isinstance(i, ParsedRecord)]  # type: ignore[misc]


def test_threads_directions_and_auto_replies() -> None:
    data = mbox(
        mail("a@x", "Ana <ana@example.com>", "Tue, 17 Nov 2009 21:28:37 +0600"),
        mail(
            "b@acme",
            "Acme <noreply@staff.acme.example>",
            "Tue, 17 Nov 2009 15:29:00 +0000",
            reply_to="a@x",
            extra="Auto-Submitted: auto-replied",
        ),
        mail(
            "c@acme",
            "Bo <bo@staff.acme.example>",
            "Wed, 18 Nov 2009 09:00:00 -0800",
            reply_to="a@x",
            refs="<a@x>",
            body=">From the start\nyes",
        ),
        mail("d@x", "Cy <cy@example.com>", "Wed, 18 Nov 2009 10:00:00 +0100 (CET)"),
    )
    first, auto, human, other = records(list(Mbox().parse(io.BytesIO(data), SUPPORT)))
    assert first.conversation_id == auto.conversation_id == human.conversation_id
    assert other.conversation_id != first.conversation_id
    assert first.direction is Direction.INBOUND and first.author_role is AuthorRole.CUSTOMER
    assert first.created_at == datetime(2009, 11, 17, 15, 28, 37, tzinfo=UTC)
    assert auto.automated and auto.author_role is AuthorRole.SYSTEM
    assert human.author_role is AuthorRole.AGENT and not human.automated
    assert human.in_reply_to == message_key("a@x")
    assert "@" not in first.message_id + first.conversation_id  # no address in ids


@pytest.mark.parametrize(
    "header",
    ["X-Autoreply: yes", "Precedence: bulk", "Precedence: auto_reply", "X-Autorespond: on"],
)
def test_automated_headers(header: str) -> None:
    data = mail("m@acme", "help@acme.example", "Tue, 17 Nov 2009 21:28:37 +0600", extra=header)
    (item,) = Eml().parse(io.BytesIO(data.encode()), SUPPORT)
    assert isinstance(item, ParsedRecord) and item.record.automated  # type: ignore[union-attr]


def test_a_mailing_list_header_is_not_an_auto_reply() -> None:
    data = mail(
        "m@x", "ana@example.com", "Tue, 17 Nov 2009 21:28:37 +0600", extra="Precedence: list"
    )
    (item,) = Eml().parse(io.BytesIO(data.encode()), SUPPORT)
    assert not item.record.automated  # type: ignore[union-attr]


def test_bad_messages_are_rejected_and_support_is_required() -> None:
    data = mbox(
        mail("a@x", "ana@example.com", "not a date"),
        "From: ana@example.com\nDate: Tue, 17 Nov 2009 21:28:37 +0600\n\nno id\n",
    )
    first, second = Mbox().parse(io.BytesIO(data), SUPPORT)
    assert isinstance(first, Rejection) and first.reason.startswith("Date:") and first.line == 1
    assert isinstance(second, Rejection) and second.reason.startswith("Message-ID:")
    with pytest.raises(IngestError, match="support team"):
        list(Mbox().parse(io.BytesIO(data), IngestOptions()))


def _independent_threads(path: Path) -> int:
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            x = parent[x]
        return x

    ids = set()
    box = mailbox.mbox(path, create=False)
    messages = list(box)
    box.close()
    for message in messages:
        own = str(message["Message-ID"]).strip().strip("<>")
        ids.add(own)
        for ref in (
            str(message["References"] or "") + " " + str(message["In-Reply-To"] or "")
        ).split():
            if ref.startswith("<"):
                parent[find(ref.strip("<>"))] = find(own)
    return len({find(i) for i in ids})


def test_notmuch_mbox_golden_and_eml_agree(shared_data: Path, tmp_path: Path) -> None:
    path = shared_data / "email" / "notmuch_list.mbox"
    assert detect_log_format(path).name == "mbox"
    assert detect_log_format(shared_data / "email" / "eml" / "default_01_2_.eml").name == "eml"
    with path.open("rb") as stream:
        items = list(Mbox().parse(stream, IngestOptions(support=("@cworth.org",))))
    messages = records(items)
    assert len(items) == len(messages) == 53
    assert len({m.message_id for m in messages}) == 52  # one message is in the mailbox twice
    assert len({m.conversation_id for m in messages}) == _independent_threads(path) == 24
    assert sum(m.direction is Direction.OUTBOUND for m in messages) == 12
    db = f"sqlite:///{tmp_path / 'mail.db'}"
    pipeline.ingest_logs([path], db=db, support=["@cworth.org"])
    again = pipeline.ingest_logs([shared_data / "email" / "eml"], db=db, support=["@cworth.org"])
    assert again.total("duplicates") == 53 and again.total("rejected_count") == 0
