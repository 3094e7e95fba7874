"""public_to_private_handoff: data requests in public must point to a private channel."""

from __future__ import annotations

from datetime import timedelta

import pytest

from iso_social.controls import ControlInput
from iso_social.controls.public_to_private_handoff import (
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
    ],
)
def test_requests_are_recognised(text: str, asks: bool) -> None:
    assert asks_for_data(text) is asks


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
