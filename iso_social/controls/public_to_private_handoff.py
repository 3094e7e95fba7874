"""On public channels, account or personal data is asked for only in private (ISO 9001:2015
8.5.3; ISO 18295-1:2017 4.5; GDPR art. 5(1)(c) data minimisation).

A public agent message that asks for personal or account data (account, card or order numbers,
date of birth, address, phone, e-mail, ID documents, passwords and PINs; in English and Spanish)
is in the population. It conforms when it sends the customer to a private channel for it (a DM,
a private message, e-mail or phone: "please DM us your account number"); asking for the data in
the public reply itself is a nonconformity. Statements about never asking ("we will never ask
for your PIN") are not requests. Detection is by phrase lists, documented in docs/controls.md.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from iso_social.controls._phrases import Phrases
from iso_social.controls.base import ControlInput, Scanner, Tally, evaluate_each, percent
from iso_social.domain import (
    Conversation,
    Direction,
    EvidenceItem,
    Outcome,
    Visibility,
)
from iso_social.i18n import N_

DATA = Phrases(
    r"\b(account (number|no\.?|details)|card (number|details)|last (four|4) digits|"
    r"date of birth|dob|full name|(home |postal |billing )?address|phone number|"
    r"e-?mail address|password|pin|cvv|security code|order (number|no\.?)|"
    r"booking (number|reference)|passport|id number|social security|"
    r"n[úu]mero de (cuenta|tarjeta|cliente|pedido|reserva|tel[ée]fono|celular|documento|"
    r"identificaci[óo]n)|fecha de nacimiento|nombre completo|direcci[óo]n|domicilio|"
    r"correo( electr[óo]nico)?|contrase[ñn]a|clave|nip|dni|nie|curp|rfc|pasaporte)\b"
)
VERB = Phrases(
    r"\b(send|provide|share|confirm|tell us|give us|reply with|dm us|dm|message us|"
    r"what(?:'s| is) your|can you (?:send|provide|share|confirm|give)|"
    r"could you (?:send|provide|share|confirm|give)|"
    r"(?<!se )env[íi]a\w*|proporciona\w*|comp[áa]rte\w*|ind[íi]ca\w*|confirma\w*|facilita\w*|"
    r"nos (?:compartes|indicas|confirmas|proporcionas|env[íi]as|facilitas)|"
    r"cu[áa]l es tu|podr[íi]as (?:enviar|compartir|confirmar|indicar|proporcionar)|"
    r"puedes (?:enviar|compartir|confirmar|indicar|proporcionar))\b"
)
NEAR = 8  # words between the request verb and the data it asks for
# the `NEAR` words from a position (the first is the rest of the word it is in, if any), with
# the white space before and between them (`\s` is what str.split() splits at; it always
# matches, perhaps nothing)
_NEAR_WORDS = re.compile(rf"\s*(?:\S+(?:\s+\S+){{0,{NEAR - 1}}})?")
NEVER = Phrases(r"\b(never|nunca|jam[áa]s|no te pediremos|will not ask|won't ask)\b")
PRIVATE = Phrases(
    r"\b(dm|dms|direct message|private message|privately|pm|inbox|e-?mail us|call us|"
    r"give us a call|call (?:our|the number)|ll[áa]manos|"
    r"mensaje (directo|privado)|md|por (privado|interno|inbox|dm|md)|ll[áa]ma\w*|"
    r"escr[íi]be\w* (al|a) correo)\b|https?://\S*(messages/compose|direct_messages)"
)


@lru_cache(maxsize=4096)  # canned replies are published word for word many times
def asks_for_data(text: str) -> bool:
    """A request verb governing a personal-data term within a few words ("can you confirm your
    date of birth", "nos indicas tu número de tarjeta"), not a statement that it is never asked
    for, and not instructions that merely mention the data ("ten a la mano tu tarjeta").

    The words after each verb are read from where it ends, at most `NEAR` of them (the first
    is the rest of the word the verb ends in, if it ends inside one), by one match: splitting
    the rest of the text again for every verb took quadratic time (two seconds for a reply of
    100,000 characters repeating "please send", minutes for the longest text a log may hold),
    and finding the words one by one a fifth of the time this takes."""
    if NEVER.search(text):
        return False
    near = _NEAR_WORDS.match
    return any(
        DATA.search(" ".join(near(text, verb.end()).group().split()))  # type: ignore[union-attr]
        for verb in VERB.finditer(text)
    )


def _find(conversation: Conversation) -> dict[str, Sequence[str]]:
    """Each public agent message asking for data: `private` when it sends the customer to a
    private channel for it, else `public`."""
    found: dict[str, Sequence[str]] = {}
    for message in conversation.messages:
        if (
            message.direction is Direction.OUTBOUND
            and message.visibility is Visibility.PUBLIC
            and asks_for_data(message.text)
        ):
            found[message.message_id] = _PRIVATE if PRIVATE.search(message.text) else _PUBLIC
    return found


_PRIVATE, _PUBLIC = ("private",), ("public",)
# the patterns are this module's own: a change to them is a new `version`
SCANNER = Scanner("public_to_private_handoff", (), _find, version=1)


class PublicToPrivateHandoffParams(BaseModel):
    """Parameters of `public_to_private_handoff`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: Annotated[float, Field(ge=0, le=1)] = 1.0


class PublicToPrivateHandoff:
    """Requests for personal data in public must go through a private channel."""

    type_name: ClassVar[str] = "public_to_private_handoff"
    params_model: ClassVar[type[BaseModel]] = PublicToPrivateHandoffParams
    summary: ClassVar[str] = N_("public requests for personal data sent to a private channel")

    def scanners(self, params: PublicToPrivateHandoffParams) -> tuple[Scanner, ...]:
        """The requests for data and hand-offs, as a scanner (`ReadsText`)."""
        return (SCANNER,)

    def evaluate(self, data: ControlInput, params: PublicToPrivateHandoffParams) -> Outcome:
        """Classify every public agent request for data."""
        return evaluate_each(self, data, params)

    def assess(
        self,
        conversation: Conversation,
        data: ControlInput,
        params: PublicToPrivateHandoffParams,
        tally: Tally,
    ) -> None:
        """Classify one conversation's public agent requests for data."""
        found = data.scans.found(SCANNER, conversation)
        if not found:  # most conversations
            return
        for message in conversation.messages:
            request = found.get(message.message_id)
            if not request or message.created_at not in data.window:
                continue
            if request[0] == "private":
                tally.passed(message.message_id)
                continue
            tally.failed(
                message.message_id,
                EvidenceItem(
                    conversation.conversation_id,
                    (message.message_id,),
                    None,
                    "an agent asked for personal or account data in a public reply instead of "
                    "moving the conversation to a private channel.",
                ),
            )

    def conclude(
        self, tally: Tally, data: ControlInput, params: PublicToPrivateHandoffParams
    ) -> Outcome:
        """The share of requests handed off against the target."""
        return tally.outcome(
            target=params.target,
            empty="No public agent message asked for personal data in the audit window.",
            measures={"requests_in_public": tally.population, "handed_off": tally.conforming},
            statement=lambda rate: (
                f"{tally.conforming} of {tally.population} public requests for personal data "
                f"({percent(rate)}) moved the customer to a private channel; "
                f"{len(tally.evidence)} asked for the data in public."
            ),
        )
