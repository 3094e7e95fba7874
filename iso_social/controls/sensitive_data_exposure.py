"""No personal data stays exposed in public messages (ISO 9001:2015 8.5.3 "property belonging to
customers"; ISO 18295-1:2017 4.5 customer protection; GDPR art. 5(1)(f)).

Every public message on the control's channels is scanned with the checksum-validated detectors
(payment cards, IBANs, Spanish DNI/NIE, phone numbers, e-mail addresses, street addresses).
Personal data published by the organisation's own agents is a nonconformity at once, and a
major one whatever the control's severity; by default agents are checked for cards, IBANs and
national IDs only (`agent_detectors`), since an organisation publishes its own hotlines and
mailboxes on purpose. Data posted by a customer requires an agent action within
`action_within`: a message asking to delete it, or a move to a private channel (a private
message in the conversation). Findings keep the detector and a masked value, never the value.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from datetime import timedelta
from operator import attrgetter
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from iso_social.clock import Duration, format_duration
from iso_social.controls._detectors import detect, detector_versions
from iso_social.controls._phrases import Phrases
from iso_social.controls.base import (
    ControlInput,
    Scanner,
    Tally,
    evaluate_each,
    per_params,
    percent,
)
from iso_social.domain import (
    AuthorRole,
    Conversation,
    Direction,
    EvidenceItem,
    Message,
    Outcome,
    Severity,
    Visibility,
)
from iso_social.i18n import N_

Detector = Literal["card", "iban", "national_id", "email", "phone", "address"]
REMEDY = Phrases(
    r"\b(delete|remove|hide|take (it|this) down|borra\w*|elimina\w*|retira\w*|oculta\w*|"
    r"dm|direct message|private message|mensaje (directo|privado)|md|por privado|inbox)\b"
)


class SensitiveDataExposureParams(BaseModel):
    """Parameters of `sensitive_data_exposure`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    detectors: tuple[Detector, ...] = ("card", "iban", "national_id", "email", "phone")
    # an organisation publishes its own hotlines and mailboxes; never a card, IBAN or ID
    agent_detectors: tuple[Detector, ...] = ("card", "iban", "national_id")
    region: str = Field(default="ES", min_length=2, max_length=2)
    allow: tuple[str, ...] = ()
    action_within: Duration = timedelta(hours=1)
    target: Annotated[float, Field(ge=0, le=1)] = 1.0


def _is_remedy(message: Message) -> bool:
    """An agent's reply that moves to private or asks to remove the data."""
    return (
        message.direction is Direction.OUTBOUND
        and message.author_role is AuthorRole.AGENT
        and (message.visibility is Visibility.PRIVATE or REMEDY.search(message.text) is not None)
    )


def _remedied(remedies: list[Message], after: Message, within: timedelta) -> bool:
    """A remedy (`remedies`: the conversation's, in time order) at most `within` after
    `after`: the earliest one at or after it, found by bisection, so that a conversation of
    thousands of exposures is not walked again for each."""
    index = bisect_left(remedies, after.created_at, key=_CREATED_AT)
    return index < len(remedies) and remedies[index].created_at - after.created_at <= within


_CREATED_AT = attrgetter("created_at")
_PUBLIC = Visibility.PUBLIC


@per_params
def _scanner(params: SensitiveDataExposureParams) -> Scanner:
    """What the control reads in a message: each personal-data value in a public one (by the
    customers' or the agents' detectors) as `detector:masked value`. Its settings hold the
    checksum and numbering-plan libraries' versions: their data decides what is found."""
    customers, agents = frozenset(params.detectors), frozenset(params.agent_detectors)
    allow, region = frozenset(params.allow), params.region

    def find(conversation: Conversation) -> dict[str, Sequence[str]]:
        found: dict[str, Sequence[str]] = {}
        for message in conversation.messages:
            if message.visibility is not Visibility.PUBLIC:
                continue
            wanted = customers if message.direction is Direction.INBOUND else agents
            detections = detect(message.text, wanted, region, allow)
            if detections:
                found[message.message_id] = [f"{d.detector}:{d.masked}" for d in detections]
        return found

    settings = (
        sorted(customers),
        sorted(agents),
        region,
        sorted(allow),
        detector_versions(),
    )
    return Scanner("sensitive_data_exposure", tuple(map(str, settings)), find)


class SensitiveDataExposure:
    """Personal data in public messages: never by agents, promptly handled when by customers."""

    type_name: ClassVar[str] = "sensitive_data_exposure"
    params_model: ClassVar[type[BaseModel]] = SensitiveDataExposureParams
    summary: ClassVar[str] = N_("public messages exposing personal data (cards, IBAN, DNI...)")

    def scanners(self, params: SensitiveDataExposureParams) -> tuple[Scanner, ...]:
        """The personal-data detectors, as a scanner (`ReadsText`)."""
        return (_scanner(params),)

    def evaluate(self, data: ControlInput, params: SensitiveDataExposureParams) -> Outcome:
        """Scan every public message in the window."""
        return evaluate_each(self, data, params)

    def assess(
        self,
        conversation: Conversation,
        data: ControlInput,
        params: SensitiveDataExposureParams,
        tally: Tally,
    ) -> None:
        """Scan one conversation's public messages in the window."""
        found = data.scans.found(_scanner(params), conversation)
        remedies: list[Message] | None = None  # listed at the first exposure by a customer
        low, high = data.window.start, data.window.end
        for message in conversation.messages:  # every public message: the window's tests inline
            if message.visibility is not _PUBLIC or not low <= message.created_at < high:
                continue
            detections = found.get(message.message_id) if found else None
            if not detections:  # most messages
                tally.passed(message.message_id)
                continue
            by_customer = message.direction is Direction.INBOUND
            masked = set()
            for detection in detections:
                detector, _, value = detection.partition(":")
                tally.counts[f"detected_{detector}"] += 1
                masked.add(value)
            what = ", ".join(sorted(masked))
            ids = (conversation.conversation_id, (message.message_id,), None)
            if not by_customer:
                tally.counts["exposed_by_agents"] += 1
                tally.failed(
                    message.message_id,
                    EvidenceItem(
                        *ids, f"the organisation published personal data in public ({what})."
                    ),
                )
                continue
            if remedies is None:
                remedies = [m for m in conversation.messages if _is_remedy(m)]
            if _remedied(remedies, message, params.action_within):
                tally.counts["customer_exposures_remedied"] += 1
                tally.passed(message.message_id)
            else:
                tally.failed(
                    message.message_id,
                    EvidenceItem(
                        *ids,
                        f"a customer posted personal data in public ({what}); no agent "
                        "asked to delete it or moved to a private channel within "
                        f"{format_duration(params.action_within.total_seconds())}.",
                    ),
                )

    def conclude(
        self, tally: Tally, data: ControlInput, params: SensitiveDataExposureParams
    ) -> Outcome:
        """The share of public messages without exposed data; agents' exposures are major."""
        by_agents = tally.counts["exposed_by_agents"]
        remedied = tally.counts["customer_exposures_remedied"]
        found = {
            k.removeprefix("detected_"): n
            for k, n in tally.counts.items()
            if k.startswith("detected_")
        }
        return tally.outcome(
            target=params.target,
            empty="No public message in the audit window.",
            measures={
                "public_messages_scanned": tally.population,
                "exposed_by_agents": by_agents,
                "customer_exposures_remedied": remedied,
                **{f"detected_{name}": n for name, n in sorted(found.items())},
            },
            statement=lambda rate: (
                f"{len(tally.evidence)} of {tally.population} public messages left personal "
                f"data exposed ({by_agents} published by the organisation, "
                f"{len(tally.evidence) - by_agents} by customers without a timely action); "
                f"{remedied} customer exposures were handled in time; {percent(rate)} of public "
                "messages conform."
            ),
            grade_floor=Severity.MAJOR if by_agents else None,
        )
