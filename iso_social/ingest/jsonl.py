"""Canonical JSON Lines: one record per line (see docs/log-format.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import BinaryIO, ClassVar

import orjson

from iso_social.ingest.base import (
    IngestOptions,
    Parsed,
    ParsedRecord,
    PlainMessage,
    Rejection,
)
from iso_social.ingest.canonical import (
    RecordInvalid,
    plain_message_json,
    record_from_mapping,
    record_json,
)

_BOM = b"\xef\xbb\xbf"
MAX_LINE_BYTES = 4 * 1024 * 1024


class JsonLines:
    """Canonical records as JSON objects, one per line; blank lines are ignored."""

    name: ClassVar[str] = "jsonl"
    description: ClassVar[str] = "canonical records, JSON Lines"
    suffixes: ClassVar[tuple[str, ...]] = (".jsonl", ".ndjson", ".json")

    def sniff(self, head: bytes) -> bool:
        """A JSON object on the first non-blank line with a canonical `kind` or message field."""
        for raw in head.removeprefix(_BOM).splitlines():
            line = raw.strip()
            if not line:
                continue
            if not line.startswith(b"{"):
                return False
            try:
                first = json.loads(line)
            except ValueError:
                # the head may cut a long first line: look for the canonical keys instead
                return b'"kind"' in line and b'"conversation_id"' in line
            return isinstance(first, dict) and (
                first.get("kind") in ("message", "status", "escalation", "call")
                or {"message_id", "conversation_id", "direction"} <= first.keys()
            )
        return False

    def parse(self, stream: BinaryIO, options: IngestOptions) -> Iterator[Parsed]:
        """Yield one parsed record or rejection per non-blank line."""
        for item in self.parse_plain(stream, options):
            yield item.parsed() if isinstance(item, PlainMessage) else item

    def parse_plain(
        self, stream: BinaryIO, options: IngestOptions
    ) -> Iterator[Parsed | PlainMessage]:
        """`parse`, with each message written exactly as documented as a `PlainMessage`."""
        for number, raw in enumerate(stream, start=1):
            if number == 1:
                raw = raw.removeprefix(_BOM)
            if raw.isspace() or not raw:  # blank (`strip()` would copy each line to tell)
                continue
            if len(raw) > MAX_LINE_BYTES:
                yield Rejection.of(number, f"line longer than {MAX_LINE_BYTES} bytes", raw)
                continue
            plain = plain_message_json(raw, number)
            if plain is not None:  # most lines: decoded and checked in one pass
                yield plain
                continue
            other = record_json(raw)
            if other is not None:  # statuses and calls written as documented: the same
                yield ParsedRecord(number, other)
                continue
            try:
                data = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                yield Rejection.of(number, _json_reason(exc.msg), raw)
                continue
            if type(data) is not dict:
                yield Rejection.of(number, "a record must be a JSON object {...}", raw)
                continue
            try:
                yield ParsedRecord(number, record_from_mapping(data, options.assume_tz))
            except RecordInvalid as exc:
                yield Rejection.of(number, str(exc), raw)


def _json_reason(error: str) -> str:
    """orjson's error as a rejection reason (orjson names no value, only what went wrong)."""
    if "UTF-8" in error:
        return "not valid UTF-8: save the file as UTF-8"
    if "depth limit" in error:
        return "JSON nested too deeply"
    return f"not valid JSON ({error.split(':')[0]})"
