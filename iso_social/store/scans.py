"""What the text scanners found per conversation (`scan_result`), kept between checks.

A check reads the rows of its window's conversations for the scanners its controls use
(`kept_scans`); the controls take a row whose fingerprint matches the conversation as read
and scan the others (`iso_social.controls.base.Scans`); the check then writes what it scanned
(`keep_scans`), replacing stale rows. Rows are derived data, never evidence: deleting them
only makes the next check scan again. A retention purge deletes the rows of the
conversations it blanks (`iso_social.evidence.retention`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Connection

from iso_social.domain import Conversation, Window
from iso_social.store.repository import IN_CHUNK, copy_rows, driver_rows, run_filter
from iso_social.store.tables import CONVERSATION, SCAN_RESULT

_COLUMNS = ("conversation_id", "scanner", "fingerprint", "found")
_REPLACE = (
    "ON CONFLICT (conversation_id, scanner) DO UPDATE SET "
    "fingerprint = excluded.fingerprint, found = excluded.found"
)
_UPSERT = (
    "INSERT INTO scan_result (conversation_id, scanner, fingerprint, found) "
    "VALUES (?, ?, ?, ?) " + _REPLACE
)


def kept_scans(
    connection: Connection,
    scanners: Iterable[str],
    conversations: Sequence[Conversation],
    window: Window,
    between: tuple[str | None, str | None] = (None, None),
) -> dict[str, dict[str, tuple[str, str | None]]]:
    """The kept rows of the window's conversations as `conversations_in` read them (with the
    window and `between` it was given) for each of `scanners` (keys): by scanner key, then
    conversation id, the fingerprint and what was found (JSON, or None for nothing).

    SQLite reads them by the ids, in chunks, each a search of the table's primary key
    (selecting the window's conversations again to join them took three times as long);
    PostgreSQL joins the window's conversations (a hash join: 0.4 s for a million messages'
    window, against 2.1 s for the ids in lists)."""
    keys = sorted(set(scanners))
    kept: dict[str, dict[str, tuple[str, str | None]]] = {key: {} for key in keys}
    if not keys:
        return kept
    if connection.dialect.name != "sqlite":
        scan, conv = SCAN_RESULT, CONVERSATION
        query = (
            select(scan.c.scanner, scan.c.conversation_id, scan.c.fingerprint, scan.c.found)
            .join(conv, conv.c.conversation_id == scan.c.conversation_id)
            .where(run_filter(connection, window, between), scan.c.scanner.in_(keys))
        )
        for scanner, cid, fingerprint, found in driver_rows(connection, query, stream=False):
            kept[scanner][cid] = (fingerprint, found)
        return kept
    ids = [c.conversation_id for c in conversations]
    driver = connection.connection.driver_connection  # rows as the driver gives them:
    assert driver is not None  # noqa: S101 (a connection in use has one)
    cursor = driver.cursor()  # SQLAlchemy's result rows doubled the cost of this read
    try:
        for start in range(0, len(ids), IN_CHUNK):
            part = ids[start : start + IN_CHUNK]
            sql = (
                "SELECT scanner, conversation_id, fingerprint, found FROM scan_result "  # noqa: S608 (placeholders only)
                f"WHERE conversation_id IN ({', '.join('?' * len(part))}) "
                f"AND scanner IN ({', '.join('?' * len(keys))})"
            )
            cursor.execute(sql, (*part, *keys))
            for scanner, cid, fingerprint, found in cursor.fetchall():
                kept[scanner][cid] = (fingerprint, found)
    finally:
        cursor.close()
    return kept


def keep_scans(connection: Connection, rows: Iterable[tuple[str, str, str, str | None]]) -> int:
    """Write what a check scanned (scanner key, conversation id, fingerprint, found), each
    replacing the row kept for the same conversation and scanner; the rows written. The same
    key twice (two workers that scanned it) is written once."""
    unique: dict[tuple[str, str], Any] = {}
    for scanner, cid, fingerprint, found in rows:
        unique[cid, scanner] = (cid, scanner, fingerprint, found)
    ordered = [unique[key] for key in sorted(unique)]  # in the table's order: cheaper inserts
    if not ordered:
        return 0
    if connection.dialect.name == "postgresql":
        # straight into the table when none is there yet (a first check: half the server's
        # work), else through a staging table that replaces the stale rows
        if copy_rows(connection, SCAN_RESULT, _COLUMNS, ordered, _REPLACE, direct=True) is None:
            copy_rows(connection, SCAN_RESULT, _COLUMNS, ordered, _REPLACE)
    else:
        connection.exec_driver_sql(_UPSERT, ordered)
    return len(ordered)


def forget_other_versions(connection: Connection, version: str) -> int:
    """Delete the rows kept under another version of iso-social than `version` (a scanner's
    key names it: `name/scanner version/iso-social version/digest`): no check of this version
    reads them; the rows deleted."""
    pattern = "%/" + version.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "/%"
    result = connection.execute(
        SCAN_RESULT.delete().where(SCAN_RESULT.c.scanner.not_like(pattern, escape="\\"))
    )
    return int(result.rowcount)


def forget_scans(connection: Connection, conversations: Any) -> int:
    """Delete the rows of the conversations selected by `conversations` (a query of their ids);
    the rows deleted."""
    result = connection.execute(
        SCAN_RESULT.delete().where(SCAN_RESULT.c.conversation_id.in_(conversations))
    )
    return int(result.rowcount)
