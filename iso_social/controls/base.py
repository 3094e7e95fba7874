"""The `ControlType` contract and the data a control type evaluates.

A control type knows nothing about the policy that uses it: it gets the conversations (and
calls) of its channels in the audit window, its validated parameters, and the named business
calendars; it returns an `Outcome`. The check stage adds the control id, clauses and grading.
"""

from __future__ import annotations

import hashlib
import itertools
import unicodedata
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property, lru_cache
from operator import attrgetter
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

import orjson
from pydantic import BaseModel

from iso_social._version import __version__
from iso_social.clock import BusinessCalendar, calendar_for, format_duration
from iso_social.domain import (
    Call,
    Conversation,
    EvidenceItem,
    FirstReply,
    Outcome,
    ResponseFilter,
    Severity,
    Upcoming,
    Window,
)

P = TypeVar("P")
T = TypeVar("T")


# what a scanner found in a conversation: by message id, for messages with a finding only
Found = Mapping[str, Sequence[str]]


@dataclass(frozen=True, eq=False)
class Scanner:
    """A control's reading of message text: `find(conversation)` says what it finds in each of
    the conversation's messages (by message id, for the messages with a finding only, as
    strings), from each message's own immutable fields (text, direction, role, visibility)
    and the `settings` it was built with: the same message always gives the same result, so a
    check may take it from what the store kept (`Scans`). It loops over the messages itself
    (a call per message cost a first check a second). Bump `version` when `find` finds
    something else than before: the `key` (what the store keeps the results under) changes
    with it, with the settings, with this tool's version and with Python's Unicode data.
    `keep`: whether the store keeps the results at all; a scanner that reads few messages with
    one pattern each (escalation words in customers' messages) runs faster than its results
    are read back."""

    name: str
    settings: tuple[Any, ...]  # plain values whose repr is stable (str, int, tuples)
    find: Callable[[Conversation], dict[str, Sequence[str]]]
    version: int = 1
    keep: bool = True

    @cached_property
    def key(self) -> str:
        """`name/version/iso-social's version/digest of the settings`: what the results depend
        on (a retention purge deletes the rows another version of iso-social kept)."""
        # Python's Unicode data decides what \w, \b and str.lower see in other scripts
        what = repr(
            (__version__, unicodedata.unidata_version, self.name, self.version, self.settings)
        ).encode("utf-8")
        digest = hashlib.sha256(what).hexdigest()[:20]
        return f"{self.name}/{self.version}/{__version__}/{digest}"

    def scan(self, conversation: Conversation) -> dict[str, Sequence[str]]:
        """What it finds in the conversation's messages (`find`), for those with a finding."""
        return self.find(conversation)


def text_fingerprint(conversation: Conversation) -> str:
    """What changes when the conversation's messages do, as a scanner sees them: their count,
    the total length of their text and the last one's id. Messages are only ever added (a
    set of the messages before a window's end, in time order, with the same count and last
    message is the same set) and a text changes only when a retention purge blanks every
    message of the conversation (its total length then falls to nought)."""
    messages = conversation.messages
    if not messages:
        return "0"
    length = sum(map(len, map(_TEXT, messages)))
    return f"{len(messages)} {length} {messages[-1].message_id}"


_TEXT = attrgetter("text")
# a row the store kept for a scanner and conversation: its fingerprint, and what was found
# as JSON (`{message id: [...]}`), or None when nothing was
KeptScan = tuple[str, str | None]


class Scans:
    """The scanners' findings in the conversations a check evaluates: those the store kept
    (`kept`: by scanner key, then conversation id) when the conversation is as it was then,
    else scanned now and noted in `new` (scanner key, conversation id, fingerprint, found as
    JSON or None) for the store to keep. Without `kept` every conversation is scanned and
    nothing noted (a check with nothing to keep results in, or an incremental one, which
    assesses only conversations that changed)."""

    __slots__ = ("_fingerprints", "_kept", "new")

    def __init__(self, kept: dict[str, dict[str, KeptScan]] | None = None) -> None:
        self._kept = kept
        self._fingerprints: dict[str, str] = {}
        self.new: list[tuple[str, str, str, str | None]] = []

    def found(self, scanner: Scanner, conversation: Conversation) -> Found:
        """What `scanner` finds in the conversation's messages (see `Scanner.scan`)."""
        if self._kept is None or not scanner.keep:
            return scanner.scan(conversation)
        cid = conversation.conversation_id
        fingerprint = self._fingerprints.get(cid)
        if fingerprint is None:
            fingerprint = self._fingerprints[cid] = text_fingerprint(conversation)
        key = scanner.key
        kept = self._kept.get(key)
        if kept is None:
            kept = self._kept[key] = {}
        hit = kept.get(cid)
        if hit is not None and hit[0] == fingerprint:
            if hit[1] is None:
                return {}
            try:
                loaded = orjson.loads(hit[1])
            except orjson.JSONDecodeError:
                loaded = None  # not what a check writes (edited by hand?): scanned again
            if isinstance(loaded, dict):
                return loaded
        found = scanner.scan(conversation)
        encoded = orjson.dumps(found).decode("utf-8") if found else None  # compact, UTF-8
        kept[cid] = (fingerprint, encoded)  # a second control with the same scanner reuses it
        self.new.append((key, cid, fingerprint, encoded))
        return found


@dataclass(frozen=True)
class ControlInput:
    """What a control type evaluates: its population's raw material and the clock."""

    window: Window
    conversations: Sequence[Conversation] = ()
    calls: Sequence[Call] = ()
    calendars: Mapping[str, BusinessCalendar] = field(default_factory=dict)
    # what a `FedByFirstReplies` control measures, when the store found it (by its
    # `reply_filter`) instead of handing over whole conversations; None: use `conversations`
    first_replies: Sequence[FirstReply] | None = None
    # what the controls' text scanners find in the conversations (`Scans`): kept by the
    # store where the check has it, else scanned as they are asked for
    scans: Scans = field(default_factory=Scans)
    # what a control type works out once per evaluation rather than per conversation (a
    # deadline's counter names, say), by a key of its own; not part of the input's value
    memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def calendar(self, name: str) -> BusinessCalendar:
        """The named calendar; `always` (calendar time) exists unless a policy redefines it."""
        if name in self.calendars:
            return self.calendars[name]
        if name == "always":
            return calendar_for(None)
        raise KeyError(name)


@dataclass(frozen=True, slots=True)
class Waited(EvidenceItem):
    """A nonconforming case whose detail says how long something lasted up to the window's end
    ("no reply: 3 h waited"): `detail` holds `{waited}` where that time goes, measured from
    `since` on the named calendar when the outcome is made (`at_window_end`). Counted this
    way, the case itself holds for any later window (its tally stays settled), so a scheduled
    check reuses it rather than assessing the conversation again at every run."""

    since: datetime
    calendar: str

    def at(self, data: ControlInput) -> EvidenceItem:
        """The case as recorded for the window of `data`."""
        return _measured(self, data.calendar(self.calendar), data.window.end)


# a scheduled check measures the same waiting cases to the same window's end at every check
# (25,000 of them a check over a million messages: a quarter of a second of business-time
# arithmetic): the last ones measured are kept, by the case, its calendar and the end
@lru_cache(maxsize=1 << 16)
def _measured(case: Waited, calendar: BusinessCalendar, end: datetime) -> EvidenceItem:
    waited = calendar.seconds_between(case.since, end)
    detail = case.detail.replace("{waited}", format_duration(waited))
    return EvidenceItem(case.conversation_id, case.message_ids, case.value, detail)


def at_window_end(evidence: Iterable[EvidenceItem], data: ControlInput) -> tuple[EvidenceItem, ...]:
    """The cases as recorded for the window of `data` (each `Waited` one measured to its end)."""
    return tuple(e.at(data) if type(e) is Waited else e for e in evidence)


def per_params(build: Callable[[P], T]) -> Callable[[P], T]:
    """`build(params)` once per parameters object, found by identity: `functools.cache` would
    hash the frozen model, walking every field, for every conversation assessed."""
    memo: dict[int, tuple[P, T]] = {}

    def built(params: P) -> T:
        hit = memo.get(id(params))
        if hit is not None and hit[0] is params:  # kept alive here, so its id is not reused
            return hit[1]
        if len(memo) >= 64:
            memo.clear()
        value = build(params)
        memo[id(params)] = (params, value)
        return value

    return built


@runtime_checkable
class PerConversation(Protocol):
    """A control type whose count is a sum over conversations: `assess` counts one conversation
    into a tally, `conclude` turns the whole tally into the outcome. Its `evaluate` is
    `evaluate_each`; incremental checks call `assess` only for conversations that changed or are
    not settled, and reuse the others' tallies."""

    def assess(
        self, conversation: Conversation, data: ControlInput, params: Any, tally: Tally
    ) -> None:
        """Count one conversation."""
        ...

    def conclude(self, tally: Tally, data: ControlInput, params: Any) -> Outcome:
        """The outcome of the counted population."""
        ...


def evaluate_each(control: PerConversation, data: ControlInput, params: Any) -> Outcome:
    """Assess every conversation in order, then conclude."""
    return control.conclude(tally_each(control, data, params), data, params)


def tally_each(control: PerConversation, data: ControlInput, params: Any) -> Tally:
    """Every conversation assessed in order, into one tally (not concluded yet: a check split
    by conversation joins such tallies first)."""
    tally = Tally()
    for conversation in data.conversations:
        control.assess(conversation, data, params, tally)
    return tally


class ContactList(list[tuple[Any, ...]]):
    """The contacts a scheduled check hands a contact-counted type (`PerContact`), with what
    changed since the list it handed the same control before this one (`since`, by `serial`;
    None: this is the first): the contacts no longer among them (`left`) and those new among
    them (`arrived`), by object (a contact not among either is the very tuple the previous
    list held). A type that takes `kept` may count again only what changed; any type may
    ignore all this and read the list."""

    def __init__(self) -> None:
        super().__init__()
        self.serial = next(_CONTACT_LISTS)
        self.since: int | None = None
        self.arrived: list[tuple[Any, ...]] = []
        self.left: list[tuple[Any, ...]] = []


_CONTACT_LISTS = itertools.count(1)


@runtime_checkable
class PerContact(Protocol):
    """A control type counted over contacts that each come from one conversation but are
    judged together (a customer's earlier contacts): `contact` summarises a conversation
    (None: not a contact) as a tuple of plain values (str, int, float, None; a NamedTuple
    reads best), `evaluate_contacts` counts the summaries, given in the conversations'
    order. A check split among processes by conversation (`check`) has each process
    summarise its own and send them as plain tuples (pickled about eight times faster than
    NamedTuples of datetimes and enums), and evaluates the joined summaries once."""

    def contact(self, conversation: Conversation) -> tuple[Any, ...] | None:
        """One conversation's contact, or None."""
        ...

    def evaluate_contacts(
        self,
        contacts: Iterable[tuple[Any, ...]],
        data: ControlInput,
        params: Any,
        kept: dict[Any, Any] | None = None,
    ) -> Outcome:
        """The outcome over every contact (as `contact` gave it, or a plain tuple of its
        values), in the conversations' order. `kept` (optional for a type to accept: one that
        does not is given none): a dict a scheduled check passes again at each check, where the
        type may keep what it counted to count again only what changed (the check then hands
        the contacts as a `ContactList`, which says what changed); the outcome is the same as
        without it."""
        ...


@runtime_checkable
class CallsOnly(Protocol):
    """A control type that reads `ControlInput.calls` and never the conversations."""

    calls_only: ClassVar[bool]


@runtime_checkable
class FedByFirstReplies(Protocol):
    """A control type that needs of each conversation only its first customer message and the
    first response after it: a check of such controls alone lets the store find those pairs
    (`ControlInput.first_replies`) rather than read whole conversations."""

    def reply_filter(self, params: Any) -> ResponseFilter:
        """What counts as a response under `params`."""
        ...


@runtime_checkable
class ReadsText(Protocol):
    """A control type that reads message text through `Scanner`s (`ControlInput.scans`): it
    names them, so that a check reads what the store kept of them with the window."""

    def scanners(self, params: Any) -> tuple[Scanner, ...]:
        """The scanners the control uses under `params`."""
        ...


@runtime_checkable
class ControlType(Protocol):
    """A kind of control, e.g. `first_response_time`; one module per type."""

    type_name: ClassVar[str]
    params_model: ClassVar[type[BaseModel]]
    summary: ClassVar[str]

    def evaluate(self, data: ControlInput, params: Any) -> Outcome:
        """Measure the control over `data` with validated `params`."""
        ...


def percentile(sorted_values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100) by linear interpolation between closest ranks (NumPy's
    default method); None for no values."""
    if not sorted_values:
        return None
    position = (len(sorted_values) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(sorted_values) - 1)
    fraction = position - low
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * fraction


def share(part: int, whole: int) -> float | None:
    """`part / whole`, or None when the whole is empty."""
    return part / whole if whole else None


def percent(value: float | None) -> str:
    """A share as a percentage for statements: `95.2%`, or `n/a`."""
    return "n/a" if value is None else f"{value * 100:.1f}%"


def time_measures(values: list[float]) -> Mapping[str, float | None]:
    """p50, p90 and mean of measured seconds."""
    ordered = sorted(values)
    return {
        "p50_seconds": percentile(ordered, 50),
        "p90_seconds": percentile(ordered, 90),
        "mean_seconds": sum(ordered) / len(ordered) if ordered else None,
    }


# Upper bounds (seconds) of the response-time bands of a distribution: 15 min, 30 min, 1 h, 2 h,
# 4 h, 8 h, 1 d, 3 d; a last band holds everything longer. Fixed, so channels and runs compare.
RESPONSE_BANDS = (900, 1800, 3600, 7200, 14400, 28800, 86400, 259200)


@lru_cache(maxsize=256)
def band_keys(group: str) -> tuple[str, ...]:
    """The counter names of `group`'s response-time bands, in order, then of "never answered":
    a measured time counts under `band_keys(group)[band_of(seconds)]` (see `distribution`)."""
    bands = [*map(str, range(len(RESPONSE_BANDS) + 1)), "never"]
    return tuple(f"band:{group}:{band}" for band in bands)


def band_of(seconds: float | None) -> int:
    """The index in `band_keys` of a measured time (None: never answered)."""
    return len(RESPONSE_BANDS) + 1 if seconds is None else bisect_left(RESPONSE_BANDS, seconds)


def distribution(counts: Counter[str]) -> dict[str, Any]:
    """The response-time distribution per group counted under `band_keys`: band bounds, then
    per group the count in each band (the last unbounded) and the number never answered."""
    groups = sorted({key.split(":")[1] for key in counts if key.startswith("band:")})
    return {
        "bands_seconds": list(RESPONSE_BANDS),
        "by_channel": {
            group: {
                "answered": [
                    counts[f"band:{group}:{band}"] for band in range(len(RESPONSE_BANDS) + 1)
                ],
                "unanswered": counts[f"band:{group}:never"],
            }
            for group in groups
        },
    }


@dataclass(slots=True)  # incremental states keep one per conversation and control
class Tally:
    """A control's population as it is counted: items that conform, nonconforming items with
    their evidence, items still pending, measured values (for percentiles) and named counters.

    `settled` stays True while nothing counted depends on where the window ends (an item still
    within its deadline, or a wait measured up to the window's end): a settled tally of an
    unchanged conversation is still right for a later window, so incremental checks reuse it.
    A count that holds only until a later window's end passes a known moment (an age trigger
    not reached yet) stays settled with that moment as `valid_until` (`until`)."""

    conforming: int = 0
    pending: int = 0
    evidence: list[EvidenceItem] = field(default_factory=list)
    population_ids: list[str] = field(default_factory=list)
    failed_ids: list[str] = field(default_factory=list)  # each evidence item's population id
    values: list[float] = field(default_factory=list)
    upcoming: list[Upcoming] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    settled: bool = True
    valid_until: datetime | None = None  # right for windows ending at or before this moment

    def extend(self, other: Tally) -> None:
        """Count in the tally of the population's next part (its items follow this one's)."""
        self.conforming += other.conforming
        self.pending += other.pending
        self.evidence += other.evidence
        self.population_ids += other.population_ids
        self.failed_ids += other.failed_ids
        self.values += other.values
        self.upcoming += other.upcoming
        self.counts.update(other.counts)  # keeps counters at zero, as counting them would
        self.settled = self.settled and other.settled
        if other.valid_until is not None:
            self.until(other.valid_until)

    def until(self, moment: datetime) -> None:
        """The count holds for windows ending at or before `moment`, and must be made again
        for a window ending later (an age trigger a later window's end would reach)."""
        if self.valid_until is None or moment < self.valid_until:
            self.valid_until = moment

    def wait(self) -> None:
        """Count an item whose outcome is not known yet at the window's end."""
        self.pending += 1
        self.settled = False

    @property
    def population(self) -> int:
        """Items counted: conforming and nonconforming (pending ones are not)."""
        return self.conforming + len(self.evidence)

    def passed(self, item_id: str, value: float | None = None) -> None:
        """Count a conforming item."""
        self.conforming += 1
        self.population_ids.append(item_id)
        if value is not None:
            self.values.append(value)

    def waiting(self, conversation_id: str, due_at: datetime) -> None:
        """Count an item still within its deadline at the end of the window."""
        self.wait()
        self.upcoming.append(Upcoming(conversation_id, due_at))

    def failed(self, item_id: str, item: EvidenceItem, value: float | None = None) -> None:
        """Count a nonconforming item with its evidence."""
        self.evidence.append(item)
        self.population_ids.append(item_id)
        self.failed_ids.append(item_id)
        if value is not None:
            self.values.append(value)

    def outcome(
        self,
        *,
        target: float,
        empty: str,
        statement: Callable[[float], str],
        measures: Mapping[str, Any],
        grade_floor: Severity | None = None,
        data: ControlInput | None = None,
    ) -> Outcome:
        """The outcome: not evaluated when nothing was counted, else the rate against target
        (with `data`, `Waited` cases measured to its window's end)."""
        upcoming = tuple(sorted(self.upcoming, key=lambda u: u.due_at))
        if self.population == 0:
            return Outcome.not_evaluated(empty, upcoming, **measures)
        rate = self.conforming / self.population
        return Outcome(
            conforms=rate >= target,
            statement=statement(rate),
            population=self.population,
            conforming=self.conforming,
            nonconforming=len(self.evidence),
            rate=rate,
            target=target,
            measures=measures,
            evidence=tuple(self.evidence) if data is None else at_window_end(self.evidence, data),
            population_ids=tuple(self.population_ids),
            nonconforming_ids=tuple(self.failed_ids),
            grade_floor=grade_floor,
            upcoming=upcoming,
        )
