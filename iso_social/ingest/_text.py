"""Reading delimited text faithfully: encodings by byte-order mark, and CSV rows with their
physical line numbers, where a bare carriage return inside a field is text, not a line end.

Files that went through Excel or pandas often hold an unquoted `\\r` inside a tweet; the csv
module would split the record there. Lines are split on `\\n` only, a lone `\\r` is protected
while the row is parsed and restored afterwards, so the text is kept exactly.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from typing import BinaryIO

_PLACEHOLDER = "\ue000"  # a private-use character that never occurs in real text


def sniff_encoding(head: bytes) -> str:
    """`utf-16` for a UTF-16 byte-order mark, else `utf-8-sig` (which also reads plain UTF-8)."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return "utf-8-sig"


def decode_head(head: bytes) -> str:
    """The first bytes of a file as text, tolerant of a cut multi-byte character."""
    return head.decode(sniff_encoding(head), errors="replace")


def _protect(line: str) -> str:
    if line.endswith("\r\n"):
        body, ending = line[:-2], "\r\n"
    elif line.endswith("\n"):
        body, ending = line[:-1], "\n"
    else:
        body, ending = line, ""
    return body.replace("\r", _PLACEHOLDER) + ending


def _text_lines(stream: BinaryIO, encoding: str) -> Iterator[str]:
    """Decoded physical lines, split on `\n` only; the stream is left open."""
    if encoding == "utf-16":
        text = io.TextIOWrapper(stream, encoding=encoding, errors="strict", newline="\n")
        try:
            yield from text
        finally:
            text.detach()  # a collected wrapper would close the caller's stream
        return
    for number, raw in enumerate(stream):
        if number == 0:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        yield raw.decode("utf-8")


def csv_rows(
    stream: BinaryIO, encoding: str = "utf-8-sig", delimiter: str = ","
) -> Iterator[tuple[int, list[str]]]:
    """Yield `(first physical line, cells)` for every row; raises UnicodeDecodeError or
    csv.Error where the file cannot be read."""
    lines = (_protect(line) for line in _text_lines(stream, encoding))
    reader = csv.reader(lines, delimiter=delimiter, strict=False)
    line = 1
    for row in reader:
        yield line, [cell.replace(_PLACEHOLDER, "\r") for cell in row]
        line = reader.line_num + 1


def header_of(head: bytes) -> list[str]:
    """The header row's cells from a file's first bytes (for sniffing)."""
    text = decode_head(head)
    first = text.split("\n", 1)[0].rstrip("\r")
    return [cell.strip() for cell in next(csv.reader([first]), [])]
