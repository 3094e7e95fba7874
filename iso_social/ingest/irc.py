"""IRC and chat transcripts: `[HH:MM] <nick> text` lines (or `[HH:MM:SS]`, or a leading
`channel YYYY-MM-DD` as in some exports).

The date comes from the line, else from the file name (`2004-12-25...`); times are local, so
`--assume-tz` is required, and a time more than twelve hours earlier than the previous line means
the log crossed midnight. `--agent NICK` (repeatable) names the support team, whose lines are
outbound agent messages; `--bot NICK` names bots; everyone else is a customer. `* nick action`
lines are messages of that nick; `=== ...` joins, parts and other system lines are not messages
and are kept as rejected records marked `skipped:`.

Conversations: lines are joined when one addresses the other's author (`nick: ...` or
`nick, ...` joins the latest line of that nick) and, when a `.annotation.txt` file with reply
links (`1002 1003 -`, line numbers from 0) lies beside a `.raw.txt` log, along those links too.
A line that joins nothing starts a conversation of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import BinaryIO, ClassVar

from iso_social.domain import AuthorRole, Channel, Direction, Message, Visibility
from iso_social.errors import IngestError
from iso_social.ingest._calls import require_zone
from iso_social.ingest.base import IngestOptions, Parsed, ParsedRecord, Rejection

_LINE = re.compile(
    r"^(?:(?P<channel>\S+) (?P<date>\d{4}-\d{2}-\d{2}) )?\[(?P<h>\d{1,2}):(?P<m>\d{2})"
    r"(?::(?P<s>\d{2}))?\] (?:<(?P<nick>[^>\s]+)> ?|\* (?P<actor>\S+) )(?P<text>.*)$"
)
_SYSTEM = re.compile(
    r"^(?:(?:\S+ \d{4}-\d{2}-\d{2} )?\[\d{1,2}:\d{2}(?::\d{2})?\] )?(?:===|-!-|\*\*\*)"
)
_ADDRESSED = re.compile(r"^([^\s:,]+)[:,]\s")
_FILE_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


class Irc:
    """IRC / chat transcripts."""

    name: ClassVar[str] = "irc"
    description: ClassVar[str] = "IRC or chat transcripts ([HH:MM] <nick> text); --agent"
    suffixes: ClassVar[tuple[str, ...]] = (".txt", ".log")

    def sniff(self, head: bytes) -> bool:
        """Most of the first lines are timestamped chat lines."""
        lines = head.decode("utf-8", "replace").splitlines()[:20]
        if len(lines) > 1:
            lines = lines[:-1]  # the head may cut the last line
        chat = sum(bool(_LINE.match(line) or _SYSTEM.match(line)) for line in lines)
        return bool(lines) and chat >= max(1, len(lines) * 0.8)

    def parse(self, stream: BinaryIO, options: IngestOptions) -> Iterator[Parsed]:
        """Yield one message (or skipped line) per line, with conversations resolved."""
        zone = require_zone(options, self.name, "chat logs", "the server that logged the chat")
        if not options.agents:
            raise IngestError(
                "--format irc",
                "chat direction needs the support team's nicks",
                hint="pass --agent NICK (repeatable), and --bot NICK for bots",
            )
        source = Path(getattr(stream, "name", "") or options.extra.get("path", ""))
        file_day = _file_date(source) or options.day
        agents = {a.lower() for a in options.agents}
        bots = {b.lower() for b in options.bots}
        lines = stream.read().decode("utf-8", "replace").splitlines()
        parent = list(range(len(lines)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        def join(a: int, b: int) -> None:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)

        parsed: dict[int, tuple[str, datetime, str]] = {}
        skipped: list[Rejection] = []
        latest_by_nick: dict[str, int] = {}
        previous: datetime | None = None
        for index, raw in enumerate(lines):
            match = _LINE.match(raw)
            if not match:
                if raw.strip():
                    reason = (
                        "skipped: a system line (join, part, topic)"
                        if _SYSTEM.match(raw)
                        else "not a chat line: [HH:MM] <nick> text expected"
                    )
                    skipped.append(Rejection.of(index + 1, reason, raw))
                continue
            day = date.fromisoformat(match["date"]) if match["date"] else file_day
            if day is None:
                raise IngestError(
                    str(source) if source.name else "--format irc",
                    "the log's lines carry no date and its file name none either",
                    hint="pass --date YYYY-MM-DD",
                )
            clock = time(int(match["h"]), int(match["m"]), int(match["s"] or 0))
            moment = datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)
            if match["date"] is None and previous is not None:
                moment += _midnights(previous, moment) * _DAY
            previous = moment
            nick = match["nick"] or match["actor"]
            text = match["text"] if match["nick"] else f"* {nick} {match['text']}"
            parsed[index] = (nick, moment, text)
            addressed = _ADDRESSED.match(match["text"] or "")
            if addressed and addressed.group(1).lower() in latest_by_nick:
                join(latest_by_nick[addressed.group(1).lower()], index)
            latest_by_nick[nick.lower()] = index
        for a, b in _annotations(source, len(lines)):
            if a in parsed and b in parsed:
                join(a, b)
        stem = source.name.split(".")[0] if source.name else "chat"
        yield from skipped
        for index, (nick, moment, text) in parsed.items():
            role = (
                AuthorRole.BOT
                if nick.lower() in bots
                else AuthorRole.AGENT
                if nick.lower() in agents
                else AuthorRole.CUSTOMER
            )
            yield ParsedRecord(
                index + 1,
                Message(
                    message_id=f"irc-{stem}-{index + 1}",
                    conversation_id=f"irc-{stem}-{find(index) + 1}",
                    channel=Channel.CHAT,
                    direction=Direction.INBOUND
                    if role is AuthorRole.CUSTOMER
                    else Direction.OUTBOUND,
                    author=nick,
                    author_role=role,
                    visibility=Visibility.PUBLIC,
                    created_at=moment,
                    text=text,
                ),
            )


_DAY, _ROLLOVER = timedelta(days=1), timedelta(hours=12)


def _midnights(previous: datetime, moment: datetime) -> int:
    """How many midnights a line without a date has passed since the previous line: a time of
    day more than 12 h before the last one's is on a later day. Counted in one step (a day at
    a time, a line dated thousands of years before a dated one took seconds); lines with a
    date keep it."""
    behind = previous - moment - _ROLLOVER
    return -(-behind // _DAY) if behind > timedelta(0) else 0


def _file_date(path: Path) -> date | None:
    match = _FILE_DATE.search(path.name)
    return date.fromisoformat(match.group(1)) if match else None


def _annotations(source: Path, count: int) -> Iterator[tuple[int, int]]:
    """Reply links from the `.annotation.txt` beside a `.raw.txt` log, if there is one."""
    if not source.name.endswith(".raw.txt"):
        return
    annotation = source.with_name(source.name.removesuffix(".raw.txt") + ".annotation.txt")
    if not annotation.is_file():
        return
    for line in annotation.read_text(encoding="utf-8", errors="replace").splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].isdigit() and parts[1].isdigit():
            a, b = int(parts[0]), int(parts[1])
            if a != b and a < count and b < count:
                yield a, b
