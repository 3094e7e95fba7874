"""What the text scanners found per conversation (`scan_result`), kept between checks.

A check reads the rows of its window's conversations for the scanners its controls use
(`kept_scans`); the controls take a row whose fingerprint matches the conversation as read
and scan the others (`iso_social.controls.base.Scans`); the check then writes what it scanned
(`keep_scans`), replacing stale rows. Rows are derived data, never evidence: deleting them
only makes the next check scan again. A retention purge deletes the rows of the
conversations it blanks (`iso_social.evidence.retention`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy.engine import Connection

from iso_social.store.repository import IN_CHUNK, copy_rows
from iso_social.store.tables import SCAN_RESULT

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
    connection: Connection, conversations: Iterable[str], scanners: Iterable[str]
) -> dict[str, dict[str, tuple[str, str | None]]]:
    """The kept rows of the named conversations (ids) for each of `scanners` (keys): by
    scanner key, then conversation id, the fingerprint and what was found (JSON, or None for
    nothing). Read by the ids in chunks, each a search of the table's primary key: joining the
    conversation table to select the window's rows again cost three times as much."""
    keys = sorted(set(scanners))
    kept: dict[str, dict[str, tuple[str, str | None]]] = {key: {} for key in keys}
    if not keys:
        return kept
    ids = list(conversations)
    sqlite = connection.dialect.name == "sqlite"
    chunk, mark = (IN_CHUNK, "?") if sqlite else (20 * IN_CHUNK, "%s")
    driver = connection.connection.driver_connection  # rows as the driver gives them:
    assert driver is not None  # noqa: S101 (a connection in use has one)
    cursor = driver.cursor()  # SQLAlchemy's result rows doubled the cost of this read
    try:
        for start in range(0, len(ids), chunk):
            part = ids[start : start + chunk]
            sql = (
                "SELECT scanner, conversation_id, fingerprint, found FROM scan_result "  # noqa: S608 (placeholders only)
                f"WHERE conversation_id IN ({', '.join([mark] * len(part))}) "
                f"AND scanner IN ({', '.join([mark] * len(keys))})"
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
        copy_rows(connection, SCAN_RESULT.name, _COLUMNS, ordered, _REPLACE)
    else:
        connection.exec_driver_sql(_UPSERT, ordered)
    return len(ordered)


def forget_scans(connection: Connection, conversations: Any) -> int:
    """Delete the rows of the conversations selected by `conversations` (a query of their ids);
    the rows deleted."""
    result = connection.execute(
        SCAN_RESULT.delete().where(SCAN_RESULT.c.conversation_id.in_(conversations))
    )
    return int(result.rowcount)
