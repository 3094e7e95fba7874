"""Mailboxes in mbox format (mboxo / mboxrd): one file, many e-mails, threaded together.

Messages start at a `From ` line at the start of the file or after a blank line; `>From `
escapes are undone. The file is read twice: first only the headers that thread messages, then
each message in full, so memory holds the reply graph, not the mailbox. See `_email.py` for
threading, direction (`--support`) and automated-message detection.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import BinaryIO, ClassVar

from iso_social.ingest._email import Support, Threads, read_mail, to_message
from iso_social.ingest.base import IngestOptions, Parsed, ParsedRecord, Rejection

_ESCAPED_FROM = re.compile(rb"^>+From ")
_ID = re.compile(r"<([^<>\s]+)>")


def split_mbox(stream: BinaryIO) -> Iterator[tuple[int, bytes]]:
    """Yield `(line of the From separator, message bytes)` for each message."""
    current: list[bytes] = []
    start, previous_blank = 0, True
    for number, line in enumerate(stream, start=1):
        if line.startswith(b"From ") and previous_blank:
            if current:
                yield start, _without_separator_blank(current)
            current, start = [], number
        elif start:
            current.append(line[1:] if _ESCAPED_FROM.match(line) else line)
        previous_blank = not line.strip()
    if current:
        yield start, _without_separator_blank(current)


def _without_separator_blank(lines: list[bytes]) -> bytes:
    """The blank line before the next `From ` belongs to the mbox format, not the message."""
    if lines and not lines[-1].strip():
        lines = lines[:-1]
    return b"".join(lines)


def _header_ids(value: object) -> list[str]:
    return _ID.findall(str(value or ""))


class Mbox:
    """An mbox mailbox."""

    name: ClassVar[str] = "mbox"
    description: ClassVar[str] = "e-mail mailbox (mbox), threaded by Message-ID; --support"
    suffixes: ClassVar[tuple[str, ...]] = (".mbox", ".mbx")

    def sniff(self, head: bytes) -> bool:
        """A `From ` separator line followed by e-mail headers."""
        first, _, rest = head.partition(b"\n")
        return first.startswith(b"From ") and bool(
            re.search(rb"^(From|Date|Message-ID|Subject|Received):", rest, re.MULTILINE | re.I)
        )

    def parse(self, stream: BinaryIO, options: IngestOptions) -> Iterator[Parsed]:
        """Thread every message, then yield them in file order."""
        support = Support.from_options(options, self.name)
        threads = Threads()
        parser = BytesHeaderParser(policy=compat32)
        for _, data in split_mbox(stream):
            headers = parser.parsebytes(data)
            ids = _header_ids(headers.get("Message-ID"))
            if ids:
                replies = _header_ids(headers.get("In-Reply-To"))
                threads.link(
                    ids[0],
                    tuple(_header_ids(headers.get("References"))),
                    replies[0] if replies else None,
                )
        stream.seek(0)
        for line, data in split_mbox(stream):
            try:
                mail = read_mail(data)
            except ValueError as exc:
                yield Rejection.of(line, str(exc), data[:2000])
                continue
            yield ParsedRecord(line, to_message(mail, threads, support))
