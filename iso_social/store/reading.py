"""Reading a log file into batches of rows, in this process or in the worker process of a
large ingest (`loader`). It imports no SQLAlchemy: the worker is a fresh interpreter, and
the fewer modules it loads the sooner its first batch arrives (0.2 s after the ingest starts,
where importing the loader with the store's tables made it 0.5 s)."""

from __future__ import annotations

import gc
import hashlib
import io
import marshal
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

from iso_social.domain import Call, Escalation, Message, StatusChange
from iso_social.errors import IngestError, IsoSocialError
from iso_social.ingest import (
    NUL_REASON,
    IngestOptions,
    LogFormat,
    Parsed,
    ParsedRecord,
    PlainMessage,
    PlainMessages,
    Rejection,
    log_formats,
    nul_field,
)
from iso_social.ingest.privacy import pseudonymise
from iso_social.store.rows import batch_rows

BATCH_SIZE = 5_000


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


def _record_time(record: Any) -> datetime:
    if type(record) is Message:  # most records: no pattern matching
        return record.created_at
    match record:
        case Message() | StatusChange() | Escalation():
            return record.created_at
        case Call():
            return record.offered_at
    raise TypeError(type(record).__name__)


@dataclass
class Reading:
    """What reading a file found besides its rows: counts, rejections, time span, hash."""

    records_read: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    first_at: datetime | None = None
    last_at: datetime | None = None
    sha256: str = ""
    size: int = 0


def _screened(parsed: ParsedRecord, options: IngestOptions) -> ParsedRecord | Rejection:
    """A parsed record rejected when a text field holds a NUL (canonical records are rejected
    so when validated, with their raw text; this catches those other formats build), else
    pseudonymised when asked."""
    name = nul_field(parsed.record)
    if name is not None:
        return Rejection(parsed.line, f"{name}: {NUL_REASON}", "")
    if options.pseudonym_key is not None:
        return ParsedRecord(parsed.line, pseudonymise(parsed.record, options.pseudonym_key))
    return parsed


# what reading a file yields: ("rows", a batch's rows, bytes read so far), then ("done", Reading)
Batch = tuple[str, Any, Any]


def read_batches(
    path: Path, fmt: LogFormat, options: IngestOptions, strict: bool, ingest_id: int, sqlite: bool
) -> Iterator[Batch]:
    """Parse, validate and turn into rows a file's records, batch by batch; this or a worker
    process runs it (`loader._load_file`), and the rows are the same either way."""
    reading, batch = Reading(), []
    try:
        stream = path.open("rb")
    except OSError as exc:
        raise IngestError(path, f"cannot read the file ({exc.strerror})") from exc
    with stream:
        hashing = _HashingReader(stream)
        reader = io.BufferedReader(hashing, buffer_size=1 << 20)
        items: Iterator[Parsed | PlainMessage]
        if options.pseudonym_key is None and isinstance(fmt, PlainMessages):
            items = fmt.parse_plain(reader, options)  # the fast path: no domain objects
        else:
            items = fmt.parse(reader, options)
        records, first, last = 0, None, None  # kept in `reading` once the file is read
        for parsed in items:
            records += 1
            if isinstance(parsed, PlainMessage):  # most records: nothing to screen
                moment = parsed.created_at
            else:
                if isinstance(parsed, ParsedRecord):
                    parsed = _screened(parsed, options)
                if isinstance(parsed, Rejection):
                    if strict:
                        raise IngestError(
                            path,
                            parsed.reason,
                            line=parsed.line,
                            hint="nothing was stored; fix the record or ingest without --strict",
                        )
                    reading.rejected.append(parsed)
                    continue
                moment = _record_time(parsed.record)
            if first is None:
                first = last = moment
            elif moment < first:
                first = moment
            elif moment > last:  # type: ignore[operator]  # set with `first`
                last = moment
            batch.append(parsed)
            if len(batch) >= BATCH_SIZE:
                yield "rows", batch_rows(batch, ingest_id, sqlite=sqlite), hashing.size
                batch = []
        reading.records_read, reading.first_at, reading.last_at = records, first, last
        if batch:
            yield "rows", batch_rows(batch, ingest_id, sqlite=sqlite), hashing.size
        reader.read()  # hash any trailing bytes the parser did not need
    reading.sha256, reading.size = hashing.sha256.hexdigest(), hashing.size
    yield "done", reading, None


def read_in_worker(
    send: Any,
    path: Path,
    fmt_name: str,
    options: IngestOptions,
    strict: bool,
    ingest_id: int,
    sqlite: bool,
) -> None:
    """The worker process: every batch of `read_batches` down the pipe, or the error that
    stopped it (never a message quoting the file's content). Its garbage collector is off:
    the records it makes are freed by reference counting as each batch is sent, and the
    collector's walks over them cost a sixth of its time. Rows hold only strings, numbers,
    booleans and None (`batch_rows`), so they cross as `marshal` bytes (three times faster to
    write than a pickle; both ends are the same interpreter)."""
    gc.disable()
    try:
        for kind, content, size in read_batches(
            path, log_formats()[fmt_name], options, strict, ingest_id, sqlite
        ):
            if kind == "rows":
                kind, content = "packed", marshal.dumps(dict(content))
            send.send((kind, content, size))
    except IsoSocialError as exc:
        send.send(("error", exc, None))
    except BaseException as exc:  # reported to the parent, which raises it
        send.send(("error", IngestError(path, f"reading stopped on a {type(exc).__name__}"), None))
    finally:
        send.close()
