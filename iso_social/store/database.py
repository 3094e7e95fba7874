"""Engines and transactions: SQLite (WAL, busy timeout, owner-only file) or PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, ExceptionContext, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DatabaseError,
    IntegrityError,
    OperationalError,
    SQLAlchemyError,
)

from iso_social.errors import StoreError
from iso_social.store import tables  # noqa: F401  (registers the tables on SQLModel.metadata)

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_CACHE_KIB = 65_536  # per connection, allocated as pages are read


def _normalise(url: str) -> str:
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _prepare_sqlite_file(database: str | None) -> None:
    """Create the database file owner-only (it holds customer messages) and check its folder."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    if not path.parent.exists():
        raise StoreError(
            f"{path}: the folder {path.parent} does not exist",
            hint="create it, or pass another --db sqlite:///PATH",
        )
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # a page cache of 64 MiB, not SQLite's 2 MiB: a large ingest's index pages stay in memory
    # (its inserts 15% faster over a million messages) and checks re-read fewer pages
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()
    dbapi_connection.isolation_level = None


def _postgresql_session(dbapi_connection: Any, _record: Any) -> None:
    """Each session in UTC, whatever the server's or the user's default: psycopg then gives
    timestamps in `datetime.UTC` as the domain keeps them (converting each of a window's
    million took a twentieth of reading it), and any date arithmetic in SQL agrees with
    SQLite's, which stores UTC. Set outside a transaction, so a rollback keeps it."""
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True
    dbapi_connection.execute("SET TIME ZONE 'UTC'")
    dbapi_connection.autocommit = autocommit


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; raises `StoreError` with a hint when the URL or driver is unusable."""
    try:
        parsed = make_url(_normalise(url))
    except ArgumentError as exc:
        raise StoreError(
            f"--db: '{url}' is not a database URL",
            hint="use sqlite:///iso_social.db or postgresql://user@host:5432/dbname",
        ) from exc
    if parsed.get_backend_name() == "sqlite":
        _prepare_sqlite_file(parsed.database)
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "handle_error", _unusable_database)
        # let SQLAlchemy, not pysqlite, decide where transactions begin (atomic ingest);
        # the recipe from SQLAlchemy's "Serializable isolation / Savepoints" section
        event.listen(engine, "begin", _begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        try:
            engine = create_engine(parsed, pool_pre_ping=True, **kwargs)
        except ModuleNotFoundError as exc:
            raise StoreError(
                "PostgreSQL needs the psycopg driver", hint='pip install "iso-social[postgres]"'
            ) from exc
        event.listen(engine, "connect", _postgresql_session)
        event.listen(engine, "handle_error", _unusable_database)
        return engine
    raise StoreError(
        f"--db: unsupported database '{parsed.get_backend_name()}'",
        hint="use sqlite:///PATH or postgresql://user@host/dbname",
    )


def _unusable_database(context: ExceptionContext) -> None:
    """Report a database that cannot be used at all (not a database, damaged, unreachable,
    out of space) as a `StoreError` naming the cause, wherever the statement was; errors the
    code handles itself (integrity, for example) pass through unchanged."""
    error = context.sqlalchemy_exception
    if isinstance(error, IntegrityError) or not isinstance(error, OperationalError | DatabaseError):
        return
    if context.is_disconnect and context.connection is not None:
        return  # the pool may reconnect
    cause = _describe(error)
    if "locked" in cause or "busy" in cause:
        seconds = SQLITE_BUSY_TIMEOUT_MS // 1000
        hint = (
            f"another command held the database for longer than the {seconds} s busy timeout; "
            "run it again when that one ends, or use PostgreSQL for many concurrent writers"
        )
    else:
        hint = "check --db / ISO_SOCIAL_DB points at an iso-social database and the server runs"
    raise StoreError(f"cannot use the database: {cause}", hint=hint) from error


_WRITE = "iso_social_write"


def _begin(connection: Connection) -> None:
    """Writers take SQLite's write lock up front (BEGIN IMMEDIATE), so two writers queue on the
    busy timeout instead of failing on a lock upgrade; readers begin deferred and, in WAL mode,
    never wait for a writer (a check runs while an ingest loads)."""
    write = connection.get_execution_options().get(_WRITE, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


@contextmanager
def opened_engine(url: str) -> Iterator[Engine]:
    """An engine for `url` whose connections are closed when the block ends."""
    engine = make_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def create_schema(engine: Engine) -> None:
    """Make sure the schema is current: create a new database, or upgrade an older one to the
    newest revision (store/migrations). A read when it is current, so commands that only read
    never wait for a writer's lock."""
    from iso_social.store import migrations

    try:
        with engine.connect() as connection:
            current = migrations.revision(connection)
        if current == migrations.HEAD:
            return
        migrations.upgrade(engine)
    except OperationalError as exc:
        raise StoreError(
            f"cannot open the database: {_describe(exc)}",
            hint="check --db / ISO_SOCIAL_DB and that the server is running",
        ) from exc


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One atomic unit of work: everything inside commits together or not at all."""
    try:
        with engine.connect() as connection:
            connection.execution_options(**{_WRITE: True})
            with connection.begin():
                yield connection
    except OperationalError as exc:
        raise StoreError(
            f"database error: {_describe(exc)}",
            hint="check --db / ISO_SOCIAL_DB and that the server is running",
        ) from exc


def _describe(exc: SQLAlchemyError) -> str:
    """The driver's message without SQL or parameters (parameters may hold customer text)."""
    original = getattr(exc, "orig", None)
    text = str(original) if original is not None else type(exc).__name__
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__
