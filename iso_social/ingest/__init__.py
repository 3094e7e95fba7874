"""Log formats: the registry, lookup by name and detection from a file's first bytes.

A new format is one module in this package and one line in `BUILTIN_LOG_FORMATS`; third parties
register classes under the `iso_social.log_formats` entry-point group.
"""

from __future__ import annotations

from functools import cache
from importlib.metadata import entry_points
from pathlib import Path

from iso_social.errors import IngestError
from iso_social.ingest.asterisk_cdr import AsteriskCdr
from iso_social.ingest.base import (
    NUL_REASON,
    IngestOptions,
    LogFormat,
    Parsed,
    ParsedRecord,
    PlainMessage,
    PlainMessages,
    Rejection,
    nul_field,
)
from iso_social.ingest.callcenter_csv import CallcenterCsv
from iso_social.ingest.csv import CanonicalCsv
from iso_social.ingest.eml import Eml
from iso_social.ingest.irc import Irc
from iso_social.ingest.jsonl import JsonLines
from iso_social.ingest.mbox import Mbox
from iso_social.ingest.twcs import Twcs
from iso_social.ingest.tweets_csv import TweetsCsv
from iso_social.ingest.twitter_v2 import TwitterV2
from iso_social.ingest.x_archive import XArchive
from iso_social.ingest.zendesk import Zendesk

# order matters for detection: the most specific structure first
BUILTIN_LOG_FORMATS: tuple[type[LogFormat], ...] = (
    JsonLines,
    CanonicalCsv,
    Twcs,
    CallcenterCsv,
    AsteriskCdr,
    TweetsCsv,
    Mbox,
    Eml,
    Zendesk,
    Irc,
    TwitterV2,
    XArchive,
)
SNIFF_BYTES = 65_536

__all__ = [
    "BUILTIN_LOG_FORMATS",
    "NUL_REASON",
    "IngestOptions",
    "LogFormat",
    "Parsed",
    "ParsedRecord",
    "PlainMessage",
    "PlainMessages",
    "Rejection",
    "detect_log_format",
    "get_log_format",
    "log_formats",
    "nul_field",
]


@cache
def log_formats() -> dict[str, LogFormat]:
    """Every installed log format by name: the built-ins, then entry-point plug-ins."""
    formats: dict[str, LogFormat] = {cls.name: cls() for cls in BUILTIN_LOG_FORMATS}
    for entry in entry_points(group="iso_social.log_formats"):
        plugin = entry.load()()
        formats.setdefault(plugin.name, plugin)
    return formats


def get_log_format(name: str) -> LogFormat:
    """The log format called `name`."""
    try:
        return log_formats()[name]
    except KeyError:
        raise IngestError(
            "--format",
            f"unknown log format '{name}'",
            hint=f"choose one of: auto, {', '.join(log_formats())}",
        ) from None


def detect_log_format(path: Path) -> LogFormat:
    """Sniff the structure of `path` (not its suffix) and return the first format that fits."""
    try:
        with path.open("rb") as stream:
            head = stream.read(SNIFF_BYTES)
    except OSError as exc:
        raise IngestError(path, f"cannot read the file ({exc.strerror})") from exc
    if not head.strip():
        raise IngestError(path, "the file is empty")
    for fmt in log_formats().values():
        if fmt.sniff(head):
            return fmt
    raise IngestError(
        path,
        "cannot recognise the log format",
        hint=f"pass --format with one of: {', '.join(log_formats())}; see docs/log-format.md",
    )
