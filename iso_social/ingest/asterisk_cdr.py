"""Asterisk call-detail records (`Master.csv` from cdr_csv or cdr_custom), no header row.

Two column orders are read: the stock cdr_csv order (accountcode, src, dst, dcontext, clid,
channel, dstchannel, lastapp, lastdata, start, answer, end, duration, billsec, disposition,
amaflags, uniqueid, userfield) and the common cdr_custom order that starts with clid (clid, src,
dst, dcontext, channel, dstchannel, lastapp, lastdata, start, answer, end, duration, billsec,
disposition, amaflags, ..., uniqueid, ...). Each row says which by where its timestamps are.
Times are local (`--assume-tz`). ANSWERED is an answered call; NO ANSWER, BUSY, FAILED and
CONGESTION are calls offered and not answered. The dialplan context becomes the queue and the
caller (`src`) the customer.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import BinaryIO, ClassVar

from iso_social.domain import Call, CallOutcome, Channel
from iso_social.ingest._calls import require_zone
from iso_social.ingest._text import csv_rows, decode_head
from iso_social.ingest.base import IngestOptions, Parsed, ParsedRecord, Rejection

_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
_DISPOSITIONS = {
    "ANSWERED": CallOutcome.ANSWERED,
    "NO ANSWER": CallOutcome.ABANDONED,
    "BUSY": CallOutcome.ABANDONED,
    "FAILED": CallOutcome.ABANDONED,
    "CONGESTION": CallOutcome.ABANDONED,
}
# (start, answer, end, disposition, uniqueid, src, dcontext) positions per layout
_LAYOUTS = {"cdr_csv": (9, 10, 11, 14, 16, 1, 3), "cdr_custom": (8, 9, 10, 13, 16, 1, 3)}


def _layout(row: list[str]) -> tuple[int, ...] | None:
    for positions in _LAYOUTS.values():
        start, _, end, disposition = positions[:4]
        if (
            len(row) > max(positions)
            and _STAMP.match(row[start])
            and _STAMP.match(row[end])
            and row[disposition] in _DISPOSITIONS
        ):
            return positions
    return None


class AsteriskCdr:
    """Asterisk `Master.csv`."""

    name: ClassVar[str] = "asterisk-cdr"
    description: ClassVar[str] = "Asterisk call-detail records (Master.csv)"
    suffixes: ClassVar[tuple[str, ...]] = (".csv",)

    def sniff(self, head: bytes) -> bool:
        """The first row is a header-less CDR with timestamps and a disposition in place."""
        first = decode_head(head).split("\n", 1)[0]
        row = next(csv.reader([first]), [])
        return _layout(row) is not None

    def parse(self, stream: BinaryIO, options: IngestOptions) -> Iterator[Parsed]:
        """Yield one call (or rejection) per row."""
        zone = require_zone(options, self.name)
        for item in csv_rows(stream):
            if isinstance(item, Rejection):
                yield item
                continue
            line, row = item
            if not any(cell.strip() for cell in row):
                continue
            raw = ",".join(row)
            positions = _layout(row)
            if positions is None:
                yield Rejection.of(
                    line,
                    "not an Asterisk CDR row: start, end and disposition "
                    "(ANSWERED, NO ANSWER, BUSY, FAILED, CONGESTION) expected",
                    raw,
                )
                continue
            start, answer, end, disposition, unique, src, context = positions
            offered = datetime.fromisoformat(row[start]).replace(tzinfo=zone).astimezone(UTC)
            ended = datetime.fromisoformat(row[end]).replace(tzinfo=zone).astimezone(UTC)
            answered = (
                datetime.fromisoformat(row[answer]).replace(tzinfo=zone).astimezone(UTC)
                if _STAMP.match(row[answer])
                else None
            )
            outcome = _DISPOSITIONS[row[disposition]]
            if outcome is CallOutcome.ANSWERED and answered is None:
                yield Rejection.of(line, "answer: an ANSWERED call needs its answer time", raw)
                continue
            if not row[unique].strip():
                yield Rejection.of(line, "uniqueid: required field is missing", raw)
                continue
            yield ParsedRecord(
                line,
                Call(
                    call_id=f"ast-{row[unique].strip()}",
                    channel=Channel.PHONE,
                    queue=row[context].strip(),
                    customer=row[src].strip(),
                    offered_at=offered,
                    answered_at=answered if outcome is CallOutcome.ANSWERED else None,
                    ended_at=ended,
                    outcome=outcome,
                ),
            )
