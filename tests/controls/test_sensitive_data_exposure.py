"""sensitive_data_exposure: checksum-validated detectors, agent exposures major on their own."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from iso_social.check import evaluate_policy
from iso_social.controls import ControlInput, _detectors
from iso_social.controls._detectors import (
    DETECTORS,
    _blanked,
    _fewest_phone_digits,
    _found,
    detect,
    mask_personal_data,
    masked_start,
)
from iso_social.controls.base import Tally
from iso_social.controls.sensitive_data_exposure import (
    SensitiveDataExposure,
    SensitiveDataExposureParams,
    _is_remedy,
    _remedied,
)
from iso_social.domain import Conversation, Direction, Message, Verdict, Visibility, Window
from iso_social.policy import load_policy
from tests.conftest import T0, message, written_conversation

WINDOW = Window(T0 - timedelta(days=1), T0 + timedelta(days=2))
CARD, DNI = "4111 1111 1111 1111", "12345678Z"


def conversation(*steps: tuple[float, bool, str, Visibility]) -> Conversation:
    return written_conversation("c1", steps)


PUBLIC, PRIVATE = Visibility.PUBLIC, Visibility.PRIVATE


@pytest.mark.parametrize(
    ("text", "detector"),
    [
        (f"my card {CARD}", "card"),
        (f"DNI {DNI}", "national_id"),
        ("NIE X1234567L", "national_id"),
        ("IBAN ES91 2100 0418 4502 0005 1332", "iban"),
        ("call +34 612 345 678", "phone"),
        ("write to ana.garcia@example.com", "email"),
    ],
)
def test_detectors_validate_and_mask(text: str, detector: str) -> None:
    (found,) = detect(text, [detector])
    assert found.detector == detector
    assert all(part not in found.masked for part in ("4111 1111", "12345678", "ana.garcia"))


@pytest.mark.parametrize(
    "text",
    [
        "order 4111 1111 1111 1112",
        "DNI 12345678A",
        "tracking 0000 0000 0000 0000",
        "ES91 0000 0000 0000",
    ],
)
def test_invalid_checksums_are_not_findings(text: str) -> None:
    assert detect(text, ["card", "national_id", "iban"]) == ()


@pytest.mark.parametrize("region", ["ES", "AT", "US"])
def test_the_digit_count_gate_lets_every_valid_phone_number_through(region: str) -> None:
    """Texts with fewer digits than `_fewest_phone_digits` skip the phone matcher: every example
    number phonenumbers knows, national or international, must have at least that many."""
    import phonenumbers

    fewest = _fewest_phone_digits(region)
    seen = 0
    for code in phonenumbers.SUPPORTED_REGIONS:
        for kind in phonenumbers.PhoneNumberType.values():
            example = phonenumbers.example_number_for_type(code, kind)
            if example is None:
                continue
            international = phonenumbers.format_number(
                example, phonenumbers.PhoneNumberFormat.INTERNATIONAL
            )
            assert sum(c.isdigit() for c in international) >= fewest, international
            seen += 1
    national = phonenumbers.example_number(region)
    written = phonenumbers.format_number(national, phonenumbers.PhoneNumberFormat.NATIONAL)
    assert sum(c.isdigit() for c in written) >= fewest
    assert detect(f"call {written} please", ["phone"], region)
    assert seen > 1000


PHONE, IBAN = "+34 612 345 678", "ES91 2100 0418 4502 0005 1332"
FRAGMENTS = (
    CARD,
    "5500-0000-0000-0004",
    IBAN,
    DNI,
    "X1234567L",
    PHONE,
    "912 345 678",
    "ana@example.com",
    "pedido 123456",
    "el 02/10/2026 a las 11:55",
    "hola",
    "tel.",
)


def test_a_phone_number_beside_checksummed_values_keeps_its_place() -> None:
    """The phone matcher reads the text with cards, IBANs and ids blanked out; what it finds
    must still point at the number in the text as written."""
    text = f"card {CARD}, IBAN {IBAN}, DNI {DNI}; call {PHONE} now"
    found = {
        (detector, text[start:end])
        for start, end, detector, _, _ in _found(
            text, {"card", "iban", "national_id", "phone"}, "ES"
        )
    }
    assert ("phone", PHONE) in found and ("card", CARD) in found
    assert mask_personal_data(text).count("[phone +34 •••678]") == 1


def test_blanked_values_keep_every_position_even_when_they_overlap() -> None:
    spans = [(1, 3, "card", "", ""), (8, 9, "iban", "", ""), (2, 5, "iban", "", "")]
    assert _blanked("abcdefghij", spans) == "a\n\n\n\nfgh\nj"


@given(st.lists(st.sampled_from(FRAGMENTS), max_size=8))
def test_blanking_checksummed_values_finds_the_phone_numbers_the_whole_text_holds(
    parts: list[str],
) -> None:
    """What the phone matcher finds in the text with cards, IBANs and ids blanked out equals
    what it finds in the whole text: it never read a phone number inside those values."""
    import phonenumbers

    text = " y ".join(parts)
    whole = [(m.start, m.end) for m in phonenumbers.PhoneNumberMatcher(text, "ES")]
    found = _found(text, {"card", "iban", "national_id", "phone"}, "ES")
    assert [(start, end) for start, end, detector, _, _ in found if detector == "phone"] == whole


def test_an_e_mail_address_is_as_long_as_rfc_5321_lets_it_be() -> None:
    """Local part up to 64 characters, labels up to 63: longer is not an address (the bounds
    keep the search linear on a long run of "a.a.a." in untrusted text)."""
    local, label = "a" * 64, "b" * 63
    assert detect(f"mail {local}@example.{label} now", ["email"])
    assert detect(f"mail {local}x@example.com now", ["email"]) == ()


UNBOUNDED = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")


@given(
    st.lists(
        st.sampled_from(["ana", ".", "garcia", "@", "example", "com", "x_y+z", "-", " ", ",", "é"]),
        max_size=25,
    )
)
def test_bounded_e_mail_search_finds_what_the_unbounded_one_did(parts: list[str]) -> None:
    """Within the RFC's lengths the bounded pattern finds what the unbounded one found."""
    text = "".join(parts)
    found = [d for d in detect(text, ["email"]) if d.detector == "email"]
    assert len(found) == len(UNBOUNDED.findall(text))


def test_a_postal_code_as_far_as_the_address_pattern_reaches_is_found() -> None:
    """A 40-character street part, a comma and 30 characters of town: the postal code 71
    characters after the street word's space is still an address; one more is not."""
    farthest = "calle " + "M" * 40 + "," + "x" * 29 + " 28013"
    assert detect(farthest, ["address"])
    assert detect(farthest.replace(",", ",y"), ["address"]) == ()


WITHOUT_LOOKAHEAD = re.compile(
    r"\b(?:calle|c/|avda\.?|avenida|plaza|paseo|street|st\.|avenue|ave\.|road|rd\.)\s+"
    r"[^\n,]{2,40},?[^\n]{0,30}?\b\d{5}\b",
    re.IGNORECASE,
)


@given(
    st.lists(
        st.sampled_from(
            ["calle", "Avda.", "c/", " ", "\n", ",", "Mayor", "5", "28013", "123456", "x" * 25]
        ),
        max_size=30,
    )
)
def test_the_address_lookahead_finds_what_the_pattern_without_it_did(parts: list[str]) -> None:
    """The postal-code lookahead only spares work: the same addresses at the same places."""
    text = "".join(parts)
    found = list(_found(text, {"address"}, "ES"))
    assert [(start, end) for start, end, *_ in found] == [
        m.span() for m in WITHOUT_LOOKAHEAD.finditer(text)
    ]


KINDS = {
    "customer": {"inbound": True},
    "asks to delete": {"inbound": False, "text": "Please delete that tweet"},
    "chats on": {"inbound": False, "text": "Thanks!"},
    "DM": {"inbound": False, "visibility": PRIVATE},
}


@given(
    st.lists(st.tuples(st.integers(0, 120), st.sampled_from(sorted(KINDS))), max_size=12),
    st.integers(0, 90),
)
def test_the_remedy_found_by_bisection_is_the_first_one_a_walk_finds(
    steps: list[tuple[int, str]], within_minutes: int
) -> None:
    """Messages in time order (ties included): for every message, a remedy within the period
    is found exactly when walking the conversation from its start finds one."""
    messages = [
        message(f"m{i}", T0 + timedelta(minutes=minutes), **KINDS[kind])  # type: ignore[arg-type]
        for i, (minutes, kind) in enumerate(sorted(steps, key=lambda s: s[0]))
    ]
    within = timedelta(minutes=within_minutes)
    remedies = [m for m in messages if _is_remedy(m)]

    def walked(after: Message) -> bool:
        for m in messages:
            if m.created_at < after.created_at or m is after:
                continue
            if m.created_at - after.created_at > within:
                return False
            if _is_remedy(m):
                return True
        return False

    for after in messages:
        if after.direction is Direction.INBOUND:
            assert _remedied(remedies, after, within) is walked(after)


def test_allowed_organisation_numbers_are_not_findings() -> None:
    text = "Llámanos al +34 912 345 678"
    assert detect(text, ["phone"], allow=["+34 912 345 678"]) == ()


def test_customer_exposure_needs_a_timely_action() -> None:
    handled = conversation(
        (0, True, f"my card {CARD} was charged twice", PUBLIC),
        (20, False, "Please delete that tweet and DM us", PUBLIC),
    )
    ignored = conversation(
        (0, True, f"DNI {DNI}, please help", PUBLIC), (200, False, "Sorry about that", PUBLIC)
    )
    control = SensitiveDataExposure()
    params = SensitiveDataExposureParams()
    ok = control.evaluate(ControlInput(window=WINDOW, conversations=[handled]), params)
    assert ok.conforms is True and ok.measures["customer_exposures_remedied"] == 1
    bad = control.evaluate(ControlInput(window=WINDOW, conversations=[ignored]), params)
    (item,) = bad.evidence
    assert "DNI ••••••78Z" in item.detail and DNI not in item.detail
    assert bad.grade_floor is None


def test_only_the_public_messages_of_the_half_open_window_are_counted() -> None:
    """From the window's first moment, up to but not including its end (`Window`)."""
    steps = [(minutes, True, f"card {CARD}", PUBLIC) for minutes in (-1, 0, 59, 60)]
    window = Window(T0, T0 + timedelta(hours=1))
    outcome = SensitiveDataExposure().evaluate(
        ControlInput(window=window, conversations=[conversation(*steps)]),
        SensitiveDataExposureParams(),
    )
    assert outcome.population == 2
    assert [e.message_ids for e in outcome.evidence] == [("m1",), ("m2",)]


def test_private_messages_are_not_scanned() -> None:
    dm = conversation((0, True, f"card {CARD}", PRIVATE))
    outcome = SensitiveDataExposure().evaluate(
        ControlInput(window=WINDOW, conversations=[dm]), SensitiveDataExposureParams()
    )
    assert outcome.conforms is None


def test_an_agent_exposure_is_major_whatever_the_severity(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("""\
id: P
title: Privacy
version: "1"
owner: q
approved_by: q
approved_on: 2026-01-01
effective_from: 2026-01-01
controls:
  - {id: PV-1, type: sensitive_data_exposure, title: No data in public, severity: minor}
""")
    leak = conversation(
        (0, True, "help", PUBLIC), (5, False, f"Your card {CARD} is blocked", PUBLIC)
    )
    (finding,) = evaluate_policy([load_policy(path)], WINDOW, [leak])
    assert finding.verdict is Verdict.MAJOR_NONCONFORMITY
    assert finding.outcome.measures["exposed_by_agents"] == 1


def whole_start(text: str, chars: int) -> str:
    """What a report showed of a message before `masked_start`: all of it masked, folded, cut."""
    return " ".join(mask_personal_data(text).split())[:chars]


LONG_PIECES = (
    CARD,
    DNI,
    IBAN,
    PHONE,
    "+34 654 397 171 ext. 1234",
    "ana.garcia@example.com",
    "a" * 60 + "@" + "b" * 200 + ".example.com",  # an address of 277 characters
    "Calle Mayor 5, 28013 Madrid",
    "calle",
    "28013",
    "@ana_1985",
    "@",
    "please call us",
    "lorem ipsum dolor " * 40,
    "x" * 3000,
    "1234",
)
LONG_SPACES = (" ", "  ", "\n", "\t", ", ", " " * 300, "\n" * 300 + " " * 40, " " * 5000)


@given(
    st.lists(
        st.tuples(st.sampled_from(LONG_PIECES), st.sampled_from(LONG_SPACES)),
        min_size=1,
        max_size=80,
    ),
    st.integers(0, 20_000),
    st.sampled_from((161, 600)),
)
@example(  # a long e-mail address across where a piece ends: shown if read in short pieces
    [(LONG_PIECES[6], " "), *[(LONG_PIECES[14], " ")] * 8], 250, 161
)
@example(  # white space squeezed the first piece shorter than the reach: nothing trusted
    [(CARD, " "), (LONG_PIECES[14], " ")], 13_364, 161
)
def test_the_start_of_a_message_is_masked_as_the_whole_message_is(
    parts: list[tuple[str, str]], lead: int, chars: int
) -> None:
    """Values, filler and runs of white space up to thousands of characters, after white space
    of any length (which shows as one space, so that values far into the text are shown and
    fall across where a piece ends): the start is what masking the whole text gave."""
    text = " " * lead + "".join(piece + space for piece, space in parts)
    assert masked_start(text, chars) == whole_start(text, chars)


def test_the_start_of_a_long_message_reads_only_its_start(monkeypatch: pytest.MonkeyPatch) -> None:
    """A message of a million characters dense with values is scanned 16 KiB of it, not all
    (5.5 s for one such message, in a report listing a thousand cases)."""
    scanned: list[int] = []

    def counting(text: str, wanted: set[str], region: str):  # type: ignore[no-untyped-def]
        scanned.append(len(text))
        return _found(text, wanted, region)

    monkeypatch.setattr(_detectors, "_found", counting)
    text = f"call {PHONE} or pay with {CARD} " * 20_000
    start = masked_start(text, 161)
    assert scanned == [16_384]
    assert start.startswith("call [phone +34 •••678] or pay with [card ••••1111]")
    assert "4111" not in start and "612" not in start


def test_a_value_after_a_million_spaces_is_masked() -> None:
    text = "hello" + " " * 1_000_000 + CARD + " " + "\n" * 500_000 + PHONE
    assert masked_start(text, 161) == "hello [card ••••1111] [phone +34 •••678]"


def test_the_longest_values_are_well_within_the_reach_a_piece_allows() -> None:
    """`masked_start` trusts the values found more than `_REACH` before a piece's end: the
    longest each detector finds (white space squeezed as it is there) are far shorter."""
    longest = (
        "a" * 64 + "@" + ".".join(["b" * 63] * 4) + ".example",  # RFC 5321's longest parts
        "calle" + " " * 256 + "c" * 40 + "," + "d" * 24 + " 28013",
        "+34 654 397 171 extension 123456",
        IBAN,
        "4111-1111-1111-1111",
    )
    for value in longest:
        text = f"see {value} here"
        spans = [end - start for start, end, *_ in _found(text, set(DETECTORS), "ES")]
        assert spans and max(spans) < _detectors._REACH // 4, value[:20]


def test_a_clean_conversation_leaves_no_count_in_its_tally() -> None:
    """A scheduler keeps every conversation's tally: one without personal data holds its
    passed messages only, not a counter of zeros (a dict for each of 345,000 conversations)."""
    tally = Tally()
    clean = conversation((0, True, "my order is late", PUBLIC), (5, False, "Sorry!", PUBLIC))
    SensitiveDataExposure().assess(
        clean, ControlInput(WINDOW), SensitiveDataExposureParams(), tally
    )
    assert tally.population_ids == ["m0", "m1"] and tally.conforming == 2
    assert not tally.counts
    exposed = conversation((0, True, f"my card {CARD}", PUBLIC), (5, False, "DM us", PUBLIC))
    SensitiveDataExposure().assess(
        exposed, ControlInput(WINDOW), SensitiveDataExposureParams(), tally
    )
    assert tally.counts == {"detected_card": 1, "customer_exposures_remedied": 1}
