"""public_to_private_handoff: data requests in public must point to a private channel."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iso_social.controls import ControlInput, public_to_private_handoff
from iso_social.controls.public_to_private_handoff import (
    DATA,
    NEAR,
    NEVER,
    VERB,
    PublicToPrivateHandoff,
    PublicToPrivateHandoffParams,
    asks_for_data,
)
from iso_social.domain import Conversation, Visibility, Window
from tests.conftest import T0, message

WINDOW = Window(T0 - timedelta(days=1), T0 + timedelta(days=2))


@pytest.mark.parametrize(
    ("text", "asks"),
    [
        ("What's your account number?", True),
        ("¿Nos indicas tu número de tarjeta?", True),
        ("Please DM us your order number", True),
        ("We will never ask for your PIN", False),
        ("Nunca te pediremos tu contraseña", False),
        ("Thanks, enjoy your flight!", False),
        ("La reposición se envía al domicilio registrado", False),
        ("Ten a la mano los 16 dígitos de tu tarjeta y tu NIP", False),
        ("Hey, can you please confirm your email address?", True),
        ("send 1 2 3 4 5 6 7 PIN", True),  # the data term is the eighth word after the verb
        ("send 1 2 3 4 5 6 7 8 PIN", False),  # the ninth
        ("PIN,send,x", False),  # the verb's own word holds data named before it
        ("send,PIN", True),
    ],
)
def test_requests_are_recognised(text: str, asks: bool) -> None:
    assert asks_for_data(text) is asks


def split_again(text: str) -> bool:
    """`asks_for_data` as first written: the rest of the text split again after each verb."""
    if NEVER.search(text):
        return False
    return any(
        DATA.search(" ".join(text[verb.end() :].split()[:NEAR])) for verb in VERB.finditer(text)
    )


PIECES = (
    "send",
    "DM us",
    "confirm",
    "your",
    "the",
    "account",
    "number",
    "date of birth",
    "please",
    "PIN",
    "1",
    "envía",
    "tu",
    "número de tarjeta",
    "x" * 3,
    ",",
    "?",
    "sendyour",
)
SPACES = (" ", "  ", "\n", "\t", "\u00a0", "\u2003", "\x1c", "")


@given(st.lists(st.tuples(st.sampled_from(PIECES), st.sampled_from(SPACES)), max_size=30))
def test_the_words_after_a_verb_are_those_splitting_the_rest_would_give(
    parts: list[tuple[str, str]],
) -> None:
    """Verbs, data terms and filler joined by every kind of white space (and none): the words
    found among the text's words listed once are those splitting its rest gave."""
    text = "".join(piece + space for piece, space in parts)
    assert asks_for_data.__wrapped__(text) is split_again(text)


def test_each_verb_reads_only_the_words_it_governs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A reply repeating a request verb thousands of times is read a few words a verb, not to
    its end once a verb (which took quadratic time: minutes for a text of a million
    characters)."""
    read: list[str] = []
    near = public_to_private_handoff._NEAR_WORDS

    class Counting:
        def match(self, text: str, pos: int = 0) -> re.Match[str] | None:
            found = near.match(text, pos)
            read.extend(found.group().split() if found else ())
            return found

    monkeypatch.setattr(public_to_private_handoff, "_NEAR_WORDS", Counting())
    text = "please send " * 5000 + "your account number"
    assert asks_for_data.__wrapped__(text) is True
    assert len(read) <= 5000 * NEAR  # to the end once a verb: 37 million


def test_asking_in_public_versus_moving_to_dm() -> None:
    replies = [
        message("m1", T0, inbound=False, text="Can you confirm your date of birth and address?"),
        message("m2", T0, inbound=False, text="Envíanos por MD tu número de cliente, por favor"),
        message(
            "m4",
            T0,
            inbound=False,
            text="Please give us a call so we can confirm your account details",
        ),
        message(
            "m3",
            T0,
            inbound=False,
            text="Send us your account number",
            visibility=Visibility.PRIVATE,
        ),
    ]
    conversation = Conversation("c1", replies[0].channel, tuple(replies))
    outcome = PublicToPrivateHandoff().evaluate(
        ControlInput(window=WINDOW, conversations=[conversation]), PublicToPrivateHandoffParams()
    )
    assert (outcome.population, outcome.conforming) == (3, 2)
    assert outcome.evidence[0].message_ids == ("m1",)
