"""Call records: the Technion call-centre CSV and Asterisk CDRs, on the real files."""

from __future__ import annotations

import io
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from iso_social.domain import Call, CallOutcome
from iso_social.errors import IngestError
from iso_social.ingest import IngestOptions, ParsedRecord, Rejection, detect_log_format
from iso_social.ingest.asterisk_cdr import AsteriskCdr
from iso_social.ingest.callcenter_csv import CallcenterCsv

ISRAEL = ZoneInfo("Asia/Jerusalem")
HEADER = (
    "vru+line,call_id,type,vru_entry,vru_exit,vru_time,q_start,q_exit,q_time,outcome,"
    "ser_start,ser_exit,ser_time,server,server_abv\n"
)


def technion(text: str) -> list[object]:
    options = IngestOptions(assume_tz=ISRAEL, day=date(1999, 8, 1))
    return list(CallcenterCsv().parse(io.BytesIO(text.encode()), options))


def test_queued_answered_immediate_and_midnight_calls() -> None:
    items = technion(
        HEADER + "AA01,7,PS,10:00:45,10:00:51,6,10:00:51,10:01:33,42,AGENT,10:01:32,"
        "10:03:08,96,VICKY,VIC\n"
        + "AA02,8,PS,10:00:21,10:00:31,10,0:00:00,0:00:00,0,AGENT,10:00:30,"
        "10:02:09,99,NAAMA,NAA\n"
        + "AA03,9,NW,23:59:00,23:59:10,10,23:59:10,0:00:40,90,HANG,0:00:00,"
        "0:00:00,0,NO_SERVER,NO_\n"
    )
    queued, immediate, midnight = (i.record for i in items)  # type: ignore[attr-defined]
    assert isinstance(queued, Call) and queued.answered_at is not None
    assert (queued.answered_at - queued.offered_at).total_seconds() == 41
    assert queued.offered_at == datetime(1999, 8, 1, 7, 0, 51, tzinfo=UTC)  # IDT = UTC+3
    assert immediate.answered_at == immediate.offered_at  # a one-second skew is clamped
    assert midnight.outcome is CallOutcome.ABANDONED
    assert midnight.ended_at.date() == date(1999, 8, 1)  # 00:00:40 local on 2 Aug is UTC 1 Aug
    assert (midnight.ended_at - midnight.offered_at).total_seconds() == 90
    assert queued.call_id == "tb-1999-08-01-AA01-7" and queued.customer == "7"


def test_vru_hang_ups_and_phantoms_are_kept_as_skipped() -> None:
    first, second = technion(
        HEADER
        + "AA01,1,PS,0:10:10,0:10:27,17,0:00:00,0:00:00,0,HANG,0:00:00,0:00:00,0,NO,NO\n"
        + "AA01,2,PS,0:10:10,0:10:27,17,0:10:27,0:11:00,33,PHANTOM,0:00:00,0:00:00,0,NO,NO\n"
    )
    assert isinstance(first, Rejection) and first.reason.startswith("skipped: the caller hung up")
    assert isinstance(second, Rejection) and "PHANTOM" in second.reason


def test_times_of_day_need_a_date_and_a_zone() -> None:
    with pytest.raises(IngestError, match="local times without a UTC offset"):
        list(CallcenterCsv().parse(io.BytesIO(HEADER.encode()), IngestOptions()))
    with pytest.raises(IngestError, match="times of day without a date"):
        list(CallcenterCsv().parse(io.BytesIO(HEADER.encode()), IngestOptions(assume_tz=ISRAEL)))


def test_technion_one_day_golden(shared_data: Path) -> None:
    path = shared_data / "call_center" / "bank_one_day.csv"
    assert detect_log_format(path).name == "callcenter-csv"
    with path.open("rb") as stream:
        items = list(
            CallcenterCsv().parse(stream, IngestOptions(assume_tz=ISRAEL, day=date(1999, 8, 1)))
        )
    assert len(items) == 2375
    calls = [i.record for i in items if isinstance(i, ParsedRecord)]
    reasons = Counter(
        i.reason.split(" ", 2)[1] if i.reason.startswith("skipped") else "bad"
        for i in items
        if isinstance(i, Rejection)
    )
    assert reasons == {"the": 118, "PHANTOM": 18, "bad": 1}
    assert len(calls) == 2238
    outcomes = Counter(c.outcome for c in calls if isinstance(c, Call))
    assert outcomes == {CallOutcome.ANSWERED: 1510, CallOutcome.ABANDONED: 728}
    assert len({c.call_id for c in calls if isinstance(c, Call)}) == 2238


def test_asterisk_golden(shared_data: Path) -> None:
    path = shared_data / "call_center" / "asterisk_cdr_Master.csv"
    assert detect_log_format(path).name == "asterisk-cdr"
    zone = ZoneInfo("Indian/Antananarivo")
    with path.open("rb") as stream:
        items = list(AsteriskCdr().parse(stream, IngestOptions(assume_tz=zone)))
    calls = [i.record for i in items if isinstance(i, ParsedRecord)]
    assert len(calls) == 14 and len(items) == 14
    outcomes = Counter(c.outcome for c in calls if isinstance(c, Call))
    assert outcomes == {CallOutcome.ANSWERED: 11, CallOutcome.ABANDONED: 3}
    first = calls[0]
    assert isinstance(first, Call) and first.call_id == "ast-1690325492.2"
    assert first.offered_at == datetime(2023, 7, 26, 1, 51, 32, tzinfo=zone)
    assert first.answered_at is not None and first.customer == "client1"


def test_asterisk_stock_cdr_csv_order() -> None:
    row = (
        '"acct","1001","2002","support","\\"Ana\\" <1001>","SIP/1001-1","SIP/2002-2",'
        '"Dial","SIP/2002","2026-10-01 10:00:00","","2026-10-01 10:00:30","30","0",'
        '"NO ANSWER","DOCUMENTATION","1727776800.1",""\n'
    )
    fmt = AsteriskCdr()
    assert fmt.sniff(row.encode())
    (item,) = fmt.parse(io.BytesIO(row.encode()), IngestOptions(assume_tz=ZoneInfo("UTC")))
    assert isinstance(item, ParsedRecord)
    call = item.record
    assert isinstance(call, Call) and call.outcome is CallOutcome.ABANDONED
    assert call.queue == "support" and call.call_id == "ast-1727776800.1"
