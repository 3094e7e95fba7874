"""Text scanners and the findings a check keeps of them (`Scanner`, `Scans`): a control fed
what the store kept gives what it gives scanning the text itself; a kept row is taken only
while the conversation is as it was when it was scanned."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from iso_social.check import scanner_keys
from iso_social.config import resource_dir
from iso_social.controls import ControlInput, control_types
from iso_social.controls.base import ReadsText, Scanner, Scans, text_fingerprint
from iso_social.controls.sensitive_data_exposure import SensitiveDataExposureParams, _scanner
from iso_social.domain import Conversation, Direction, Visibility, Window
from iso_social.policy import load_policies
from tests.conftest import T0, written_conversation

WINDOW = Window(T0 - timedelta(days=1), T0 + timedelta(days=3))
TEXTS = (
    "my card is 4111 1111 1111 1111",
    "DNI 12345678Z, please help",
    "can you confirm your account number?",
    "please DM us your account number",
    "call +34 612 345 678 or write to ana.garcia@example.com",
    "I will contact my lawyer and the FACUA",
    "thanks, all good",
    "",
)
SHIPPED = load_policies([resource_dir("policies")])
TEXT_CONTROLS = [
    (policy, control)
    for policy in SHIPPED
    for control in policy.controls
    if isinstance(control_types()[control.spec.type], ReadsText)
]


def _conversation(cid: str, steps: list[tuple[int, bool, int, bool]]) -> Conversation:
    """Messages at minutes from `T0`, inbound or not, with `TEXTS[n]`, public or private."""
    written = [
        (minutes, inbound, TEXTS[text], Visibility.PUBLIC if public else Visibility.PRIVATE)
        for minutes, inbound, text, public in sorted(steps)
    ]
    return written_conversation(cid, written, prefix=f"{cid}-")


steps = st.lists(
    st.tuples(st.integers(0, 4000), st.booleans(), st.integers(0, len(TEXTS) - 1), st.booleans()),
    min_size=1,
    max_size=6,
)


def _outcomes(conversations: list[Conversation], scans: Scans) -> list[Any]:
    kinds = control_types()
    return [
        kinds[control.spec.type].evaluate(
            ControlInput(
                window=WINDOW,
                conversations=conversations,
                calendars=policy.calendars(),
                scans=scans,
            ),
            control.params,
        )
        for policy, control in TEXT_CONTROLS
    ]


@settings(max_examples=60, deadline=None)
@given(st.lists(steps, min_size=1, max_size=5), st.data())
def test_kept_findings_give_what_scanning_gives(raw: list[Any], data: st.DataObject) -> None:
    """Scanned and noted, then read back from the notes (as the store keeps them: JSON) for
    the same conversations, some of which have changed since (a message more): the outcomes
    are those of scanning every text, and only the changed conversations are scanned again."""
    conversations = [_conversation(f"c{i}", s) for i, s in enumerate(raw)]
    scanned = _outcomes(conversations, Scans())
    first = Scans({})
    assert _outcomes(conversations, first) == scanned
    kept: dict[str, dict[str, tuple[str, str | None]]] = {}
    for key, cid, fingerprint, found in first.new:
        kept.setdefault(key, {})[cid] = (fingerprint, found)
    assert set(kept) == scanner_keys([c for _, c in TEXT_CONTROLS])
    changed = data.draw(st.sets(st.integers(0, len(conversations) - 1)))
    later = [
        _conversation(c.conversation_id, [*raw[i], (4001, True, 0, True)]) if i in changed else c
        for i, c in enumerate(conversations)
    ]
    again = Scans(kept)
    assert _outcomes(later, again) == _outcomes(later, Scans())
    assert {cid for _, cid, _, _ in again.new} == {later[i].conversation_id for i in changed}


def test_a_kept_row_is_what_the_control_reads() -> None:
    """What the store kept stands for the text while the fingerprint matches (so a row that
    says a card was found is counted, whatever the text now says), and not once it differs."""
    conversation = _conversation("c1", [(0, True, 6, True)])  # "thanks, all good"
    params = SensitiveDataExposureParams()
    scanner = _scanner(params)
    kind = control_types()["sensitive_data_exposure"]
    planted = '{"c1-m0":["card:card ••••1111"]}'

    def outcome(fingerprint: str) -> Any:
        scans = Scans({scanner.key: {"c1": (fingerprint, planted)}})
        data = ControlInput(window=WINDOW, conversations=[conversation], scans=scans)
        return kind.evaluate(data, params), scans.new

    found, new = outcome(text_fingerprint(conversation))
    assert found.nonconforming == 1 and found.measures["detected_card"] == 1
    assert new == []
    clean, new = outcome("stale")
    assert clean.nonconforming == 0
    assert new == [(scanner.key, "c1", text_fingerprint(conversation), None)]


def test_a_kept_row_that_is_not_what_a_check_writes_is_scanned_again() -> None:
    conversation = _conversation("c1", [(0, True, 0, True)])  # a card
    params = SensitiveDataExposureParams()
    scanner = _scanner(params)
    for broken in ("{not json", "[1, 2]", '"text"'):
        scans = Scans({scanner.key: {"c1": (text_fingerprint(conversation), broken)}})
        found = scans.found(scanner, conversation)
        assert found == {"c1-m0": ["card:card ••••1111"]}
        assert [row[1:3] for row in scans.new] == [("c1", text_fingerprint(conversation))]


def test_the_fingerprint_changes_with_a_message_more_or_a_purge() -> None:
    conversation = _conversation("c1", [(0, True, 0, True), (10, False, 3, True)])
    longer = _conversation("c1", [(0, True, 0, True), (10, False, 3, True), (20, True, 6, True)])
    purged = replace(
        conversation, messages=tuple(m._replace(text="") for m in conversation.messages)
    )
    prints = {text_fingerprint(c) for c in (conversation, longer, purged)}
    assert len(prints) == 3
    assert text_fingerprint(Conversation("c2", conversation.channel, ())) == "0"


def test_a_scanner_key_names_its_settings_and_version() -> None:
    spain = _scanner(SensitiveDataExposureParams())
    mexico = _scanner(SensitiveDataExposureParams(region="MX"))
    assert spain.key != mexico.key
    assert spain.key.startswith("sensitive_data_exposure/1/")
    assert spain.key == _scanner(SensitiveDataExposureParams()).key  # stable

    def find(_: Conversation) -> dict[str, Sequence[str]]:
        return {}

    one, two = Scanner("x", ("a",), find), Scanner("x", ("a",), find, version=2)
    assert one.key != two.key


def test_a_scanner_not_kept_is_scanned_and_never_noted() -> None:
    seen: list[str] = []

    def find(conversation: Conversation) -> dict[str, Sequence[str]]:
        seen.extend(m.message_id for m in conversation.messages)
        return {
            m.message_id: ("hit",)
            for m in conversation.messages
            if m.direction is Direction.INBOUND
        }

    scanner = Scanner("words", (), find, keep=False)
    conversation = _conversation("c1", [(0, True, 5, True), (5, False, 6, True)])
    scans = Scans({})
    assert scans.found(scanner, conversation) == {"c1-m0": ("hit",)}
    assert scans.found(scanner, conversation) == {"c1-m0": ("hit",)}
    assert seen == ["c1-m0", "c1-m1"] * 2
    assert scans.new == []
    assert scanner.key not in scanner_keys([c for _, c in TEXT_CONTROLS])
