"""IRC transcripts: dates from file names, agents and bots, threads from addressing and links."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from iso_social.domain import AuthorRole, Message
from iso_social.errors import IngestError
from iso_social.ingest import IngestOptions, ParsedRecord, Rejection, detect_log_format
from iso_social.ingest.irc import Irc

OPTIONS = IngestOptions(assume_tz=ZoneInfo("UTC"), agents=("helper",), bots=("ubotu",))


class Named(io.BytesIO):
    name = "2026-10-05.chat.log"


def parse(text: str, options: IngestOptions = OPTIONS) -> list[object]:
    return list(Irc().parse(Named(text.encode()), options))


def messages(items: list[object]) -> list[Message]:
    return [i.record for i in items if isinstance(i, ParsedRecord)]  # type: ignore[misc]


def test_addressing_joins_and_roles() -> None:
    items = parse(
        "[23:58] <ana> my wifi is down\n"
        "=== bob has joined #support\n"
        "[23:59] <bob> hello all\n"
        "[00:01] <helper> ana: which card?\n"
        "[00:02] * ubotu points to the wiki\n"
    )
    ana, bob, helper, bot = messages(items)
    assert ana.conversation_id == helper.conversation_id != bob.conversation_id
    assert helper.author_role is AuthorRole.AGENT and helper.direction.value == "outbound"
    assert bot.author_role is AuthorRole.BOT and bot.text == "* ubotu points to the wiki"
    assert ana.created_at.isoformat() == "2026-10-05T23:58:00+00:00"
    assert helper.created_at.isoformat() == "2026-10-06T00:01:00+00:00"  # past midnight
    (skipped,) = [i for i in items if isinstance(i, Rejection)]
    assert skipped.line == 2 and skipped.reason.startswith("skipped: a system line")


def test_midnights_are_counted_for_lines_without_a_date_only() -> None:
    """Times of day alone roll over each midnight, however many; a line that carries its own
    date keeps it, even before the previous line (a day at a time, it was moved 8,000 years)."""
    undated = messages(
        parse("[23:00] <ana> a\n[01:00] <ana> b\n[12:30] <ana> c\n[23:30] <ana> d\n[00:30] <a> e\n")
    )
    assert [m.created_at.isoformat()[:16] for m in undated] == [
        "2026-10-05T23:00",
        "2026-10-06T01:00",
        "2026-10-06T12:30",
        "2026-10-06T23:30",
        "2026-10-07T00:30",
    ]
    dated = messages(
        parse("#s 9999-12-30 [23:59] <ana> help\n#s 2001-01-01 [00:00] <helper> ana: hi\n")
    )
    assert [m.created_at.date().isoformat() for m in dated] == ["9999-12-30", "2001-01-01"]


def test_agents_zone_and_date_are_required() -> None:
    with pytest.raises(IngestError, match="support team's nicks"):
        parse("[10:00] <a> hi\n", IngestOptions(assume_tz=ZoneInfo("UTC")))
    with pytest.raises(IngestError, match="chat logs hold local times") as raised:
        parse("[10:00] <a> hi\n", IngestOptions(agents=("x",)))
    assert raised.value.hint is not None and "phone" not in raised.value.hint


def test_ubuntu_log_with_its_annotations(shared_data: Path, tmp_path: Path) -> None:
    log = shared_data / "irc" / "train" / "2004-12-25.train-c.raw.txt"
    assert detect_log_format(log).name == "irc"
    options = IngestOptions(assume_tz=ZoneInfo("UTC"), agents=("crimsun",), bots=("ubotu",))
    with log.open("rb") as stream:
        items = list(Irc().parse(stream, options))
    found = messages(items)
    assert len(items) == 1500 and len(found) == 1165
    assert sum(isinstance(i, Rejection) for i in items) == 335
    assert len({m.conversation_id for m in found}) == 587
    # checked by hand: ctr's question and the answers addressed to ctr form one thread
    question = next(m for m in found if m.text == "is there a ubuntu specific ppc channel ?")
    thread = [m for m in found if m.conversation_id == question.conversation_id]
    assert any(
        m.author == "crimsun" and m.text.startswith("ctr: not that I'm aware") for m in thread
    )
    alone = tmp_path / log.name
    shutil.copy(log, alone)  # without the annotation file beside it
    with alone.open("rb") as stream:
        unlinked = messages(list(Irc().parse(stream, options)))
    assert len({m.conversation_id for m in unlinked}) > 587
