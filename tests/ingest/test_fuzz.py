"""Hostile input for every log format: whatever the bytes, a format yields records or
rejections with a line, or raises an `IngestError` naming the problem; never a traceback, and
never a line silently dropped.

Budgets are small (CI time), but the strategies aim where parsers break: arbitrary bytes,
truncated and mutated real exports, wrong encodings, deep nesting, huge fields, formulas and
out-of-range timestamps.
"""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iso_social.errors import IngestError
from iso_social.ingest import IngestOptions, ParsedRecord, Rejection, log_formats
from iso_social.store.database import opened_engine
from iso_social.store.loader import load_files

FORMATS = sorted(log_formats())
OPTIONS = IngestOptions(
    assume_tz=ZoneInfo("Europe/Madrid"),
    day=date(2026, 10, 1),
    brands=("AcmeHelp",),
    support=("help@acme.example",),
    agents=("agent",),
)
FUZZ = settings(suppress_health_check=[HealthCheck.function_scoped_fixture])

# a small valid sample of each format, written here (the real exports stay in ../shared)
SEEDS: dict[str, bytes] = {
    "jsonl": (
        b'{"conversation_id":"c1","message_id":"m1","channel":"twitter",'
        b'"created_at":"2026-10-01T10:00:00Z","direction":"inbound","author_role":"customer",'
        b'"author":"ana","visibility":"public","text":"hi"}\n'
        b'{"conversation_id":"c1","message_id":"m2","channel":"twitter",'
        b'"created_at":"2026-10-01T10:05:00Z","direction":"outbound","author_role":"agent",'
        b'"author":"bo","visibility":"public","text":"hello"}\n'
    ),
    "csv": (
        b"conversation_id,message_id,channel,created_at,direction,author_role,author,visibility,text\n"
        b"c1,m1,email,2026-10-01T10:00:00Z,inbound,customer,ana,private,hi\n"
        b"c1,m2,email,2026-10-01T10:05:00Z,outbound,agent,bo,private,hello\n"
    ),
    "twcs": (
        b"tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id\n"
        b"1,115712,True,Tue Oct 31 22:10:47 +0000 2017,@AcmeHelp help,2,\n"
        b"2,AcmeHelp,False,Tue Oct 31 22:20:47 +0000 2017,@115712 sure,,1\n"
    ),
    "tweets-csv": (
        b"tweet_id,author,created_at,text\n"
        b"1,ana,2026-10-01T10:00:00+00:00,@AcmeHelp my card\n"
        b"2,AcmeHelp,2026-10-01T10:10:00+00:00,@ana DM us\n"
    ),
    "mbox": (
        b"From ana@example.com Thu Oct  1 10:00:00 2026\n"
        b"From: ana@example.com\nTo: help@acme.example\nSubject: help\n"
        b"Message-ID: <a@example.com>\nDate: Thu, 1 Oct 2026 10:00:00 +0000\n\nhi\n\n"
        b"From help@acme.example Thu Oct  1 11:00:00 2026\n"
        b"From: help@acme.example\nTo: ana@example.com\nSubject: Re: help\n"
        b"Message-ID: <b@acme.example>\nIn-Reply-To: <a@example.com>\n"
        b"Date: Thu, 1 Oct 2026 11:00:00 +0000\n\nhello\n"
    ),
    "eml": (
        b"From: ana@example.com\nTo: help@acme.example\nSubject: help\n"
        b"Message-ID: <a@example.com>\nDate: Thu, 1 Oct 2026 10:00:00 +0000\n\nhi\n"
    ),
    "irc": b"[10:00] <ana> agent: my router is down\n[10:02] <agent> ana: restart it\n",
    "zendesk": json.dumps(
        {
            "tickets": [
                {
                    "id": 1,
                    "requester_id": 7,
                    "via": {"channel": "email"},
                    "status": "open",
                    "created_at": "2026-10-01T10:00:00Z",
                }
            ],
            "audits": [
                {
                    "ticket_id": 1,
                    "created_at": "2026-10-01T10:00:00Z",
                    "author_id": 7,
                    "events": [{"type": "Comment", "body": "hi", "public": True, "author_id": 7}],
                }
            ],
        }
    ).encode(),
    "twitter-v2": json.dumps(
        {
            "data": [
                {
                    "id": "1",
                    "author_id": "7",
                    "conversation_id": "1",
                    "created_at": "2026-10-01T10:00:00.000Z",
                    "text": "@AcmeHelp hi",
                }
            ],
            "includes": {"users": [{"id": "7", "username": "ana"}]},
        }
    ).encode()
    + b"\n",
    "x-archive": b'window.YTD.tweets.part0 = [{"tweet": {"id_str": "1", "full_text": "hi", '
    b'"created_at": "Tue Oct 31 22:10:47 +0000 2017"}}]',
    "callcenter-csv": (
        b"vru+line,call_id,type,vru_entry,vru_exit,vru_time,q_start,q_exit,q_time,outcome,"
        b"ser_start,ser_exit,ser_time,server,server_abv\n"
        b"AA0204,43678,PS,10:10:10,10:10:27,17,10:10:27,10:11:00,33,AGENT,10:11:00,10:15:00,"
        b"240,ANNA,AN\n"
    ),
    "asterisk-cdr": (
        b'"""Ana"" <100>","100","200","default","SIP/100-1","SIP/200-2","Dial","SIP/200",'
        b'"2026-10-01 10:00:00","2026-10-01 10:00:05","2026-10-01 10:02:00","120","115",'
        b'"ANSWERED","DOCUMENTATION","","1001.1","",1\n'
    ),
}

HOSTILE: dict[str, bytes] = {
    "empty": b"",
    "nul bytes": b"\x00" * 512,
    "only a BOM": b"\xef\xbb\xbf",
    "utf-16 with BOM": "tweet_id,author,created_at,text\n1,a,2026-10-01,@AcmeHelp hi\n".encode(
        "utf-16"
    ),
    "utf-16 without BOM": '{"text": "hola"}\n'.encode("utf-16-le"),
    "latin-1": "conversation_id,message_id,created_at,text\nc1,m1,2026-10-01,ca\xf1a\n".encode(
        "latin-1"
    ),
    "cut multi-byte": "ñ".encode()[:1] * 100,
    "deep array": b"[" * 100_000 + b"]" * 100_000 + b"\n",
    "deep object": b'{"a":' * 50_000 + b"1" + b"}" * 50_000 + b"\n",
    "deep zendesk": b'{"tickets": [' + b"[" * 50_000 + b"]" * 50_000 + b'], "requester_id": 1}',
    "huge field": b'{"conversation_id":"c","message_id":"m","text":"' + b"a" * 5_000_000 + b'"}\n',
    "huge csv cell": b"conversation_id,message_id,text\nc,m," + b"b" * 5_000_000 + b"\n",
    "unterminated quote": b'a,b,c\n"unterminated,1,2\n' * 3,
    "formula": b"conversation_id,message_id,channel,created_at,direction,author_role,text\n"
    b'c1,m1,email,2026-10-01T10:00:00Z,inbound,customer,"=HYPERLINK(""http://x"",""y"")"\n',
    "year 99999": b'{"conversation_id":"c","message_id":"m","channel":"twitter",'
    b'"created_at":"99999-01-01T00:00:00Z","direction":"inbound","author_role":"customer",'
    b'"text":"x"}\n',
    "epoch 1e30": b'{"conversation_id":"c","message_id":"m","channel":"twitter",'
    b'"created_at":1e30,"direction":"inbound","author_role":"customer","text":"x"}\n',
    "huge integer id": b"tweet_id,author_id,inbound,created_at,text,response_tweet_id,"
    b"in_response_to_tweet_id\n1,a,True,Tue Oct 31 22:10:47 +0000 2017,hi,," + b"9" * 5000 + b"\n",
    "bad month": b"tweet_id,author_id,inbound,created_at,text,response_tweet_id,"
    b"in_response_to_tweet_id\n1,a,True,Tue Oct 99 22:10:47 +0000 99999,hi,,\n",
    "archive not a list": b'window.YTD.tweets.part0 = {"a": 1}',
    "cassette of garbage": b'{"http_interactions": [1, "x", {"response": "no"}, '
    b'{"response": {"body": {"base64_string": "!!!"}}}]}',
}


def parse_all(name: str, data: bytes) -> list[ParsedRecord | Rejection]:
    """Every item the format yields for `data`; an IngestError is an acceptable answer."""
    fmt = log_formats()[name]
    items: list[ParsedRecord | Rejection] = []
    try:
        for item in fmt.parse(io.BufferedReader(io.BytesIO(data)), OPTIONS):
            assert isinstance(item, ParsedRecord | Rejection), type(item)
            if isinstance(item, Rejection):
                assert item.reason.strip()
                assert item.line >= 0
                assert len(item.raw) <= 70_000  # the raw text of a rejection is bounded
            items.append(item)
    except IngestError as exc:
        assert exc.message.strip()
    return items


def test_every_format_has_a_seed() -> None:
    assert set(SEEDS) == set(FORMATS)


@pytest.mark.parametrize("name", FORMATS)
def test_seed_parses(name: str) -> None:
    items = parse_all(name, SEEDS[name])
    assert any(isinstance(item, ParsedRecord) for item in items), items


@pytest.mark.parametrize("case", sorted(HOSTILE))
@pytest.mark.parametrize("name", FORMATS)
def test_hostile_input_ends_in_records_rejections_or_a_clear_error(name: str, case: str) -> None:
    parse_all(name, HOSTILE[case])


@pytest.mark.parametrize("name", FORMATS)
@FUZZ
@given(data=st.binary(max_size=4096))
def test_arbitrary_bytes(name: str, data: bytes) -> None:
    parse_all(name, data)


@pytest.mark.parametrize("name", FORMATS)
@FUZZ
@given(cut=st.floats(min_value=0, max_value=1))
def test_truncated_seed(name: str, cut: float) -> None:
    seed = SEEDS[name]
    parse_all(name, seed[: int(len(seed) * cut)])


@pytest.mark.parametrize("name", FORMATS)
@FUZZ
@given(
    edits=st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=1),
            st.sampled_from(
                [b"", b"\x00", b"\xff", b'"', b",", b"\n", b"\r", b"{", b"]", b"=1+2", b"\xc3"]
            ),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_mutated_seed(name: str, edits: list[tuple[float, bytes]]) -> None:
    data = bytearray(SEEDS[name])
    for where, insert in edits:
        at = int(len(data) * where)
        data[at : at + 1] = insert
    parse_all(name, bytes(data))


@FUZZ
@given(
    lines=st.lists(
        st.one_of(
            st.just(SEEDS["jsonl"].splitlines()[0]),
            st.binary(max_size=200).filter(lambda b: b"\n" not in b and b.strip()),
            st.text(max_size=200)
            .map(lambda t: json.dumps({"text": t}).encode())
            .filter(lambda b: b"\n" not in b),
        ),
        max_size=30,
    )
)
def test_jsonl_accounts_for_every_line(lines: list[bytes]) -> None:
    """One item per non-blank line: every line is a record or a rejection, none vanishes."""
    data = b"\n".join(lines) + b"\n"
    items = parse_all("jsonl", data)
    body = data.removeprefix(b"\xef\xbb\xbf")  # a leading BOM marks the encoding, no record
    expected = [n for n, line in enumerate(body.split(b"\n")[:-1], 1) if line.strip()]
    assert [item.line for item in items] == expected


@FUZZ
@given(
    texts=st.lists(
        st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=80),
        min_size=1,
        max_size=20,
    )
)
def test_csv_keeps_every_text_exactly(texts: list[str]) -> None:
    """Any text (quotes, commas, bare CRs, formulas) survives a canonical CSV round trip."""
    import csv

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["conversation_id", "message_id", "created_at", "author", "text"])
    for n, text in enumerate(texts):
        writer.writerow(["c1", f"m{n}", "2026-10-01T10:00:00Z", "ana", text])
    items = parse_all("csv", out.getvalue().encode("utf-8"))
    stored = [item.record.text for item in items if isinstance(item, ParsedRecord)]
    rejected = [item for item in items if isinstance(item, Rejection)]
    assert len(stored) + len(rejected) == len(texts)
    kept = {t.strip() for t in texts if t.strip()}
    assert {s.strip() for s in stored} <= kept | {""}


@pytest.mark.parametrize("case", ["deep array", "huge field", "utf-16 without BOM", "formula"])
def test_loader_accounts_for_hostile_files(tmp_path: Path, case: str) -> None:
    """Through the store: records read = stored + duplicates + conflicts + rejected."""
    path = tmp_path / "input.jsonl"
    path.write_bytes(HOSTILE[case] + b"\n" + SEEDS["jsonl"])
    with opened_engine(f"sqlite:///{tmp_path / 'f.db'}") as engine:
        summary = load_files(engine, [path], [log_formats()["jsonl"]], OPTIONS)
    (file,) = summary.files
    accounted = file.messages_stored + file.other_stored + file.duplicates + file.rejected_count
    assert accounted == file.records_read
    assert file.messages_stored == 2
