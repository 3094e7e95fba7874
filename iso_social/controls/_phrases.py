"""Case-insensitive phrase patterns, searched faster in ASCII text.

Python's `re` with `IGNORECASE` compares each character both ways at every position it tries,
and the controls that read what people wrote (hand-off requests, escalation words) search
every public reply or customer message with such patterns. Lowered, an ASCII text keeps every
character where it was and in the same classes (`\\w`, `\\s`, `\\b` see no difference), so a
pattern written in lower case finds, case-sensitively, the same matches at the same positions
in it as it finds case-insensitively in the text itself, in a half to two thirds of the time
(most replies are ASCII). Other text is searched case-insensitively: lowering it may change
its length ("İ" becomes two characters) and `re` folds letters that `str.lower` does not
("ſ" matches "s", the Kelvin sign "k").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

_ESCAPE = re.compile(r"\\.", re.DOTALL)
_ASCII_UPPER = re.compile("[A-Z]")
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class Phrases:
    """A pattern matched regardless of case, its ASCII letters written in lower case (`\\S`,
    `\\W` and other escapes aside): one in upper case would not match the lowered text, so it
    is refused. (Other letters never match ASCII text, in any case.)

    Matches give positions in the text searched; their `group()` may be in lower case."""

    __slots__ = ("_any_case", "_folded", "pattern")

    def __init__(self, pattern: str) -> None:
        upper = _ASCII_UPPER.findall(_ESCAPE.sub("", pattern))
        if upper:
            raise ValueError(
                f"a Phrases pattern is written in lower case (it matches any case); "
                f"found {''.join(upper)!r} in {pattern[:80]!r}"
            )
        self.pattern = pattern
        self._folded = re.compile(pattern)
        self._any_case = re.compile(pattern, re.IGNORECASE)

    @classmethod
    def any_of(cls, words: Iterable[str]) -> Phrases:
        """Any of `words` (or phrases) as a whole word, in any case."""
        escaped = (re.escape(word.translate(_ASCII_LOWER)) for word in words)
        return cls(r"\b(" + "|".join(escaped) + r")\b")

    def search(self, text: str) -> re.Match[str] | None:
        """The first match in `text`, in any case, or None."""
        if text.isascii():
            return self._folded.search(text.lower())
        return self._any_case.search(text)

    def finditer(self, text: str, pos: int = 0) -> Iterator[re.Match[str]]:
        """Every match in `text` from position `pos`, in any case."""
        if text.isascii():
            return self._folded.finditer(text.lower(), pos)
        return self._any_case.finditer(text, pos)

    def __repr__(self) -> str:
        return f"Phrases({self.pattern!r})"
