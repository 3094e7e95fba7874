"""Call-by-call logs in the Technion "Anonymous Bank" layout (Mandelbaum et al., SEELab).

Columns: vru+line, call_id, type, vru_entry, vru_exit, vru_time, q_start, q_exit, q_time,
outcome, ser_start, ser_exit, ser_time, server, server_abv. Times are `H:MM:SS` local times of
one day (give the day with `--date` and the zone with `--assume-tz`); `0:00:00` means "did not
happen". A call is offered to the agents' queue at `q_start`, or, when an agent took it at once
without queueing, as it left the voice-response unit (`vru_exit`). Outcome AGENT is answered at
`ser_start`; HANG is a caller who hung up in the queue (at `q_exit`). Callers who hung up in the
voice-response unit were never offered to an agent, and PHANTOM calls are virtual calls the
data set documents as to be ignored: both are kept as rejected records marked `skipped:` with
the reason, so the service level counts only calls offered to agents and nothing is lost.

The service type (`type`: PS, NW, IN...) becomes the call's queue. The data set's `call_id`
repeats across calls at different times (it identifies the caller), so it becomes the call's
customer, and the call's id is the date, the `vru+line` and the `call_id`, which is unique.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import time
from typing import BinaryIO, ClassVar

from iso_social.domain import Call, CallOutcome, Channel
from iso_social.ingest._calls import local_moment, require_day, require_zone
from iso_social.ingest._text import csv_rows, header_of
from iso_social.ingest.base import IngestOptions, Parsed, ParsedRecord, Rejection

COLUMNS = (
    "vru+line",
    "call_id",
    "type",
    "vru_entry",
    "vru_exit",
    "q_start",
    "q_exit",
    "outcome",
    "ser_start",
    "ser_exit",
    "server",
)
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})$")
_NEVER = time(0, 0, 0)


def _clock(value: str, column: str) -> time | None:
    match = _CLOCK.match(value.strip())
    if not match:
        raise ValueError(f"{column}: not a time of day H:MM:SS")
    hours, minutes, seconds = (int(g) for g in match.groups())
    if hours > 23 or minutes > 59 or seconds > 59:
        raise ValueError(f"{column}: not a time of day H:MM:SS")
    moment = time(hours, minutes, seconds)
    return None if moment == _NEVER else moment


class CallcenterCsv:
    """Technion "Anonymous Bank" call-by-call CSV."""

    name: ClassVar[str] = "callcenter-csv"
    description: ClassVar[str] = "call-by-call CSV, Technion Anonymous Bank layout"
    suffixes: ClassVar[tuple[str, ...]] = (".csv",)

    def sniff(self, head: bytes) -> bool:
        """The header has the Technion columns."""
        return set(COLUMNS) <= set(header_of(head))

    def parse(self, stream: BinaryIO, options: IngestOptions) -> Iterator[Parsed]:
        """Yield one call (or rejection) per row."""
        zone, day = require_zone(options, self.name), require_day(options, self.name)
        header: list[str] | None = None
        for item in csv_rows(stream):
            if isinstance(item, Rejection):
                yield item
                continue
            line, row = item
            if header is None:
                header = row
                index = {name.strip(): i for i, name in enumerate(header)}
                missing = [c for c in COLUMNS if c not in index]
                if missing:
                    yield Rejection.of(
                        line,
                        f"missing column '{missing[0]}': not a call-by-call file of this "
                        "layout, so none of its rows were read",
                        ",".join(header),
                    )
                    return
                continue
            if not any(cell.strip() for cell in row):
                continue
            raw = ",".join(row)
            if len(row) != len(header):
                yield Rejection.of(
                    line, f"{len(row)} cells where the header has {len(header)}", raw
                )
                continue
            cell = {name: row[i].strip() for name, i in index.items()}
            try:
                yield self._call(line, cell, day, zone, raw)
            except ValueError as exc:
                yield Rejection.of(line, str(exc), raw)

    def _call(self, line: int, cell: dict[str, str], day, zone, raw: str) -> Parsed:  # type: ignore[no-untyped-def]
        outcome = cell["outcome"].upper()
        if outcome == "PHANTOM":
            return Rejection.of(
                line,
                "skipped: PHANTOM is a virtual call the data set documents as to be ignored",
                raw,
            )
        if outcome not in ("AGENT", "HANG"):
            raise ValueError("outcome: must be AGENT, HANG or PHANTOM")
        queued = _clock(cell["q_start"], "q_start")
        if queued is None and outcome == "AGENT":
            # answered at once, without waiting in the queue: offered as the IVR handed it over
            queued = _clock(cell["vru_exit"], "vru_exit")
        if queued is None:
            return Rejection.of(
                line,
                "skipped: the caller hung up in the voice-response unit "
                "and was never offered to an agent queue",
                raw,
            )
        offered = local_moment(day, queued, zone)
        if outcome == "AGENT":
            start, stop = (
                _clock(cell["ser_start"], "ser_start"),
                _clock(cell["ser_exit"], "ser_exit"),
            )
            if start is None or stop is None:
                raise ValueError("ser_start: an AGENT call needs ser_start and ser_exit")
            answered = local_moment(day, start, zone, not_before=offered)
            ended = local_moment(day, stop, zone, not_before=answered)
            result = CallOutcome.ANSWERED
        else:
            left = _clock(cell["q_exit"], "q_exit")
            if left is None:
                raise ValueError("q_exit: a queued HANG call needs q_exit")
            answered, ended = None, local_moment(day, left, zone, not_before=offered)
            result = CallOutcome.ABANDONED
        caller, line_id = cell["call_id"], cell["vru+line"]
        if not caller or not line_id:
            raise ValueError("call_id and vru+line: required fields are missing")
        return ParsedRecord(
            line,
            Call(
                call_id=f"tb-{day.isoformat()}-{line_id}-{caller}",
                channel=Channel.PHONE,
                queue=cell.get("type", ""),
                customer=caller,
                offered_at=offered,
                answered_at=answered,
                ended_at=ended,
                outcome=result,
            ),
        )
