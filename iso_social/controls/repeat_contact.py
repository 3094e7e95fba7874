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
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from iso_social.clock import Duration, format_duration
from iso_social.controls.base import ControlInput, Tally, percent
from iso_social.domain import Conversation, EvidenceItem, Outcome, Status
from iso_social.i18n import N_

_DONE = (Status.RESOLVED, Status.CLOSED)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def _micros(moment: datetime) -> int:
    """An aware datetime as whole microseconds since the epoch: exact, and an int travels
    between processes far faster than a datetime."""
    return (moment - _EPOCH) // _MICROSECOND


class RepeatContactParams(BaseModel):
    """Parameters of `repeat_contact`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    within: Duration = timedelta(days=7)
    target: Annotated[float, Field(ge=0, le=1)] = 0.90


class Contact(NamedTuple):
    """A conversation as `repeat_contact` counts it: whose contact, when, and when (if ever) it
    was first resolved or closed. Plain values only (moments in microseconds since the epoch,
    `_micros`; the channel's name), so a split check moves contacts between processes as
    plain tuples (`PerContact`)."""

    customer: str  # the author of its first customer message, in lower case
    at: int
    conversation_id: str
    channel: str
    done_at: int | None


# a contact's fields by position: `evaluate_contacts` reads `Contact`s and the plain tuples a
# split check moves alike, without building a `Contact` of each (a third of its time)
_CUSTOMER, _AT, _CONVERSATION, _CHANNEL, _DONE_AT = 0, 1, 2, 3, 4


class _Counted(NamedTuple):
    """A customer's contacts as counted (`_count`), with what they were counted from: the
    contacts in the conversations' order, and which were inside the window."""

    contacts: list[tuple[Any, ...]]
    inside: tuple[bool, ...]
    population_ids: list[str]
    evidence: list[EvidenceItem]
    failed_ids: list[str]


def _count(
    mine: list[tuple[Any, ...]], start: int, end: int, within: int
) -> tuple[list[str], list[EvidenceItem], list[str]]:
    """Count one customer's contacts (two or more): each in the window is a repeat when it
    follows an earlier one made within `within` and not resolved before it. The ids counted
    (in time order), the evidence of the repeats and their ids: a tally's lists, which the
    caller joins into the whole tally (a `Tally` a customer, joined by `extend`, cost a
    scheduled check a third of the control's time)."""
    counted: list[str] = []
    evidence: list[EvidenceItem] = []
    failed: list[str] = []
    # the contacts before this one not resolved before it: those resolved before one contact
    # are resolved before every later one, so each is dropped once as it reaches the end of
    # the list (walking back over them for each contact took quadratic time: an hour for a
    # customer's 340,000 contacts, which a log mapped with one author for everyone makes)
    earlier: list[tuple[Any, ...]] = []
    # in time order, ties by conversation id: the tuples compare so (one customer's, and a
    # conversation is one contact, so nothing after its id is ever compared)
    for contact in sorted(mine):
        at = contact[_AT]
        while earlier and earlier[-1][_DONE_AT] is not None and earlier[-1][_DONE_AT] < at:
            earlier.pop()
        previous = earlier[-1] if earlier and earlier[-1][_AT] >= at - within else None
        earlier.append(contact)
        if not start <= at < end:
            continue
        cid = contact[_CONVERSATION]
        counted.append(cid)
        if previous is None:
            continue
        gap = (at - previous[_AT]) / 1_000_000
        failed.append(cid)
        evidence.append(
            EvidenceItem(
                cid,
                (previous[_CONVERSATION],),
                gap,
                f"the customer contacted again on {contact[_CHANNEL]} "
                f"{format_duration(gap)} after an unresolved contact on "
                f"{previous[_CHANNEL]} ({previous[_CONVERSATION]}).",
            )
        )
    return counted, evidence, failed


class RepeatContact:
    """Share of contacts that are not a repeat about an unresolved case."""

    type_name: ClassVar[str] = "repeat_contact"
    params_model: ClassVar[type[BaseModel]] = RepeatContactParams
    summary: ClassVar[str] = N_("share of contacts that are not repeats about an unresolved case")

    def evaluate(self, data: ControlInput, params: RepeatContactParams) -> Outcome:
        """Find each customer's contacts that follow an unresolved one within the period."""
        contacts = [c for c in map(self.contact, data.conversations) if c is not None]
        return self.evaluate_contacts(contacts, data, params)

    def contact(self, conversation: Conversation) -> Contact | None:
        """The conversation as a customer's contact (None without a customer's message)."""
        first = conversation.first_customer_message
        if first is None or not first.author:
            return None
        done = [s.created_at for s in conversation.statuses if s.status in _DONE]
        return Contact(
            first.author.lower(),
            _micros(first.created_at),
            conversation.conversation_id,
            conversation.channel.value,
            _micros(min(done)) if done else None,
        )

    def evaluate_contacts(
        self,
        contacts: Iterable[tuple[Any, ...]],
        data: ControlInput,
        params: RepeatContactParams,
        kept: dict[Any, Any] | None = None,
    ) -> Outcome:
        """`evaluate` over the conversations' contacts (`PerContact`: `Contact`s, or the plain
        tuples of their values a split check moves), in their order. With `kept` (a scheduled
        check's, the same dict each time) a customer whose contacts are the same as last time,
        each inside or outside the window as it was, is counted as last time without being
        judged again."""
        by_customer: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for contact in contacts:
            by_customer[contact[_CUSTOMER]].append(contact)
        population: list[str] = []
        evidence: list[EvidenceItem] = []
        failed: list[str] = []
        repeaters = 0
        start, end = _micros(data.window.start), _micros(data.window.end)
        within = params.within // _MICROSECOND
        for customer, mine in by_customer.items():
            if len(mine) == 1:  # most customers: nothing to look back at
                if start <= mine[0][_AT] < end:
                    population.append(mine[0][_CONVERSATION])
                continue
            if kept is None:
                ids, items, repeats = _count(mine, start, end, within)
            else:
                inside = tuple([start <= c[_AT] < end for c in mine])
                counted = kept.get(customer)
                if counted is None or counted.inside != inside or counted.contacts != mine:
                    counted = kept[customer] = _Counted(
                        mine, inside, *_count(mine, start, end, within)
                    )
                ids, items, repeats = counted.population_ids, counted.evidence, counted.failed_ids
            population += ids
            if items:
                evidence += items
                failed += repeats
                repeaters += 1
        if kept is not None and len(kept) > 1.25 * len(by_customer) + 100:
            for customer in [c for c in kept if c not in by_customer]:
                del kept[customer]
        tally = Tally(
            conforming=len(population) - len(evidence),
            evidence=evidence,
            population_ids=population,
            failed_ids=failed,
        )
        period = format_duration(params.within.total_seconds())
        return tally.outcome(
            target=params.target,
            empty="No customer contact in the audit window.",
            measures={
                "customers": len(by_customer),
                "customers_with_repeats": repeaters,
                "within_seconds": params.within.total_seconds(),
            },
            statement=lambda rate: (
                f"{len(tally.evidence)} of {tally.population} contacts ({percent(1 - rate)}) "
                f"were repeats within {period} about an unresolved case, from "
                f"{repeaters} customers; the target is {percent(params.target)} of "
                "contacts without a repeat."
            ),
        )
