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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import chain
from operator import attrgetter
from typing import Annotated, Any, ClassVar, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from iso_social.clock import Duration, format_duration
from iso_social.controls.base import ContactList, ControlInput, Tally, percent
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


def _count(mine: list[tuple[Any, ...]], start: int, end: int, within: int) -> list[EvidenceItem]:
    """Count one customer's contacts (two or more): each in the window is a repeat when it
    follows an earlier one made within `within` and not resolved before it. The evidence of
    the repeats, in time order."""
    evidence: list[EvidenceItem] = []
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
        if previous is None or not start <= at < end:
            continue
        gap = (at - previous[_AT]) / 1_000_000
        evidence.append(
            EvidenceItem(
                contact[_CONVERSATION],
                (previous[_CONVERSATION],),
                gap,
                f"the customer contacted again on {contact[_CHANNEL]} "
                f"{format_duration(gap)} after an unresolved contact on "
                f"{previous[_CHANNEL]} ({previous[_CONVERSATION]}).",
            )
        )
    return evidence


@dataclass
class _Customers:
    """The contacts grouped by customer, and the evidence of each customer with a repeat:
    what a full count builds (`counted`) and a scheduled check keeps between checks, where it
    groups and counts again only the customers with a contact that arrived, left or moved in
    or out of the window (`take`): grouping and judging every customer's contacts again took
    a second of a check over a million messages' window, at every check."""

    start: int
    end: int
    within: int
    serial: int | None = None  # the `ContactList` last taken
    groups: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    repeats: dict[str, list[EvidenceItem]] = field(default_factory=dict)

    @classmethod
    def counted(
        cls, contacts: Iterable[tuple[Any, ...]], start: int, end: int, within: int
    ) -> _Customers:
        """Every contact grouped and every customer with two or more counted."""
        groups: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
        for contact in contacts:
            groups[contact[_CUSTOMER]].append(contact)
        # kept as the defaultdict it is (not copied): `take` reads it by `get`, never by key
        customers = cls(start, end, within, groups=groups)
        for customer, mine in groups.items():
            if len(mine) > 1:  # most customers have one contact: nothing to look back at
                customers._judge(customer, mine)
        return customers

    def take(self, contacts: ContactList, start: int, end: int) -> bool:
        """Take in what changed since the list last taken (the window's new bounds too),
        counting again the customers it touched; False when the list is not the next one:
        then count everything afresh, into new `_Customers` (this one may be half changed)."""
        if contacts.since is None or contacts.since != self.serial:
            return False
        groups = self.groups
        touched = set()
        for gone in contacts.left:
            group = groups.get(gone[_CUSTOMER], [])
            at = next((i for i, c in enumerate(group) if c is gone), None)
            if at is None:  # not a contact taken before: the lists do not follow each other
                return False
            group.pop(at)
            touched.add(gone[_CUSTOMER])
        for arrived in contacts.arrived:
            groups.setdefault(arrived[_CUSTOMER], []).append(arrived)
            touched.add(arrived[_CUSTOMER])
        if (start, end) != (self.start, self.end):  # contacts that moved in or out
            low, high = sorted((self.start, start)), sorted((self.end, end))
            touched.update(
                c[_CUSTOMER]
                for c in contacts
                if low[0] <= c[_AT] < low[1] or high[0] <= c[_AT] < high[1]
            )
        self.start, self.end, self.serial = start, end, contacts.serial
        for customer in touched:
            mine = groups.get(customer)
            if not mine:
                groups.pop(customer, None)
                self.repeats.pop(customer, None)
            elif len(mine) > 1:
                self._judge(customer, mine)
            else:
                self.repeats.pop(customer, None)
        return True

    def _judge(self, customer: str, mine: list[tuple[Any, ...]]) -> None:
        evidence = _count(mine, self.start, self.end, self.within)
        if evidence:
            self.repeats[customer] = evidence
        else:
            self.repeats.pop(customer, None)


_CUSTOMERS = "customers"  # where `kept` holds the `_Customers`
_BY_CONVERSATION = attrgetter("conversation_id")


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
        tuples of their values a split check moves), in the conversations' order: the
        population is in that order, the evidence in the conversations' id order. With
        `kept` (a scheduled check's, the same dict each time) and the contacts as a
        `ContactList`, only the customers whose contacts changed since the list before are
        grouped and judged again (`_Customers.take`)."""
        start, end = _micros(data.window.start), _micros(data.window.end)
        within = params.within // _MICROSECOND
        if not isinstance(contacts, list):
            contacts = list(contacts)
        customers = None if kept is None else kept.get(_CUSTOMERS)
        if not (
            isinstance(customers, _Customers)
            and isinstance(contacts, ContactList)
            and customers.within == within
            and customers.take(contacts, start, end)
        ):
            customers = _Customers.counted(contacts, start, end, within)
            if kept is not None:
                kept.clear()
                kept[_CUSTOMERS] = customers
                if isinstance(contacts, ContactList):
                    customers.serial = contacts.serial
        population = [c[_CONVERSATION] for c in contacts if start <= c[_AT] < end]
        evidence = sorted(chain.from_iterable(customers.repeats.values()), key=_BY_CONVERSATION)
        repeaters = len(customers.repeats)
        tally = Tally(
            conforming=len(population) - len(evidence),
            evidence=evidence,
            population_ids=population,
            failed_ids=list(map(_BY_CONVERSATION, evidence)),
        )
        period = format_duration(params.within.total_seconds())
        return tally.outcome(
            target=params.target,
            empty="No customer contact in the audit window.",
            measures={
                "customers": len(customers.groups),
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
