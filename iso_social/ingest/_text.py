"""Reading delimited text faithfully: encodings by byte-order mark, and CSV rows with their
physical line numbers, where a bare carriage return inside a field is text, not a line end.

Files that went through Excel or pandas often hold an unquoted `\\r` inside a tweet; the csv
module would split the record there. Lines are split on `\\n` only, a lone `\\r` is protected
while the row is parsed and restored afterwards, so the text is kept exactly.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterator
from typing import BinaryIO

from iso_social.ingest.base import Rejection

_CHUNK = 1 << 16
_UNDECODABLE = re.compile("[\udc80-\udcff]")
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
    """Decoded physical lines, split on `\n` only; the stream is left open.

    UTF-16 goes through an incremental decoder rather than a `TextIOWrapper`: a wrapper owns
    the stream it wraps, and one left behind by an abandoned generator would close it."""
    if encoding == "utf-16":
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
        pending = ""
        while chunk := stream.read(_CHUNK):
            pending += decoder.decode(chunk)
            *complete, pending = pending.split("\n")
            for line in complete:
                yield line + "\n"
        pending += decoder.decode(b"", final=True)
        if pending:
            yield pending
        return
    for number, raw in enumerate(stream):
        if number == 0:
            raw = raw.removeprefix(codecs.BOM_UTF8)
        # undecodable bytes become lone surrogates; csv_rows rejects the rows holding them
        yield raw.decode("utf-8", "surrogateescape")


def csv_rows(
    stream: BinaryIO, encoding: str = "utf-8-sig", delimiter: str = ","
) -> Iterator[tuple[int, list[str]] | Rejection]:
    """Yield `(first physical line, cells)` for every row. A row that is not valid text in
    `encoding`, or that the csv module refuses (a field over its size limit), is yielded as a
    `Rejection` with its line, and reading goes on with the next row; nothing is dropped."""
    lines = (_protect(line) for line in _text_lines(stream, encoding))
    reader = csv.reader(lines, delimiter=delimiter, strict=False)
    line = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield Rejection.of(line, f"malformed CSV row ({exc})", b"")
            line = reader.line_num + 1
            continue
        except UnicodeDecodeError as exc:  # UTF-16 cut in the middle of a character
            yield Rejection.of(line, f"not valid {encoding} from here on ({exc.reason})", b"")
            return
        cells = [cell.replace(_PLACEHOLDER, "\r") for cell in row]
        if any(_UNDECODABLE.search(cell) for cell in cells):
            raw = ",".join(cells).encode("utf-8", "surrogateescape")
            yield Rejection.of(line, "not valid UTF-8: save the file as UTF-8", raw)
        else:
            yield line, cells
        line = reader.line_num + 1


def header_of(head: bytes) -> list[str]:
    """The header row's cells from a file's first bytes (for sniffing)."""
    text = decode_head(head)
    first = text.split("\n", 1)[0].rstrip("\r")
    return [cell.strip() for cell in next(csv.reader([first]), [])]
