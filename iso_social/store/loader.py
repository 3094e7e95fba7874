"""Loading one or more log files into the store in a single transaction.

The file is read once: its SHA-256 is computed from the same bytes the parser reads. Records are
stored in batches; any failure rolls the whole load back, so a crash midway leaves the database
as it was. With `strict`, a single rejected record aborts the load the same way.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from iso_social.domain import Call, Escalation, Message, StatusChange, now_utc
from iso_social.errors import IngestError
from iso_social.ingest import IngestOptions, LogFormat, ParsedRecord, Rejection
from iso_social.ingest.privacy import pseudonymise
from iso_social.store import repository
from iso_social.store.database import create_schema, transaction

BATCH_SIZE = 5_000
MAX_REPORTED_REJECTIONS = 1_000


class _HashingReader(io.RawIOBase):
    """A raw reader that hashes every byte of the file exactly once, even when a format reads
    the file twice (it may seek back to the start for a second pass)."""

    def __init__(self, raw: BinaryIO) -> None:
        self._raw = raw
        self.name = getattr(raw, "name", "")  # formats may look beside the file (irc)
        self.sha256 = hashlib.sha256()
        self._position = 0
        self.size = 0  # bytes hashed so far: the furthest point read

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if (offset, whence) != (0, io.SEEK_SET):
            raise io.UnsupportedOperation("only a rewind to the start is supported")
        self._raw.seek(0)
        self._position = 0
        return 0

    def tell(self) -> int:
        return self._position

    def readinto(self, buffer: Any) -> int:
        data = self._raw.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        end = self._position + n
        if end > self.size:
            self.sha256.update(data[self.size - self._position :])
            self.size = end
        self._position = end
        return n


@dataclass
class FileSummary:
    """What the ingest of one file did."""

    path: str
    format: str
    sha256: str = ""
    size: int = 0
    records_read: int = 0
    messages_stored: int = 0
    other_stored: int = 0
    duplicates: int = 0
    conflicts: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    rejected_count: int = 0
    conversations: int = 0
    first_at: datetime | None = None
    last_at: datetime | None = None


@dataclass
class IngestSummary:
    """What an ingest did, for every file, and in total."""

    files: list[FileSummary]

    def total(self, name: str) -> int:
        """The sum of a count over every file."""
        return sum(getattr(f, name) for f in self.files)


Progress = Callable[[str, int], None]


def _record_time(record: Any) -> datetime:
    match record:
        case Message() | StatusChange() | Escalation():
            return record.created_at
        case Call():
            return record.offered_at
    raise TypeError(type(record).__name__)


class _FileLoad:
    """The state of loading one file: the running summary and the batch being filled."""

    def __init__(self, connection: Connection, path: Path, fmt: LogFormat) -> None:
        self.connection, self.path = connection, path
        self.summary = FileSummary(str(path), fmt.name)
        self.ingest_id = repository.begin_ingest(connection, str(path), fmt.name, now_utc())
        self.batch: list[ParsedRecord] = []
        self.rejected: list[Rejection] = []
        self.conversations: set[str] = set()

    def add(self, parsed: ParsedRecord) -> None:
        summary = self.summary
        moment = _record_time(parsed.record)
        if summary.first_at is None or moment < summary.first_at:
            summary.first_at = moment
        if summary.last_at is None or moment > summary.last_at:
            summary.last_at = moment
        self.batch.append(parsed)

    def flush(self) -> None:
        if not self.batch:
            return
        result = repository.save_batch(self.connection, self.ingest_id, self.batch)
        summary = self.summary
        summary.messages_stored += result.stored["message"]
        summary.other_stored += sum(n for kind, n in result.stored.items() if kind != "message")
        summary.duplicates += result.duplicates
        summary.conflicts += len(result.conflicts)
        self.rejected.extend(result.conflicts)
        self.conversations.update(result.conversation_ids)
        self.batch.clear()

    def finish(self, sha256: str, size: int) -> FileSummary:
        summary, rejected = self.summary, sorted(self.rejected, key=lambda r: r.line)
        repository.save_rejections(self.connection, self.ingest_id, rejected)
        summary.sha256, summary.size = sha256, size
        summary.rejected_count = len(rejected)
        summary.rejected = rejected[:MAX_REPORTED_REJECTIONS]
        summary.conversations = len(self.conversations)
        repository.finish_ingest(
            self.connection,
            self.ingest_id,
            sha256=sha256,
            size=size,
            records_read=summary.records_read,
            stored=summary.messages_stored + summary.other_stored,
            duplicates=summary.duplicates,
            conflicts=summary.conflicts,
            rejected=len(rejected),
            first_at=summary.first_at,
            last_at=summary.last_at,
            finished_at=now_utc(),
        )
        return summary


def _load_file(
    connection: Connection,
    path: Path,
    fmt: LogFormat,
    options: IngestOptions,
    strict: bool,
    progress: Progress | None,
) -> FileSummary:
    load = _FileLoad(connection, path, fmt)
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise IngestError(path, f"cannot read the file ({exc.strerror})") from exc
    with stream:
        hashing = _HashingReader(stream)
        reader = io.BufferedReader(hashing, buffer_size=1 << 20)
        for parsed in fmt.parse(reader, options):
            load.summary.records_read += 1
            if isinstance(parsed, Rejection):
                if strict:
                    raise IngestError(
                        path,
                        parsed.reason,
                        line=parsed.line,
                        hint="nothing was stored; fix the record or ingest without --strict",
                    )
                load.rejected.append(parsed)
                continue
            if options.pseudonym_key is not None:
                parsed = ParsedRecord(
                    parsed.line, pseudonymise(parsed.record, options.pseudonym_key)
                )
            load.add(parsed)
            if len(load.batch) >= BATCH_SIZE:
                load.flush()
                if progress:
                    progress(str(path), hashing.size)
        load.flush()
        reader.read()  # hash any trailing bytes the parser did not need
    if strict and load.summary.conflicts:
        first = min(load.rejected, key=lambda r: r.line)
        raise IngestError(
            path,
            first.reason,
            line=first.line,
            hint="nothing was stored; --strict refuses conflicting records",
        )
    return load.finish(hashing.sha256.hexdigest(), hashing.size)


def load_files(
    engine: Engine,
    paths: Sequence[Path],
    formats: Sequence[LogFormat],
    options: IngestOptions,
    *,
    strict: bool = False,
    progress: Progress | None = None,
) -> IngestSummary:
    """Load every file in one transaction; return per-file summaries."""
    create_schema(engine)
    with transaction(engine) as connection:
        summaries = [
            _load_file(connection, path, fmt, options, strict, progress)
            for path, fmt in zip(paths, formats, strict=True)
        ]
    return IngestSummary(summaries)
