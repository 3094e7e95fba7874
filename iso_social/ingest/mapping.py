"""Mapping files: how the columns of an arbitrary CSV export become canonical fields.

    # mapping.yaml, used as: iso-social ingest export.csv --format csv --mapping mapping.yaml
    kind: message                     # the kind of every row (or `kind: {column: Type}`)
    fields:
      message_id: Comment ID          # canonical field: the CSV column holding it
      conversation_id: Ticket ID
      created_at: Created
      text: Body
      author: Author
      direction: {column: Type, values: {Customer: inbound, Agent: outbound, Note: internal}}
      author_role: {column: Type, values: {Customer: customer, Agent: agent, Note: agent}}
      channel: {value: email}         # a constant
      visibility: {value: private}
    timestamp_format: "%d/%m/%Y %H:%M"   # strptime format, when not ISO 8601
    delimiter: ";"

A field is a column name, `{column: NAME, values: {...}}` to translate values, or
`{value: CONSTANT}`. Rows are then validated exactly like canonical records.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from iso_social.errors import IngestError
from iso_social.ingest.canonical import ALL_COLUMNS

_TIME_FIELDS = ("created_at", "offered_at", "answered_at", "ended_at")


class FieldSource(BaseModel):
    """Where one canonical field comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str | None = None
    value: str | None = None
    values: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_source(self) -> FieldSource:
        if (self.column is None) == (self.value is None):
            raise ValueError("give either `column` or `value`")
        return self


class ColumnMapping(BaseModel):
    """A mapping file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str | FieldSource = "message"
    fields: dict[str, str | FieldSource]
    timestamp_format: str | None = None
    delimiter: str = Field(default=",", min_length=1, max_length=1)

    @model_validator(mode="after")
    def _known_fields(self) -> ColumnMapping:
        unknown = [f for f in self.fields if f not in ALL_COLUMNS]
        if unknown:
            raise ValueError(f"'{unknown[0]}' is not a canonical field (see docs/log-format.md)")
        return self

    def source(self, name: str) -> FieldSource | None:
        """The source of a canonical field."""
        value = self.fields.get(name)
        return FieldSource(column=value) if isinstance(value, str) else value

    def columns(self) -> set[str]:
        """Every CSV column the mapping reads."""
        sources = [self.source(n) for n in self.fields]
        kind = self.kind if isinstance(self.kind, FieldSource) else None
        return {s.column for s in [*sources, kind] if s is not None and s.column is not None}

    def record(self, row: Mapping[str, str]) -> dict[str, Any]:
        """The canonical record of one CSV row (validated by the caller)."""
        data: dict[str, Any] = {}
        kind = self.kind
        data["kind"] = _value(kind, row) if isinstance(kind, FieldSource) else kind
        for name in self.fields:
            source = self.source(name)
            assert source is not None  # noqa: S101
            value = _value(source, row)
            if value and name in _TIME_FIELDS and self.timestamp_format:
                try:
                    # naive on purpose: --assume-tz (or an offset in the format) decides
                    parsed = datetime.strptime(value, self.timestamp_format)  # noqa: DTZ007
                    value = parsed.isoformat()
                except ValueError as exc:
                    raise ValueError(
                        f"{name}: '{source.column}' does not match "
                        f"timestamp_format {self.timestamp_format}"
                    ) from exc
            data[name] = value
        return data


def _value(source: FieldSource, row: Mapping[str, str]) -> str:
    if source.value is not None:
        return source.value
    assert source.column is not None  # noqa: S101
    raw = row.get(source.column, "").strip()
    return source.values.get(raw, raw) if source.values else raw


def load_mapping(path: Path) -> ColumnMapping:
    """Read and validate a mapping file; errors name the file and the field."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise IngestError(path, f"cannot read the mapping file ({exc.strerror})") from exc
    except yaml.YAMLError as exc:
        raise IngestError(
            path, "the mapping file is not valid YAML", hint="check the indentation and quoting"
        ) from exc
    try:
        return ColumnMapping.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_input=False, include_url=False)
        # of a union's failed branches, the structured one explains the problem
        first = next((e for e in errors if e["type"] != "string_type"), errors[0])
        where = (
            ".".join(str(p) for p in first["loc"] if "[" not in str(p) and p != "str") or "fields"
        )
        problem = str(first["msg"]).removeprefix("Value error, ")
        raise IngestError(
            path,
            f"{where}: {problem}",
            hint="see the mapping file example in docs/log-format.md",
        ) from exc
