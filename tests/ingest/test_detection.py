"""`--format auto` picks the right format for every sample log in ../shared/data."""

from __future__ import annotations

from pathlib import Path

import pytest

from iso_social.ingest import detect_log_format

EXPECTED = {
    "twcs/*.csv": "twcs",
    "spanish/*.csv": "tweets-csv",
    "twitter_us_airline/*.csv": "tweets-csv",
    "call_center/bank_one_day.csv": "callcenter-csv",
    "call_center/asterisk_cdr_Master.csv": "asterisk-cdr",
    "email/notmuch_list.mbox": "mbox",
    "email/eml/*.eml": "eml",
    "formats/zendesk_api/*.jsonl": "zendesk",
    "formats/zendesk_api/raw_cassettes/*.json": "zendesk",
    "formats/twitter_api_v2/*.jsonl": "twitter-v2",
    "formats/x_archive/tweets.js": "x-archive",
    "irc/*/*.raw.txt": "irc",
}
NOT_LOGS = ("README", "LICENSE", "corpora_README", "archive_README", ".annotation.txt")


def test_every_sample_is_covered(shared_data: Path) -> None:
    covered = {p for pattern in EXPECTED for p in shared_data.glob(pattern)}
    every = {
        p
        for p in shared_data.rglob("*")
        if p.is_file() and not any(marker in p.name for marker in NOT_LOGS)
    }
    assert every - covered == set()


@pytest.mark.parametrize("pattern", sorted(EXPECTED))
def test_auto_detection(shared_data: Path, pattern: str) -> None:
    paths = sorted(shared_data.glob(pattern))
    assert paths
    for path in paths:
        assert detect_log_format(path).name == EXPECTED[pattern], path
