"""Loading one or more log files into the store in a single transaction.

The file is read once: its SHA-256 is computed from the same bytes the parser reads. Records are
stored in batches; any failure rolls the whole load back, so a crash midway leaves the database
as it was. With `strict`, a single rejected record aborts the load the same way.
"""

from __future__ import annotations

import marshal
import multiprocessing
import os
import pickle
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.engine import Connection

from iso_social.domain import now_utc
from iso_social.errors import IngestError
from iso_social.ingest import (
    IngestOptions,
    LogFormat,
    Rejection,
    log_formats,
)
from iso_social.store import repository
from iso_social.store.database import create_schema, transaction
from iso_social.store.reading import Batch, Reading, read_batches, read_in_worker
from iso_social.store.rows import Rows

RECEIVE_AHEAD = 4  # batches a worker's pipe is read ahead of storing (about 1 MB each)
MAX_REPORTED_REJECTIONS = 1_000


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


WORKER_MIN_BYTES = 16 << 20  # smaller files load before a worker's interpreter has started


def _worker_suits(path: Path, fmt: LogFormat) -> bool:
    """A file large enough to gain from a second process reading it, on a machine with a
    second core, in a format the worker can look up by name."""
    try:
        size = path.stat().st_size
    except OSError:
        return False  # `read_batches` reports the unreadable file
    return (
        size >= WORKER_MIN_BYTES
        and (os.cpu_count() or 1) > 1
        and log_formats().get(fmt.name) is fmt
    )


@contextmanager
def _worker_batches(
    path: Path, fmt: LogFormat, options: IngestOptions, strict: bool, ingest_id: int, sqlite: bool
) -> Iterator[Iterator[Batch]]:
    """`read_batches` run by a worker process (a fresh interpreter: nothing of this process, its
    database connection included, is shared) while this one stores what it sends."""
    context = multiprocessing.get_context("spawn")
    receiving, sending = context.Pipe(duplex=False)
    worker = context.Process(
        target=read_in_worker,
        args=(sending, path, fmt.name, options, strict, ingest_id, sqlite),
        daemon=True,
    )
    try:
        worker.start()
    except (OSError, pickle.PicklingError, TypeError, AttributeError):
        receiving.close()  # no second process to be had, or options it cannot be sent
        sending.close()
        yield read_batches(path, fmt, options, strict, ingest_id, sqlite)
        return
    sending.close()  # the worker holds the other end: its exit ends the stream

    ahead: queue.Queue[bytes | None] = queue.Queue(maxsize=RECEIVE_AHEAD)
    stop = threading.Event()

    def pump() -> None:
        """Take the worker's batches off the pipe as it sends them (the read releases the
        GIL): the worker sends its next batch while this process stores the last, and
        neither waits for the other unless one is `RECEIVE_AHEAD` batches ahead. None once
        the worker has closed its end (after its last batch, or when it died)."""
        while True:
            try:
                data: bytes | None = receiving.recv_bytes()
            except Exception:  # EOF, a closed pipe: the worker is gone
                data = None
            while not stop.is_set():
                try:
                    ahead.put(data, timeout=0.1)
                    break
                except queue.Full:
                    continue
            if data is None or stop.is_set():
                return

    receiver = threading.Thread(target=pump, name="iso-social ingest receiver", daemon=True)

    def received() -> Iterator[Batch]:
        while True:
            data = ahead.get()
            if data is None:
                raise IngestError(path, "the process reading the file stopped unexpectedly")
            # our own worker's pickles over a private pipe, as `Connection.recv` reads them
            batch = pickle.loads(data)  # noqa: S301
            if batch[0] == "error":
                raise batch[1]
            if batch[0] == "packed":
                batch = ("rows", marshal.loads(batch[1]), batch[2])  # noqa: S302 (the same)
            yield batch
            if batch[0] == "done":
                return

    try:
        receiver.start()
        yield received()
    finally:
        stop.set()
        if worker.is_alive():
            worker.kill()  # the load failed here: the worker's rows are not wanted
        worker.join()
        if receiver.ident is not None:  # started: it sees the worker's end closed, or `stop`
            receiver.join()
        receiving.close()


class _FileLoad:
    """The state of loading one file: the running summary, stored batch by batch."""

    def __init__(self, connection: Connection, path: Path, fmt: LogFormat) -> None:
        self.connection, self.path = connection, path
        self.summary = FileSummary(str(path), fmt.name)
        self.ingest_id = repository.begin_ingest(connection, str(path), fmt.name, now_utc())
        self.rejected: list[Rejection] = []
        self.conversations: set[str] = set()
        self.spans = repository.ConversationSpans()  # written by `finish`
        self.gather = repository.rows_per_store(connection)
        self.waiting: Rows = {}  # rows of a kind gathered until `gather`

    def store(self, rows: Rows) -> None:
        """Store a batch's rows, or gather them until there are `gather` of a kind (the rest
        by `flush`)."""
        if self.gather <= 1:
            self._store(rows)
            return
        ready: Rows = {}
        for kind, part in rows.items():
            waiting = self.waiting.setdefault(kind, [])
            waiting += part
            if len(waiting) >= self.gather:
                ready[kind] = self.waiting.pop(kind)
        if ready:
            self._store(ready)

    def flush(self) -> None:
        """Store the rows still gathered."""
        waiting, self.waiting = self.waiting, {}
        if waiting:
            self._store(waiting)

    def _store(self, rows: Rows) -> None:
        result = repository.store_rows(self.connection, self.ingest_id, rows, self.spans)
        summary = self.summary
        summary.messages_stored += result.stored["message"]
        summary.other_stored += sum(n for kind, n in result.stored.items() if kind != "message")
        summary.duplicates += result.duplicates
        summary.conflicts += len(result.conflicts)
        self.rejected.extend(result.conflicts)
        self.conversations.update(result.conversation_ids)

    def finish(self, reading: Reading) -> FileSummary:
        self.spans.write(self.connection)
        summary = self.summary
        summary.records_read = reading.records_read
        summary.first_at, summary.last_at = reading.first_at, reading.last_at
        rejected = sorted(self.rejected + reading.rejected, key=lambda r: r.line)
        repository.save_rejections(self.connection, self.ingest_id, rejected)
        summary.sha256, summary.size = reading.sha256, reading.size
        summary.rejected_count = len(rejected)
        summary.rejected = rejected[:MAX_REPORTED_REJECTIONS]
        summary.conversations = len(self.conversations)
        repository.finish_ingest(
            self.connection,
            self.ingest_id,
            sha256=reading.sha256,
            size=reading.size,
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
    worker: bool | None,
) -> FileSummary:
    """Read and store one file. With `worker` (None: when `_worker_suits` the file) a second
    process parses the file and builds the rows while this one stores them: the same rows
    in the same order, in this process's transaction."""
    load = _FileLoad(connection, path, fmt)
    args = (path, fmt, options, strict, load.ingest_id, connection.dialect.name == "sqlite")
    use_worker = _worker_suits(path, fmt) if worker is None else worker
    with _worker_batches(*args) if use_worker else nullcontext(read_batches(*args)) as batches:
        reading = Reading()
        for kind, content, size in batches:
            if kind == "done":
                reading = content
                break
            load.store(content)
            if progress:
                progress(str(path), size)
    load.flush()
    if strict and load.summary.conflicts:
        first = min(load.rejected, key=lambda r: r.line)
        raise IngestError(
            path,
            first.reason,
            line=first.line,
            hint="nothing was stored; --strict refuses conflicting records",
        )
    return load.finish(reading)


def load_files(
    engine: Engine,
    paths: Sequence[Path],
    formats: Sequence[LogFormat],
    options: IngestOptions,
    *,
    strict: bool = False,
    progress: Progress | None = None,
    worker: bool | None = None,
) -> IngestSummary:
    """Load every file in one transaction; return per-file summaries. `worker`: read each file
    in a second process (None: files of 16 MiB or more, where there is a second core)."""
    create_schema(engine)
    with transaction(engine) as connection:
        summaries = [
            _load_file(connection, path, fmt, options, strict, progress, worker)
            for path, fmt in zip(paths, formats, strict=True)
        ]
    return IngestSummary(summaries)
