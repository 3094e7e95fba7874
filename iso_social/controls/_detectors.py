"""Personal-data detectors for public messages, validated by checksum where one exists.

Payment cards by the Luhn checksum and an issuer range (first digit 2-6), IBANs by their check
digits, Spanish DNI/NIE by their control letter (python-stdnum), phone numbers by numbering plan
(phonenumbers), e-mail addresses, and street addresses with a postal code. A detection keeps
only a masked form of the value (`card ••••1111`); the raw value never leaves this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache, lru_cache
from types import ModuleType
from typing import Any

DETECTORS = ("card", "iban", "national_id", "email", "phone", "address")
_ISSUER_DIGITS = "23456"  # major industry identifiers of payment cards (ISO/IEC 7812)
_CARD = re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]){11,30}\b")
_DNI = re.compile(r"\b\d{8}[- ]?[A-Za-z]\b")
_NIE = re.compile(r"\b[XYZxyz][- ]?\d{7}[- ]?[A-Za-z]\b")
# An address's parts as long as RFC 5321 and 1035 let them be (local part 64, domain 255, a
# label 63): unbounded, a long run of "a.a.a." made the search quadratic (11 s for 100,000
# characters), and a customer's public message is untrusted text of up to a million.
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,255}\.[A-Za-z]{2,63}\b")
# A street word, then a postal code within 73 characters of the same line. The lookahead
# (a postal code within reach at all) spares the 40 x 30 ways of splitting the street and
# town parts after every street word without one: 7.8 -> 0.4 s for a million characters of
# "calle calle...".
_ADDRESS = re.compile(
    r"\b(?:calle|c/|avda\.?|avenida|plaza|paseo|street|st\.|avenue|ave\.|road|rd\.)\s+"
    r"(?=[^\n]{0,71}\d{5})[^\n,]{2,40},?[^\n]{0,30}?\b\d{5}\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Detection:
    """A personal-data value found in a message, masked."""

    detector: str
    masked: str


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _normalised(value: str) -> str:
    return _digits(value) if _digits(value) and "@" not in value else value.strip().lower()


@cache
def _libraries() -> tuple[ModuleType, ...]:
    """phonenumbers and python-stdnum, loaded on the first detection rather than at import:
    policy validation needs neither, and `detect` runs once per public message."""
    import phonenumbers
    from stdnum import iban, luhn
    from stdnum.es import dni, nie

    return phonenumbers, iban, luhn, dni, nie


def detector_versions() -> str:
    """The versions of the libraries whose data decides what `detect` finds (numbering plans,
    checksum rules), for results kept between checks to be found again only under them."""
    from importlib.metadata import version

    return f"phonenumbers {version('phonenumbers')}, python-stdnum {version('python-stdnum')}"


@cache
def _fewest_phone_digits(region: str) -> int:
    """The fewest digits a valid phone number can be written with: in `region`'s national
    format, or in international format (country code and number) for any country; read from
    phonenumbers' own metadata. Texts with fewer digits skip the library's matcher."""
    phonenumbers = _libraries()[0]
    metadata = phonenumbers.PhoneMetadata

    def shortest(description: Any) -> int:
        return min(n for n in description.possible_length if n > 0)  # type: ignore[no-any-return]

    fewest = [
        len(str(m.country_code)) + shortest(m.general_desc)
        for m in (metadata.metadata_for_region(r) for r in phonenumbers.SUPPORTED_REGIONS)
    ]
    fewest += [
        len(str(code)) + shortest(metadata.metadata_for_nongeo_region(code).general_desc)
        for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS
    ]
    own = metadata.metadata_for_region(region)
    if own is not None:
        fewest.append(shortest(own.general_desc))
    return min(fewest)


@cache
def _fewest_digits(region: str) -> dict[str, int]:
    """The fewest digits each detector's values have: most messages hold a few digits or none,
    and counting them once spares the scans that cannot match (cards 13; national ids 8 digits
    and a letter, or a letter, 7 digits and a letter; postal codes 5; IBANs at least their 2
    check digits; phone numbers as phonenumbers' metadata says). E-mail needs none."""
    return {
        "card": 13,
        "iban": 2,
        "national_id": 7,
        "address": 5,
        "phone": _fewest_phone_digits(region),
    }


_NON_DIGITS = re.compile(r"\D+")


def _found(text: str, wanted: set[str], region: str) -> Iterator[tuple[int, int, str, str, str]]:
    """(start, end, detector, raw value, masked value) of each personal-data value in `text`.

    The phone matcher reads the text with the values the checksum detectors found (cards,
    IBANs, national ids) blanked out: their digits are not a phone number as well, and the
    matcher's search for numbers inside a long run of digits is most of its cost."""
    phonenumbers, iban, luhn, dni, nie = _libraries()
    digits = len(_NON_DIGITS.sub("", text))
    fewest = _fewest_digits(region)
    wanted = {d for d in wanted if digits >= fewest.get(d, 0)}
    checked: list[tuple[int, int, str, str, str]] = []
    if "card" in wanted:
        for match in _CARD.finditer(text):
            number = _digits(match.group())
            if (
                13 <= len(number) <= 19
                and number[0] in _ISSUER_DIGITS
                and len(set(number)) > 1
                and luhn.is_valid(number)
            ):
                checked.append(
                    (match.start(), match.end(), "card", number, f"card ••••{number[-4:]}")
                )
    if "iban" in wanted:
        for match in _IBAN.finditer(text):
            value = match.group().replace(" ", "")
            if iban.is_valid(value):
                checked.append((*match.span(), "iban", value, f"IBAN {value[:2]}••••{value[-4:]}"))
    if "national_id" in wanted:
        for pattern, module, name in ((_DNI, dni, "DNI"), (_NIE, nie, "NIE")):
            for match in pattern.finditer(text):
                value = re.sub(r"[- ]", "", match.group()).upper()
                if module.is_valid(value):
                    checked.append(
                        (*match.span(), "national_id", value, f"{name} ••••••{value[-3:]}")
                    )
    yield from checked
    if "email" in wanted and "@" in text:
        for match in _EMAIL.finditer(text):
            local, _, domain = match.group().partition("@")
            yield (
                *match.span(),
                "email",
                match.group(),
                f"e-mail {local[:1]}•••@{domain[:1]}•••",
            )
    if "phone" in wanted:
        for candidate in phonenumbers.PhoneNumberMatcher(_blanked(text, checked), region):
            number = phonenumbers.format_number(
                candidate.number, phonenumbers.PhoneNumberFormat.E164
            )
            yield (
                candidate.start,
                candidate.end,
                "phone",
                candidate.raw_string,
                f"phone +{candidate.number.country_code} •••{number[-3:]}",
            )
    if "address" in wanted:
        for match in _ADDRESS.finditer(text):
            yield *match.span(), "address", match.group(), "street address with postal code"


def _blanked(text: str, spans: Iterable[tuple[int, int, Any, Any, Any]]) -> str:
    """`text` with each span (they may overlap) replaced by as many line breaks, which no
    phone number spans: the positions of the rest stay where they were. Built in one pass:
    a text again for each span took quadratic time for a message of thousands of cards."""
    parts, position = [], 0
    for start, end, *_ in sorted(spans):
        start = max(start, position)
        if end > start:
            parts += [text[position:start], "\n" * (end - start)]
            position = end
    parts.append(text[position:])
    return "".join(parts)


def detect(
    text: str, detectors: Iterable[str], region: str = "ES", allow: Iterable[str] = ()
) -> tuple[Detection, ...]:
    """Every personal-data value in `text`, masked; values in `allow` (the organisation's own
    public hotline or address) are not findings."""
    return _detect(text, frozenset(detectors), region, frozenset(allow))


@lru_cache(maxsize=4096)
def _detect(
    text: str, detectors: frozenset[str], region: str, allow: frozenset[str]
) -> tuple[Detection, ...]:
    """`detect`, remembered for the texts met most often: canned replies and auto-replies are
    published word for word thousands of times, and the phone matcher costs ~60 µs a text."""
    allowed = {_normalised(a) for a in allow}
    return tuple(
        Detection(detector, masked)
        for _, _, detector, raw, masked in _found(text, set(detectors), region)
        if _normalised(raw) not in allowed
    )


_HANDLE = re.compile(r"(?<![\w@])@\w{1,30}")


def mask_personal_data(text: str, region: str = "ES") -> str:
    """`text` with every personal-data value replaced by its mask in brackets (`[card ••••1234]`)
    and every @handle by `@•••`: what a report may show of a customer's message."""
    return _masked(text, region, len(text))


def _masked(text: str, region: str, upto: int) -> str:
    """`mask_personal_data` of `text` up to position `upto` (0 or more): the values found
    that start before it, whole, and the text between them."""
    spans = sorted(_found(text, set(DETECTORS), region), key=lambda f: (f[0], -f[1]))
    parts, position = [], 0
    for start, end, _, _, masked in spans:
        if start >= upto:
            break
        if start < position:
            continue  # inside a value already masked (a phone number within a street address)
        parts += [_HANDLE.sub("@•••", text[position:start]), f"[{masked}]"]
        position = end
    parts.append(_HANDLE.sub("@•••", text[position:upto]))
    return "".join(parts)


# Farther than any value a detector finds reaches from where it starts, with the characters
# it looks at around it (an e-mail address at most 385 characters, a phone number with an
# extension under 1,000, an address's street and town parts 71), once runs of white space
# are squeezed to `_RUN * 2` characters.
_REACH = 4_096
_RUN = 128
_LONG_RUN = re.compile(rf"\s{{{2 * _RUN + 1},}}")


def _squeezed(text: str) -> str:
    """`text` with each run of white space longer than `2 * _RUN` characters cut to its first
    and last `_RUN`: what a detector sees of a run is bounded (a quantifier of at most 71
    characters, or `\\s+`, which any run satisfies), so it finds the same values, and folding
    white space gives the same text."""
    return _LONG_RUN.sub(lambda run: run.group()[:_RUN] + run.group()[-_RUN:], text)


def masked_start(text: str, chars: int, region: str = "ES") -> str:
    """The first `chars` characters of `mask_personal_data(text)` with white space folded to
    single spaces, scanning only as much of `text` as they need: a report shows the start of
    messages that may each hold a million characters, and masking all of one takes seconds.

    The text is read in growing pieces (16 KiB, then four times more each time). In a piece,
    values that start more than `_REACH` before its end are what the whole text's scan finds
    there, so the text up to that point is masked as the whole text's mask has it; once that
    gives more than `chars` characters (a few to spare for an @handle cut at the end), they
    are the answer."""
    end = 4 * _REACH
    while True:
        if end >= len(text):
            return " ".join(mask_personal_data(text, region).split())[:chars]
        piece = _squeezed(text[:end])  # shorter than `end` where it had long runs
        trusted = len(piece) - _REACH
        if trusted > 0:
            start = " ".join(_masked(piece, region, trusted).split())
            if len(start) >= chars + 32:
                return start[:chars]
        end *= 4
