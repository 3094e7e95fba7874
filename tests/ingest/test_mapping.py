"""CSV exports in other layouts, through a mapping file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from iso_social import pipeline
from iso_social.domain import Window
from iso_social.errors import IngestError
from iso_social.store import repository
from iso_social.store.database import opened_engine

EXPORT = """\
Ticket;Comment;Created;Type;Who;Body
T-1;c1;01/10/2026 10:00;Customer;ana@example.com;"My card = blocked; help"
T-1;c2;01/10/2026 11:30;Agent;bo@acme;We unblocked it
T-2;c3;32/10/2026 10:00;Customer;x@y;bad date
"""
MAPPING = """\
kind: message
fields:
  message_id: Comment
  conversation_id: Ticket
  created_at: Created
  text: Body
  author: Who
  direction: {column: Type, values: {Customer: inbound, Agent: outbound}}
  author_role: {column: Type, values: {Customer: customer, Agent: agent}}
  channel: {value: email}
  visibility: {value: private}
timestamp_format: "%d/%m/%Y %H:%M"
delimiter: ";"
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    export, mapping = tmp_path / "export.csv", tmp_path / "map.yaml"
    export.write_text(EXPORT, encoding="utf-8")
    mapping.write_text(MAPPING, encoding="utf-8")
    return export, mapping


def test_mapped_export_is_validated_like_canonical_records(
    files: tuple[Path, Path], db_url: str
) -> None:
    export, mapping = files
    summary = pipeline.ingest_logs(
        [export], db=db_url, mapping=mapping, assume_tz="Europe/Madrid"
    ).files[0]
    assert (summary.messages_stored, summary.rejected_count) == (2, 1)
    assert summary.rejected[0].line == 4 and "timestamp_format" in summary.rejected[0].reason
    with opened_engine(db_url) as engine, engine.connect() as connection:
        window = Window(datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC))
        (conversation,) = repository.conversations_in(connection, window)
    first, reply = conversation.messages
    assert first.created_at == datetime(2026, 10, 1, 8, 0, tzinfo=UTC)  # CEST
    assert first.text == "My card = blocked; help" and reply.direction.value == "outbound"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("  text: Body", "  txt: Body"), "fields: 'txt' is not a canonical field"),
        (("  channel: {value: email}", "  channel: {}"), "give either `column` or `value`"),
        (('delimiter: ";"', 'delimiter: ";;"'), "delimiter"),
    ],
)
def test_bad_mapping_files_are_explained(
    files: tuple[Path, Path], tmp_path: Path, change: tuple[str, str], message: str
) -> None:
    export, mapping = files
    mapping.write_text(MAPPING.replace(*change), encoding="utf-8")
    with pytest.raises(IngestError, match=message) as caught:
        pipeline.ingest_logs([export], db=f"sqlite:///{tmp_path / 'm.db'}", mapping=mapping)
    assert str(mapping) in str(caught.value)


def test_a_column_missing_from_the_export(files: tuple[Path, Path], tmp_path: Path) -> None:
    export, mapping = files
    mapping.write_text(MAPPING.replace("Who", "Author"), encoding="utf-8")
    summary = pipeline.ingest_logs(
        [export], db=f"sqlite:///{tmp_path / 'm.db'}", mapping=mapping
    ).files[0]
    assert (
        "column 'Author' named in the mapping file is not in the header"
        in summary.rejected[0].reason
    )
