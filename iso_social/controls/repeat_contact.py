"""Customers should not have to contact the organisation again about an unresolved case
(ISO 10002:2018 8.6; ISO 9001:2015 9.1.2: repeat contacts are a dissatisfaction signal).

Contacts are grouped by customer (the author of their first message: a handle, an address, or a
pseudonym, the same across channels when ingested with the same pseudonym key). A conversation
started within `within` of an earlier one by the same customer, on any channel, while that
earlier case was unresolved (no `resolved` or `closed` status before the new contact; a case
without status records counts as unresolved), is a repeat contact. The population is the
customers' contacts that start in the window; the rate is the share that are not repeats.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from iso_social.clock import Duration, format_duration
from iso_social.controls.base import ControlInput, Tally, percent
from iso_social.domain import Conversation, EvidenceItem, Outcome, Status
from iso_social.i18n import N_

_DONE = (Status.RESOLVED, Status.CLOSED)


class RepeatContactParams(BaseModel):
    """Parameters of `repeat_contact`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    within: Duration = timedelta(days=7)
    target: Annotated[float, Field(ge=0, le=1)] = 0.90


def _resolved_before(conversation: Conversation, moment: datetime) -> bool:
    return any(s.status in _DONE and s.created_at < moment for s in conversation.statuses)


def _latest_open(
    contacts: list[tuple[datetime, Conversation]], index: int, since: datetime
) -> tuple[datetime, Conversation] | None:
    """The latest of a customer's contacts before `contacts[index]` (in time order) made at or
    after `since` and not resolved before it."""
    moment = contacts[index][0]
    for earlier in range(index - 1, -1, -1):
        when, conversation = contacts[earlier]
        if when < since:
            return None  # the rest are earlier still
        if not _resolved_before(conversation, moment):
            return when, conversation
    return None


def _contact_order(contact: tuple[datetime, Conversation]) -> tuple[datetime, str]:
    return contact[0], contact[1].conversation_id


class RepeatContact:
    """Share of contacts that are not a repeat about an unresolved case."""

    type_name: ClassVar[str] = "repeat_contact"
    params_model: ClassVar[type[BaseModel]] = RepeatContactParams
    summary: ClassVar[str] = N_("share of contacts that are not repeats about an unresolved case")

    def evaluate(self, data: ControlInput, params: RepeatContactParams) -> Outcome:
        """Find each customer's contacts that follow an unresolved one within the period."""
        by_customer: dict[str, list[tuple[datetime, Conversation]]] = defaultdict(list)
        for conversation in data.conversations:
            first = conversation.first_customer_message
            if first is not None and first.author:
                by_customer[first.author.lower()].append((first.created_at, conversation))
        tally = Tally()
        repeaters: set[str] = set()
        start, end = data.window.start, data.window.end
        for customer, contacts in by_customer.items():
            if len(contacts) == 1:  # most customers: nothing to look back at
                moment, conversation = contacts[0]
                if start <= moment < end:
                    tally.passed(conversation.conversation_id)
                continue
            contacts.sort(key=_contact_order)
            for index, (moment, conversation) in enumerate(contacts):
                if not start <= moment < end:
                    continue
                cid = conversation.conversation_id
                earlier = _latest_open(contacts, index, moment - params.within) if index else None
                if earlier is None:
                    tally.passed(cid)
                    continue
                when, previous = earlier
                gap = (moment - when).total_seconds()
                repeaters.add(customer)
                tally.failed(
                    cid,
                    EvidenceItem(
                        cid,
                        (previous.conversation_id,),
                        gap,
                        f"the customer contacted again on {conversation.channel.value} "
                        f"{format_duration(gap)} after an unresolved contact on "
                        f"{previous.channel.value} ({previous.conversation_id}).",
                    ),
                )
        within = format_duration(params.within.total_seconds())
        return tally.outcome(
            target=params.target,
            empty="No customer contact in the audit window.",
            measures={
                "customers": len(by_customer),
                "customers_with_repeats": len(repeaters),
                "within_seconds": params.within.total_seconds(),
            },
            statement=lambda rate: (
                f"{len(tally.evidence)} of {tally.population} contacts ({percent(1 - rate)}) "
                f"were repeats within {within} about an unresolved case, from "
                f"{len(repeaters)} customers; the target is {percent(params.target)} of "
                "contacts without a repeat."
            ),
        )
