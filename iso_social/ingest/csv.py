"""Canonical records as CSV: the same columns as the JSON Lines format, one record per row."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO, ClassVar

from iso_social.ingest._text import csv_rows, header_of, sniff_encoding
from iso_social.ingest.base import IngestOptions, Parsed, ParsedRecord, Rejection
from iso_social.ingest.canonical import ALL_COLUMNS, RecordInvalid, record_from_mapping

_REQUIRED_ANY = ({"message_id", "conversation_id"}, {"call_id"}, {"conversation_id", "status"})


class CanonicalCsv:
    """Canonical records in CSV with a header row; empty cells mean 'not given'."""

    name: ClassVar[str] = "csv"
    description: ClassVar[str] = "canonical records, CSV with a header row"
    suffixes: ClassVar[tuple[str, ...]] = (".csv",)

    def sniff(self, head: bytes) -> bool:
        """The header row holds only canonical column names, enough to identify a record kind."""
        header = set(header_of(head))
        return header <= set(ALL_COLUMNS) and any(need <= header for need in _REQUIRED_ANY)

    def parse(self, stream: BinaryIO, options: IngestOptions) -> Iterator[Parsed]:
        """Yield one parsed record or rejection per data row."""
        if options.mapping is not None:
            yield from _mapped(stream, options)
            return
        header: list[str] | None = None
        for item in csv_rows(stream):
            if isinstance(item, Rejection):
                yield item
                continue
            line, row = item
            if header is None:
                header = [c.strip() for c in row]
                unknown = [c for c in header if c not in ALL_COLUMNS]
                if unknown:
                    yield Rejection.of(
                        line,
                        f"unknown column '{unknown[0]}' (canonical "
                        f"columns: {', '.join(ALL_COLUMNS)}); use a mapping "
                        "file for other layouts",
                        ",".join(header),
                    )
                    return
                continue
            if not any(cell.strip() for cell in row):
                continue
            raw = ",".join(row)
            if len(row) != len(header):
                yield Rejection.of(
                    line, f"{len(row)} cells where the header has {len(header)}", raw
                )
                continue
            try:
                record = record_from_mapping(
                    dict(zip(header, row, strict=True)), options.assume_tz, allow_blank_columns=True
                )
            except RecordInvalid as exc:
                yield Rejection.of(line, str(exc), raw)
                continue
            yield ParsedRecord(line, record)


def _mapped(stream: BinaryIO, options: IngestOptions) -> Iterator[Parsed]:
    """Rows of another layout, turned into canonical records by a mapping file."""
    mapping = options.mapping
    encoding = sniff_encoding(stream.read(4))
    stream.seek(0)
    header: list[str] | None = None
    for item in csv_rows(stream, encoding, delimiter=mapping.delimiter):
        if isinstance(item, Rejection):
            yield item
            continue
        line, row = item
        if header is None:
            header = [c.strip() for c in row]
            missing = sorted(mapping.columns() - set(header))
            if missing:
                yield Rejection.of(
                    line,
                    f"column '{missing[0]}' named in the mapping file is not in the header",
                    ",".join(header),
                )
                return
            continue
        if not any(cell.strip() for cell in row):
            continue
        raw = mapping.delimiter.join(row)
        if len(row) != len(header):
            yield Rejection.of(line, f"{len(row)} cells where the header has {len(header)}", raw)
            continue
        try:
            data = mapping.record(dict(zip(header, row, strict=True)))
            record = record_from_mapping(data, options.assume_tz, allow_blank_columns=True)
        except (RecordInvalid, ValueError) as exc:
            yield Rejection.of(line, str(exc), raw)
            continue
        yield ParsedRecord(line, record)
