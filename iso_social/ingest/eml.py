"""One e-mail per file (`.eml`, RFC 5322), such as a maildir or an exported folder.

Each file is one message; give a folder to ingest them all. Its conversation is named after
the thread root in its References header, so the messages of one thread meet in the same
conversation when their References are complete (mail clients keep them). See `_email.py`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO, ClassVar

from iso_social.ingest._email import Support, Threads, read_mail, to_message
from iso_social.ingest.base import IngestOptions, Parsed, ParsedRecord, Rejection

_HEADER = re.compile(rb"^[A-Za-z][A-Za-z0-9-]*:", re.MULTILINE)
_REQUIRED = (b"from:", b"date:")


class Eml:
    """A single RFC 5322 e-mail."""

    name: ClassVar[str] = "eml"
    description: ClassVar[str] = "one e-mail per file (.eml); --support"
    suffixes: ClassVar[tuple[str, ...]] = (".eml", ".msg")

    def sniff(self, head: bytes) -> bool:
        """Starts with header lines, including From: and Date:."""
        headers = head.split(b"\n\n", 1)[0].split(b"\r\n\r\n", 1)[0]
        lowered = headers.lower()
        return bool(_HEADER.match(headers)) and all(
            re.search(rb"^" + name, lowered, re.MULTILINE) for name in _REQUIRED
        )

    def parse(self, stream: BinaryIO, options: IngestOptions) -> Iterator[Parsed]:
        """Yield the file's one message."""
        support = Support.from_options(options, self.name)
        data = stream.read()
        try:
            mail = read_mail(data)
        except ValueError as exc:
            yield Rejection.of(1, str(exc), data[:2000])
            return
        threads = Threads()
        threads.link(mail.message_id, mail.references, mail.in_reply_to)
        yield ParsedRecord(1, to_message(mail, threads, support))
