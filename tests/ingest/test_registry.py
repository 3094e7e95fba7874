"""The format registry and detection by structure, not suffix."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iso_social.errors import IngestError
from iso_social.ingest import (
    BUILTIN_LOG_FORMATS,
    LogFormat,
    detect_log_format,
    get_log_format,
    log_formats,
)
from tests.conftest import canonical_message


@pytest.mark.parametrize("cls", BUILTIN_LOG_FORMATS)
def test_every_format_satisfies_the_protocol(cls: type) -> None:
    fmt = cls()
    assert isinstance(fmt, LogFormat)
    assert cls.__module__.rsplit(".", 1)[-1] == fmt.name.replace("-", "_")
    assert fmt.description and fmt.suffixes


def test_detect_ignores_the_suffix(tmp_path: Path) -> None:
    jsonl = tmp_path / "export.txt"
    jsonl.write_text(json.dumps(canonical_message("m1", "2026-10-01T10:00:00Z")) + "\n")
    assert detect_log_format(jsonl).name == "jsonl"
    csv = tmp_path / "export.jsonl"
    csv.write_text("kind,message_id,conversation_id,created_at\nmessage,m1,c1,x\n")
    assert detect_log_format(csv).name == "csv"


def test_unknown_format_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "mystery.bin"
    path.write_bytes(b"\x00\x01\x02 nothing we know")
    with pytest.raises(IngestError, match="cannot recognise the log format") as caught:
        detect_log_format(path)
    assert caught.value.hint is not None and "--format" in caught.value.hint
    with pytest.raises(IngestError, match="unknown log format 'xml'"):
        get_log_format("xml")
    assert set(log_formats()) >= {"jsonl", "csv"}
