"""_phrases: case-insensitive patterns find what `re.IGNORECASE` finds, ASCII text lowered."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iso_social.controls._phrases import Phrases
from iso_social.controls.escalation_path import DEFAULT_WORDS
from iso_social.controls.public_to_private_handoff import DATA, NEVER, PRIVATE, VERB
from iso_social.controls.sensitive_data_exposure import REMEDY

SHIPPED = {
    "DATA": DATA,
    "VERB": VERB,
    "NEVER": NEVER,
    "PRIVATE": PRIVATE,
    "REMEDY": REMEDY,
    "escalation words": Phrases.any_of(DEFAULT_WORDS),
}
PIECES = (
    "send",
    "DM us",
    "dms",
    "Can you confirm",
    "your",
    "account number",
    "Date of Birth",
    "PIN",
    "won't ask",
    "NEVER",
    "envía",
    "ENVIA",
    "se envia",
    "nos indicas",
    "número de tarjeta",
    "NUMERO DE TARJETA",
    "https://twitter.com/messages/compose?id=1",
    "take it down",
    "Lawyer",
    "OCU",
    "ocupado",
    "Banco de España",
    "BANCO DE ESPANA",
    "legal action",
    "x",
)
JOINS = (" ", "", ",", "_", "\n", "\x1c", "\u00a0", "é")


def cased(piece: str, flips: list[bool]) -> str:
    """`piece` with the case of its first letters swapped where `flips` says."""
    flips = flips + [False] * (len(piece) - len(flips))
    return "".join(c.swapcase() if flip else c for c, flip in zip(piece, flips, strict=False))


@given(
    st.lists(
        st.tuples(
            st.sampled_from(PIECES),
            st.lists(st.booleans(), max_size=12),
            st.sampled_from(JOINS),
        ),
        max_size=12,
    )
)
def test_the_same_matches_as_a_case_insensitive_search(
    parts: list[tuple[str, list[bool], str]],
) -> None:
    """Texts of the controls' own phrases in any case, joined by white space, punctuation,
    word characters or a non-ASCII letter (which sends the text down the other path): every
    shipped pattern matches at the same places as `re.IGNORECASE` over the text as it is."""
    text = "".join(cased(piece, flips) + join for piece, flips, join in parts)
    for name, phrases in SHIPPED.items():
        expected = re.compile(phrases.pattern, re.IGNORECASE)
        assert [m.span() for m in phrases.finditer(text)] == [
            m.span() for m in expected.finditer(text)
        ], name
        found, wanted = phrases.search(text), expected.search(text)
        assert (found and found.span()) == (wanted and wanted.span()), name
        at = len(text) // 2
        assert [m.span() for m in phrases.finditer(text, at)] == [
            m.span() for m in expected.finditer(text, at)
        ], name


def test_ascii_text_is_lowered_for_a_case_sensitive_search() -> None:
    phrases = Phrases(r"\b(dm us|pin)\b")
    match = phrases.search("Please DM US your PIN")
    assert match is not None
    assert match.span() == (7, 12)
    assert [m.span() for m in phrases.finditer("PIN or pin, DM Us")] == [(0, 3), (7, 10), (12, 17)]


def test_other_text_folds_as_re_does() -> None:
    """Letters `re` folds and `str.lower` does not (the long s, the Kelvin sign) still match,
    as does upper case next to a non-ASCII letter."""
    assert Phrases("send").search("please \u017fend it") is not None
    assert Phrases("kit").search("\u212aIT") is not None
    assert Phrases(r"\bnúmero de pin\b").search("NÚMERO DE PIN") is not None


@pytest.mark.parametrize("pattern", ["DM us", r"\b(pin|CVV)\b", "[A-Z]+"])
def test_a_pattern_with_upper_case_letters_is_refused(pattern: str) -> None:
    with pytest.raises(ValueError, match="lower case"):
        Phrases(pattern)


def test_escapes_in_upper_case_are_not_letters() -> None:
    phrases = Phrases(r"https?://\S*\W\d")
    assert phrases.search("HTTPS://X/ 1") is not None


def test_any_of_takes_words_in_any_case_and_escapes_them() -> None:
    words = Phrases.any_of(["OCU", "a.b", "Banco de España", "C++"])
    assert words.search("I went to the ocu") is not None
    assert words.search("OCUPADO") is None  # a whole word
    assert words.search("A.B") is not None
    assert words.search("axb") is None  # the dot is a dot
    assert words.search("banco de españa") is not None
    assert words.search("BANCO DE ESPAÑA") is not None
    assert words.search("c++ rocks") is None  # no word boundary after "+"
