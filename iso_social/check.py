"""Evaluate policies over conversations: pure, with no I/O (a check may fork worker processes
that evaluate some of its controls, `evaluate_policy(workers=)`, but they read nothing else).

Each control gets the conversations and calls of its channels; its `Outcome` is graded into a
`Finding`: the target decides conformity, the control's `grading` bands (or else its severity)
the grade of a shortfall, and an outcome that is major on its own (an agent publishing a card
number) is never graded lower. Waivers in force then apply: items of waived conversations leave
the count, and a control waived as a whole is `waived` instead of nonconforming. Waivers are
judged on the audit window's last day, so a rerun gives the same verdict; an expired waiver no
longer applies and is reported as a warning.

Incremental checks (the scheduler's) pass an `IncrementalState`: a per-conversation control type
(`PerConversation`) then assesses only the conversations that changed since the last check, that
are not settled (something still pending, or measured up to the window's end) or that reach back
to the window's start, and reuses the kept tallies of the others. `conclude` sees the same tally
in the same order as a full check, so the results are the same; other control types are
evaluated in full.
"""

from __future__ import annotations

import dataclasses
import inspect
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from heapq import heapify, heappop, heappush
from itertools import chain, pairwise
from operator import attrgetter, itemgetter
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar, cast

from iso_social.controls import ControlInput, control_types
from iso_social.controls.base import (
    CallsOnly,
    ContactList,
    FedByFirstReplies,
    PerContact,
    PerConversation,
    ReadsText,
    Scans,
    Tally,
    tally_each,
)
from iso_social.domain import (
    Call,
    Channel,
    Conversation,
    EvidenceItem,
    Finding,
    FirstReply,
    Outcome,
    ResponseFilter,
    Upcoming,
    Verdict,
    Window,
)
from iso_social.policy import Control, Policy, Waiver

if TYPE_CHECKING:
    from iso_social.store.repository import WindowCalls, WindowConversations


def grade(outcome: Outcome, control: Control) -> Verdict:
    """The verdict of an outcome: conforms, or a grade from the bands or the severity."""
    if outcome.conforms is None:
        return Verdict.NOT_EVALUATED
    if outcome.conforms:
        return Verdict.CONFORMS
    graded = Verdict.for_severity(control.spec.severity)
    bands = [b for b in control.spec.grading if outcome.rate is not None and outcome.rate < b.below]
    if bands:
        graded = Verdict.for_severity(min(bands, key=lambda b: b.below).grade)
    if outcome.grade_floor is not None:
        floor = Verdict.for_severity(outcome.grade_floor)
        return floor if floor.rank > graded.rank else graded
    return graded


def _waiver_record(waiver: Waiver, waived_items: int) -> dict[str, Any]:
    scope = waiver.scope
    return {
        "justification": waiver.justification,
        "approved_by": waiver.approved_by,
        "approved_on": waiver.approved_on.isoformat(),
        "expires": waiver.expires.isoformat(),
        "scope": {
            "channels": [c.value for c in scope.channels],
            "conversations": list(scope.conversations),
            "from": scope.start.isoformat() if scope.start else None,
            "to": scope.end.isoformat() if scope.end else None,
        },
        "items_waived": waived_items,
    }


def _covers_window(waiver: Waiver, control: Control, window: Window) -> bool:
    scope = waiver.scope
    if scope.conversations:
        return False
    if scope.channels and not set(control.spec.channels) <= set(scope.channels):
        return False
    last_day = (window.end - timedelta(microseconds=1)).date()
    return (scope.start is None or scope.start <= window.start.date()) and (
        scope.end is None or scope.end >= last_day
    )


def _without_items(outcome: Outcome, conversations: set[str]) -> tuple[Outcome, int]:
    """The outcome without the nonconforming items of the waived conversations: out of the
    evidence, the count and the population its samples are drawn from."""
    waived = [e.conversation_id in conversations for e in outcome.evidence]
    removed = sum(waived)
    if not removed:
        return outcome, 0
    kept = tuple(e for e, out in zip(outcome.evidence, waived, strict=True) if not out)
    ids = outcome.nonconforming_ids
    gone = {i for i, out in zip(ids, waived, strict=True) if out} if ids else set()
    population = outcome.population - removed
    rate = outcome.conforming / population if population else None
    conforms = None if rate is None else rate >= (outcome.target or 0)
    return dataclasses.replace(
        outcome,
        evidence=kept,
        nonconforming=len(kept),
        population=population,
        population_ids=tuple(i for i in outcome.population_ids if i not in gone),
        nonconforming_ids=tuple(i for i in ids if i not in gone),
        rate=rate,
        conforms=conforms,
        statement=f"{outcome.statement} {removed} waived cases are not counted.",
    ), removed


Fingerprint = tuple[Any, ...]
Mark = tuple[Fingerprint, datetime | None]  # a conversation's fingerprint and first moment


@dataclass
class IncrementalState:
    """What a scheduler keeps between checks: each per-conversation control's tally of each
    conversation, with the conversation's fingerprint; each contact-counted control's
    contacts; the window's conversations as last read (`loaded`, kept by the pipeline so a
    check reads only what changed); and how much was assessed or reused."""

    tallies: dict[tuple[str, str], dict[str, tuple[Mark, Kept]]] = field(default_factory=dict)
    totals: dict[tuple[str, str], Totals] = field(default_factory=dict)
    windows: dict[tuple[str, str], Window] = field(default_factory=dict)
    marks: dict[str, tuple[Conversation, Mark]] = field(default_factory=dict)
    # each contact-counted control's contacts (`PerContact`), by conversation
    contacts: dict[tuple[str, str], _Summaries] = field(default_factory=dict)
    # what each contact-counted control keeps of its own between checks (`PerContact`)
    counted: dict[tuple[str, str], dict[Any, Any]] = field(default_factory=dict)
    loaded: WindowConversations | None = None
    calls: WindowCalls | None = None  # the window's calls as last read (`loaded`'s twin)
    assessed: int = 0
    reused: int = 0
    # which check `marks_of` last marked, and the conversations it found new or changed in it
    generation: int = 0
    changed: set[str] = field(default_factory=set)
    gone: set[str] = field(default_factory=set)  # in the previous check's window, not this one's
    ids: AbstractSet[str] = frozenset()  # the conversations `marks_of` last marked
    # the marks `marks_of` last gave, and the `loaded` read's serial they were made for
    marked: tuple[int | None, dict[str, Mark]] = (None, {})
    seen: dict[tuple[str, str], int] = field(default_factory=dict)
    # the last check's findings, with what they were made of (`_unchanged`)
    last: _LastCheck | None = None


class _LastCheck(NamedTuple):
    """A scheduled check's findings and what they were made of: the window, the policies'
    digests, the `loaded` read's serial and the calls list."""

    window: Window
    policies: tuple[str, ...]
    serial: int
    calls: Sequence[Call]
    findings: list[Finding]


def _digests(policies: Sequence[Policy]) -> tuple[str, ...]:
    return tuple(p.sha256 for p in policies)


def _unchanged(
    state: IncrementalState, policies: Sequence[Policy], window: Window, calls: Sequence[Call]
) -> list[Finding] | None:
    """The last check's findings when nothing they were made of has changed: the same window
    and policies, the conversations the `loaded` read refreshed from the last check's with
    nothing read again (each the object that check counted) and the very calls list (a
    refresh keeps it when no call arrived). Every control would count the same objects over
    the same window to the same findings: a scheduled check with nothing new skips them (a
    second or more of a million messages' window). None otherwise. As for `marks_of`, the
    conversations of a check with `state.loaded` must be that read's (`ordered()`); one
    that did not refresh `loaded` since the last check (its `since` is not that check's
    read) counts."""
    last, loaded = state.last, state.loaded
    if (
        last is None
        or loaded is None
        or loaded.read_again != frozenset()
        or loaded.since != last.serial
        or calls is not last.calls
        or window != last.window
        or _digests(policies) != last.policies
    ):
        return None
    # the same objects under the refreshed read's serial: the next refresh starts from it
    state.last = last._replace(serial=loaded.serial)
    serial, marks = state.marked
    if serial == last.serial:
        state.marked = (loaded.serial, marks)
    return last.findings


def fingerprint(conversation: Conversation) -> Fingerprint:
    """What changes when a conversation gets a message or status, or has its text purged."""
    messages, statuses = conversation.messages, conversation.statuses
    return (
        len(messages),
        messages[-1].message_id if messages else None,
        messages[-1].created_at if messages else None,
        len(statuses),
        statuses[-1].created_at if statuses else None,
        len(conversation.escalations),
        sum(len(m.text) for m in messages),
    )


def marks_of(
    conversations: Sequence[Conversation], state: IncrementalState | None = None
) -> dict[str, Mark]:
    """Each conversation's fingerprint and first moment, computed once for every control; with
    `state`, kept for the same conversation objects (those a refresh did not read again).
    When `conversations` are the state's `loaded` read and it refreshed the read the last
    marks were made for, only the conversations it read again are looked at: a pass over a
    million messages' window was a tenth of a scheduled check."""
    if state is None:
        return {c.conversation_id: (fingerprint(c), _starts_at(c)) for c in conversations}
    loaded, (serial, last) = state.loaded, state.marked
    if (
        loaded is not None
        and loaded.read_again is not None
        and loaded.since is not None
        and loaded.since == serial
        and len(conversations) == len(loaded.by_id)
    ):
        # the last marks, less the conversations gone from the window, with those read again
        marks, gone = dict(last), set()
        for cid in loaded.read_again - loaded.by_id.keys():
            if marks.pop(cid, None) is not None:
                gone.add(cid)
            state.marks.pop(cid, None)
        again = (loaded.by_id[cid] for cid in loaded.read_again if cid in loaded.by_id)
        changed = _mark(again, state.marks, marks)
    else:
        marks = {}
        changed = _mark(conversations, state.marks, marks)
        _prune(state.marks, conversations)
        gone = set(state.ids - marks.keys())
    state.generation += 1
    state.changed, state.gone, state.ids = changed, gone, marks.keys()
    state.marked = (None if loaded is None else loaded.serial, marks)
    return marks


def _mark(
    conversations: Iterable[Conversation],
    kept: dict[str, tuple[Conversation, Mark]],
    marks: dict[str, Mark],
) -> set[str]:
    """Put each conversation's mark in `marks`: the one `kept` for the same object, else
    worked out and kept; the ids of those worked out (new or read again)."""
    changed: set[str] = set()
    for conversation in conversations:
        cid = conversation.conversation_id
        hit = kept.get(cid)
        if hit is not None and hit[0] is conversation:
            marks[cid] = hit[1]
        else:
            marks[cid] = mark = (fingerprint(conversation), _starts_at(conversation))
            kept[cid] = (conversation, mark)
            changed.add(cid)
    return changed


def _starts_at(conversation: Conversation) -> datetime | None:
    moments = [
        items[0].created_at
        for items in (conversation.messages, conversation.statuses, conversation.escalations)
        if items
    ]
    return min(moments) if moments else None


def _start_inside(mark: Mark, window: Window) -> datetime | None:
    """The conversation's first moment when it lies inside the window; None when it reaches
    back before the start (or has nothing dated): then a kept tally cannot be reused."""
    start = mark[1]
    return start if start is not None and start >= window.start else None


class Kept(NamedTuple):
    """A conversation's tally as an incremental state keeps it: immutable, its empty parts
    shared (a state keeps one per conversation and control, 1.8 million for a window of a
    million messages; a `Tally` with its lists and counter is three times the size and six
    objects for the garbage collector to walk)."""

    conforming: int
    pending: int
    evidence: tuple[EvidenceItem, ...]
    population_ids: tuple[str, ...]
    failed_ids: tuple[str, ...]
    values: tuple[float, ...]
    upcoming: tuple[Upcoming, ...]
    counts: Mapping[str, int]
    settled: bool
    valid_until: datetime | None

    @classmethod
    def of(cls, tally: Tally) -> Kept:
        """The kept form of a conversation's freshly counted tally."""
        return cls(
            tally.conforming,
            tally.pending,
            tuple(tally.evidence) if tally.evidence else (),
            tuple(tally.population_ids) if tally.population_ids else (),
            tuple(tally.failed_ids) if tally.failed_ids else (),
            tuple(tally.values) if tally.values else (),
            tuple(tally.upcoming) if tally.upcoming else (),
            dict(tally.counts) if tally.counts else _NO_COUNTS,
            tally.settled,
            tally.valid_until,
        )


_NO_COUNTS: Mapping[str, int] = MappingProxyType({})


_SEGMENT = 2048  # conversations whose lists a check joins again when one of them changes
_LISTS = slice(2, 7)  # a `Kept`'s lists (evidence, population_ids ... upcoming), named as `Tally`'s
_LIST_NAMES = Kept._fields[_LISTS]
_PARTS = tuple(map(attrgetter, _LIST_NAMES))
Joined = tuple[list[Any], ...]  # a segment's tallies' lists (`_PARTS`), each in the window's order


class Totals:
    """A control's running sums over the kept tallies of the window's conversations: what
    adding every conversation's tally up would give, kept so that a check takes away and adds
    only the tallies of conversations that changed (or are not settled, or reach back to the
    window's start) instead of adding up a whole window's again.

    The tallies' lists (cases, population...) are joined by segments of the window's
    conversation ids (`_bounds`: the first id of each segment after the first), each segment's
    kept joined (`_joined`) until one of its conversations is counted in or out (`_dirty`): a
    check with little new joins a few segments again, not every conversation's lists."""

    __slots__ = (
        "_bounds",
        "_dirty",
        "_joined",
        "conforming",
        "counts",
        "early",
        "expiring",
        "holders",
        "pending",
        "starts",
        "unsettled",
    )

    def __init__(self) -> None:
        self.conforming = 0
        self.pending = 0
        self.counts: Counter[str] = Counter()
        self.holders: Counter[str] = Counter()  # how many tallies hold each count, so a count
        # leaves when its last holder does, exactly as if the tallies were added up again
        self.unsettled: set[str] = set()
        self.early: set[str] = set()  # starting before the window: assessed at every check
        self.starts: list[tuple[datetime, str]] = []  # heap of the others' first moments
        self.expiring: list[tuple[datetime, str]] = []  # heap of tallies' `valid_until`
        self._bounds: list[str] = []
        self._joined: list[Joined | None] = []
        self._dirty: set[str] = set()

    def add(
        self, cid: str, mark: Mark, tally: Kept, window: Window, *, same_lists: bool = False
    ) -> None:
        """Count a conversation's tally in (`same_lists`: its lists are those of the tally
        just taken out, so its segment's joined lists still hold)."""
        if not same_lists:
            self._dirty.add(cid)
        self.conforming += tally.conforming
        self.pending += tally.pending
        for name, count in tally.counts.items():
            self.counts[name] += count
            self.holders[name] += 1
        if not tally.settled:
            self.unsettled.add(cid)
        if tally.valid_until is not None:
            heappush(self.expiring, (tally.valid_until, cid))
        start = _start_inside(mark, window)
        if start is None:
            self.early.add(cid)
        else:
            heappush(self.starts, (start, cid))

    def add_all(self, kept: dict[str, tuple[Mark, Kept]], window: Window) -> None:
        """`add` every kept tally, in bulk (a whole window's: 345,000 conversations a control)."""
        tallies = list(map(_TALLY, kept.values()))
        self.conforming += sum(map(_CONFORMING, tallies))
        self.pending += sum(map(_PENDING, tallies))
        for counts in filter(None, map(_COUNTS, tallies)):
            self.counts.update(counts)
        self.holders.update(chain.from_iterable(map(_COUNTS, tallies)))
        self.unsettled.update(cid for cid, (_, t) in kept.items() if not t.settled)
        self.place(kept, window)

    def place(self, kept: dict[str, tuple[Mark, Kept]], window: Window) -> None:
        """Sort the kept conversations afresh into those reaching back before the window's
        start and the heap of the others' first moments, and heap the tallies' `valid_until`
        (dropping both heaps' stale entries)."""
        starts = {cid: _start_inside(mark, window) for cid, (mark, _) in kept.items()}
        self.early = {cid for cid, start in starts.items() if start is None}
        self.starts = [(start, cid) for cid, start in starts.items() if start is not None]
        heapify(self.starts)
        self.expiring = [
            (t.valid_until, cid) for cid, (_, t) in kept.items() if t.valid_until is not None
        ]
        heapify(self.expiring)

    def take(self, cid: str, tally: Kept, *, same_lists: bool = False) -> None:
        """Count a conversation's tally out (its stale entry in `starts` is left to expire;
        `same_lists`: as `add`'s, for the tally counted in again in its place)."""
        if not same_lists:
            self._dirty.add(cid)
        self.conforming -= tally.conforming
        self.pending -= tally.pending
        for name, count in tally.counts.items():
            self.counts[name] -= count
            self.holders[name] -= 1
            if not self.holders[name]:
                del self.counts[name], self.holders[name]
        self.unsettled.discard(cid)
        self.early.discard(cid)

    def expired(self, window: Window) -> set[str]:
        """Conversations whose tally held only until a moment the window's end has passed
        (entries of tallies counted again since are left to expire here too)."""
        found = set()
        while self.expiring and self.expiring[0][0] < window.end:
            found.add(heappop(self.expiring)[1])
        return found

    def reaching_back(self, window: Window) -> set[str]:
        """Conversations the window's start has moved past since they were counted."""
        found = set()
        while self.starts and self.starts[0][0] < window.start:
            found.add(heappop(self.starts)[1])
        return found

    def tally(self, order: list[str], kept: dict[str, tuple[Mark, Kept]]) -> Tally:
        """The whole tally, the lists of the conversations `order` names (the window's, by
        ascending id, as `conversations_in` gives them; each in `kept`) joined in that order."""
        parts = zip(*self._segments(order, kept), strict=True)  # each list, by segment
        lists: dict[str, Any] = {
            name: list(chain.from_iterable(segments))
            for name, segments in zip(_LIST_NAMES, parts, strict=True)
        }
        return Tally(
            conforming=self.conforming,
            pending=self.pending,
            counts=Counter(self.counts),
            settled=not self.unsettled,
            **lists,
        )

    def _segments(self, order: list[str], kept: dict[str, tuple[Mark, Kept]]) -> list[Joined]:
        """Each segment's joined lists: kept where none of its conversations was counted in
        or out since, joined again where one was. A segment joined again that has grown to
        four times its size (new conversations, whose ids mostly sort after the others',
        gather in the last) is cut into segments of the size there; every segment is cut
        afresh when the window's conversations have left them (twice as many segments as the
        window needs). Cutting them all afresh when one had grown joined every conversation's
        lists again every few scheduled checks (a second for a million messages' window)."""
        bounds, joined = self._bounds, self._joined
        if joined and len(joined) <= 2 * (len(order) // _SEGMENT) + 8:
            for cid in self._dirty:
                joined[bisect_right(bounds, cid)] = None
            edges = [0, *(bisect_left(order, bound) for bound in bounds), len(order)]
            if any(
                part is None and high - low > 4 * _SEGMENT
                for part, (low, high) in zip(joined, pairwise(edges), strict=True)
            ):
                bounds, joined = self._cut_grown(order, edges)
                edges = [0, *(bisect_left(order, bound) for bound in bounds), len(order)]
        else:
            self._bounds = bounds = order[_SEGMENT::_SEGMENT]
            self._joined = joined = [None] * (len(bounds) + 1)
            edges = [0, *range(_SEGMENT, len(order), _SEGMENT), len(order)]
        self._dirty.clear()
        for index, (low, high) in enumerate(pairwise(edges)):
            if joined[index] is None:
                tallies = [kept[cid][1] for cid in order[low:high]]
                joined[index] = tuple(
                    list(chain.from_iterable(map(part, tallies))) for part in _PARTS
                )
        return cast(list[Joined], joined)  # every segment joined above

    def _cut_grown(
        self, order: list[str], edges: list[int]
    ) -> tuple[list[str], list[Joined | None]]:
        """The segments with each one to be joined again that has grown past four times its
        size cut into segments of `_SEGMENT` conversations (`edges`: where each segment
        starts in `order`, and its end); the others as they were."""
        bounds: list[str] = []
        joined: list[Joined | None] = []
        for index, (low, high) in enumerate(pairwise(edges)):
            if index:
                bounds.append(self._bounds[index - 1])
            part = self._joined[index]
            if part is None and high - low > 4 * _SEGMENT:
                cuts = order[low + _SEGMENT : high : _SEGMENT]
                bounds += cuts
                joined += [None] * (len(cuts) + 1)
            else:
                joined.append(part)
        self._bounds, self._joined = bounds, joined
        return bounds, joined


_CONVERSATION_ID, _TALLY = attrgetter("conversation_id"), itemgetter(1)
_CHANNEL = attrgetter("channel")
_CONFORMING, _PENDING, _COUNTS = (
    attrgetter("conforming"),
    attrgetter("pending"),
    attrgetter("counts"),
)


def _assessed(
    kind: PerConversation,
    conversation: Conversation,
    data: ControlInput,
    params: Any,
    scratch: Tally,
) -> Kept:
    """One conversation's tally in its kept form, counted in `scratch` (emptied after: one
    `Tally` a control rather than one a conversation)."""
    kind.assess(conversation, data, params, scratch)
    kept = Kept.of(scratch)
    scratch.conforming = scratch.pending = 0
    for part in (
        scratch.evidence,
        scratch.population_ids,
        scratch.failed_ids,
        scratch.values,
        scratch.upcoming,
    ):
        if part:
            part.clear()
    if scratch.counts:
        scratch.counts.clear()
    scratch.settled = True
    scratch.valid_until = None
    return kept


def _reusable(hit: tuple[Mark, Kept] | None, mark: Mark, window: Window) -> bool:
    """A kept tally still holds: same conversation, settled (and valid for a window ending
    there), starting inside the window."""
    return (
        hit is not None
        and (hit[0] is mark or hit[0] == mark)
        and hit[1].settled
        and (hit[1].valid_until is None or window.end <= hit[1].valid_until)
        and _start_inside(mark, window) is not None
    )


def _incremental(
    kind: PerConversation,
    data: ControlInput,
    params: Any,
    key: tuple[str, str],
    state: IncrementalState,
    marks: dict[str, Mark],
    channels: frozenset[Channel] | None,
    order: list[str],
) -> Outcome:
    """`channels` is None when `marks` are not `marks_of` this check's (then every conversation
    is looked at); else the control's channels, empty for all. `order`: the ids of
    `data.conversations`, in their order."""
    window, before = data.window, state.windows.get(key)
    kept, totals = state.tallies.get(key), state.totals.get(key)
    if before is not None and (window.start < before.start or window.end < before.end):
        kept = totals = None  # the window went back: nothing kept is known to hold
    assessed = -1
    if (
        kept is not None
        and totals is not None
        and channels is not None
        and state.seen.get(key) == state.generation - 1  # kept as of the previous check
    ):
        assessed = _update(kind, data, params, kept, totals, state, marks, channels)
        if len(kept) != len(order):  # cannot happen; if it did, count everything again
            assessed = -1
    if kept is None or totals is None or assessed < 0:
        previous, kept, totals = kept or {}, {}, Totals()
        assessed = _count_all(kind, data, params, previous, marks, kept, totals)
        state.tallies[key], state.totals[key] = kept, totals
    state.assessed += assessed
    state.reused += len(order) - assessed
    state.windows[key] = window
    state.seen[key] = state.generation if channels is not None else -1
    tally = totals.tally(order, kept)
    return kind.conclude(tally, data, params)


def _count_all(
    kind: PerConversation,
    data: ControlInput,
    params: Any,
    previous: dict[str, tuple[Mark, Kept]],
    marks: dict[str, Mark],
    kept: dict[str, tuple[Mark, Kept]],
    totals: Totals,
) -> int:
    """Count every conversation into new `kept` and `totals`, reusing what still holds."""
    assessed, scratch = 0, Tally()
    for conversation in data.conversations:
        cid = conversation.conversation_id
        mark = marks[cid]
        hit = previous.get(cid)
        if hit is not None and _reusable(hit, mark, data.window):
            own = hit[1]
        else:
            own = _assessed(kind, conversation, data, params, scratch)
            assessed += 1
        kept[cid] = (mark, own)
    totals.add_all(kept, data.window)
    return assessed


def _update(
    kind: PerConversation,
    data: ControlInput,
    params: Any,
    kept: dict[str, tuple[Mark, Kept]],
    totals: Totals,
    state: IncrementalState,
    marks: dict[str, Mark],
    channels: frozenset[Channel],
) -> int:
    """Count again, in place, only the conversations that changed since the previous check,
    left the window, are not settled or reach back to the window's start."""
    window = data.window
    looked_at = state.changed | totals.unsettled | totals.early | totals.reaching_back(window)
    looked_at |= totals.expired(window)
    # kept holds the previous check's conversations (on the control's channels): those that
    # left the window are among the check's gone ones
    looked_at.update(cid for cid in state.gone if cid in kept)
    assessed, scratch = 0, Tally()
    for cid in looked_at:
        hit = kept.get(cid)
        conversation = state.marks[cid][0] if cid in marks else None
        if conversation is None or (channels and conversation.channel not in channels):
            if hit is not None:  # out of the window, or of the control's channels
                totals.take(cid, hit[1])
                del kept[cid]
            continue
        mark = marks[cid]
        if _reusable(hit, mark, window):
            continue
        own = _assessed(kind, conversation, data, params, scratch)
        assessed += 1
        # counted again with the same lists (most of those still open or reaching back
        # before the window's start, at every check): its segment's joined lists still hold
        same = hit is not None and hit[1][_LISTS] == own[_LISTS]
        if hit is not None:
            totals.take(cid, hit[1], same_lists=same)
        kept[cid] = (mark, own)
        totals.add(cid, mark, own, window, same_lists=same)
    # mostly stale entries (a conversation counted again pushes new ones)
    if len(totals.starts) > 2 * len(kept) + 1000 or len(totals.expiring) > len(kept) + 1000:
        totals.place(kept, window)
    return assessed


@dataclass
class _Summaries:
    """A contact-counted control's contacts as a scheduled check keeps them: each
    conversation's, with the object it was made of, and the serial of the `ContactList`
    last handed over."""

    by_conversation: dict[str, tuple[Conversation, tuple[Any, ...] | None]] = field(
        default_factory=dict
    )
    serial: int | None = None


def _kept_contacts(
    kind: PerContact, conversations: Sequence[Conversation], kept: _Summaries
) -> ContactList:
    """The conversations' contacts, in order, summarising again only the conversations a
    refresh read again (a new object: an unchanged conversation is the object summarised
    last time), with what changed since the list handed over last time: the contacts of
    conversations read again or gone (from the window or the control's channels) left, the
    new ones arrived. `kept` holds each conversation's contact for the next check."""
    contacts = ContactList()
    contacts.since, kept.serial = kept.serial, contacts.serial
    by_conversation, arrived, left = kept.by_conversation, contacts.arrived, contacts.left
    for conversation in conversations:
        hit = by_conversation.get(conversation.conversation_id)
        if hit is not None and hit[0] is conversation:
            contact = hit[1]
        else:
            contact = kind.contact(conversation)
            by_conversation[conversation.conversation_id] = (conversation, contact)
            if hit is not None and hit[1] is not None:
                left.append(hit[1])
            if contact is not None:
                arrived.append(contact)
        if contact is not None:
            contacts.append(contact)
    if len(by_conversation) > len(conversations):  # some are no longer among them
        forgotten = _forget_absent(by_conversation, conversations)
        left += [gone for _, gone in forgotten if gone is not None]
    return contacts


def _prune(kept: dict[str, Any], conversations: Sequence[Conversation]) -> None:
    """Forget conversations no longer in the window, once they are a fifth of what is kept."""
    if len(kept) > 1.25 * len(conversations) + 100:
        _forget_absent(kept, conversations)


def _forget_absent(kept: dict[str, Any], conversations: Sequence[Conversation]) -> list[Any]:
    """Forget the conversations not among `conversations`; what was kept of them."""
    present = {c.conversation_id for c in conversations}
    return [kept.pop(cid) for cid in [cid for cid in kept if cid not in present]]


ChannelItem = TypeVar("ChannelItem", Conversation, Call)


@dataclass
class Selection:
    """The conversations and calls on a set of channels, selected once for every control on
    them, with the conversations' ids once one of them asks (`ids`)."""

    conversations: list[Conversation]
    calls: list[Call]
    _ids: list[str] | None = field(default=None, init=False, repr=False)

    def ids(self) -> list[str]:
        """The conversations' ids, in their order: what an incremental check joins each
        control's kept lists by (a pass over the selection, once for all its controls rather
        than once a control: six of the shipped controls are on the same channel)."""
        if self._ids is None:
            self._ids = list(map(_CONVERSATION_ID, self.conversations))
        return self._ids


Selections = dict[frozenset[Channel], Selection]  # each set of channels', by `_selected`

# what a check of first-response controls alone reads instead of conversations (`reply_needs`)
ReplyNeed = tuple[frozenset[Channel], ResponseFilter]
Replies = Mapping[ReplyNeed, Sequence[FirstReply]]


def reply_needs(controls: Iterable[Control]) -> set[ReplyNeed] | None:
    """When every control is fed by first replies (`FedByFirstReplies`), the channels and
    response filter of each, for the store to find (`first_replies`) rather than read whole
    conversations; None when any control needs more."""
    needs = set()
    types = control_types()
    for control in controls:
        kind = types[control.spec.type]
        if not isinstance(kind, FedByFirstReplies):
            return None
        needs.add((frozenset(control.spec.channels), kind.reply_filter(control.params)))
    return needs or None


def scanner_keys(controls: Iterable[Control]) -> set[str]:
    """The keys of the text scanners the controls use (`ReadsText`) whose results the store
    keeps: what a check reads of them."""
    types = control_types()
    keys: set[str] = set()
    for control in controls:
        kind = types[control.spec.type]
        if isinstance(kind, ReadsText):
            keys.update(s.key for s in kind.scanners(control.params) if s.keep)
    return keys


def _on(channels: frozenset[Channel], items: Sequence[ChannelItem]) -> list[ChannelItem]:
    """The conversations (or calls) on `channels`; all of them when it is empty."""
    return [item for item in items if not channels or item.channel in channels]


def _by_channel(items: Sequence[ChannelItem]) -> dict[Channel, list[ChannelItem]]:
    """The conversations (or calls) of each channel, in their order, in one pass."""
    groups: dict[Channel, list[ChannelItem]] = {channel: [] for channel in Channel}
    for item in items:
        groups[item.channel].append(item)
    return groups


def _selected(
    channels: frozenset[Channel],
    conversations: Sequence[Conversation],
    calls: Sequence[Call],
    selections: Selections,
) -> Selection:
    """The conversations and calls on `channels`, kept in `selections` for the next control on
    them; the first single channel asked for sorts every item by channel in one pass (most
    controls name one channel) rather than filtering the window once a channel."""
    if channels not in selections:
        if len(channels) == 1:
            by_conversation, by_call = _by_channel(conversations), _by_channel(calls)
            for channel in Channel:
                selections[frozenset((channel,))] = Selection(
                    by_conversation[channel], by_call[channel]
                )
        else:
            selections[channels] = Selection(_on(channels, conversations), _on(channels, calls))
    return selections[channels]


def evaluate_control(
    control: Control,
    policy: Policy,
    window: Window,
    conversations: Sequence[Conversation],
    calls: Sequence[Call],
    state: IncrementalState | None = None,
    marks: dict[str, Mark] | None = None,
    selections: Selections | None = None,
    replies: Replies | None = None,
    scans: Scans | None = None,
) -> Finding:
    """Evaluate one control over the conversations and calls of its channels (`marks`, of
    `marks_of`, saves incremental checks computing them again for each control; `selections`
    keeps each set of channels' conversations and calls for the next control on them; `scans`
    holds what the store kept of the text scanners' findings), or over the first replies the
    store found for it (`replies`, keyed as `reply_needs`)."""
    channels = frozenset(control.spec.channels)
    kind = control_types()[control.spec.type]
    selection = None
    if replies is not None and isinstance(kind, FedByFirstReplies):
        data = ControlInput(
            window=window,
            calendars=policy.calendars(),
            first_replies=replies[channels, kind.reply_filter(control.params)],
        )
    else:
        selections = {} if selections is None else selections
        selection = _selected(channels, conversations, calls, selections)
        data = ControlInput(
            window=window,
            conversations=selection.conversations,
            calls=selection.calls,
            calendars=policy.calendars(),
            scans=Scans() if scans is None else scans,
        )
    if state is not None and isinstance(kind, PerConversation):
        key = (policy.sha256, control.spec.id)
        known: frozenset[Channel] | None = channels
        if marks is None:
            marks, known = marks_of(data.conversations), None
        order = (
            selection.ids()
            if selection is not None
            else list(map(_CONVERSATION_ID, data.conversations))
        )
        outcome = _incremental(kind, data, control.params, key, state, marks, known, order)
    elif state is not None and isinstance(kind, PerContact):
        key = (policy.sha256, control.spec.id)
        summaries = state.contacts.setdefault(key, _Summaries())
        contacts = _kept_contacts(kind, data.conversations, summaries)
        if _takes_kept(kind):
            kept = state.counted.setdefault(key, {})
            outcome = kind.evaluate_contacts(contacts, data, control.params, kept=kept)
        else:
            outcome = kind.evaluate_contacts(contacts, data, control.params)
    else:
        outcome = kind.evaluate(data, control.params)
    return _finding(control, policy, window, outcome)


def _takes_kept(kind: PerContact) -> bool:
    """Whether a contact-counted type's `evaluate_contacts` takes `kept` (a plug-in written
    before it existed does not, and is evaluated over every contact as before; asked once a
    control a check, a few microseconds)."""
    return "kept" in inspect.signature(kind.evaluate_contacts).parameters


def _finding(control: Control, policy: Policy, window: Window, outcome: Outcome) -> Finding:
    """A control's outcome as a graded finding, its waivers applied."""
    last_day: date = (window.end - timedelta(microseconds=1)).date()
    waivers, warnings, whole = [], [], False
    for waiver in (w for w in policy.document.waivers if w.control == control.spec.id):
        if waiver.expires <= last_day:
            warnings.append(
                f"{control.spec.id}: the waiver approved by {waiver.approved_by} "
                f"expired on {waiver.expires}; the control is evaluated normally"
            )
            continue
        removed = 0
        if waiver.scope.conversations:
            outcome, removed = _without_items(outcome, set(waiver.scope.conversations))
        whole = whole or _covers_window(waiver, control, window)
        waivers.append(_waiver_record(waiver, removed))
    verdict = grade(outcome, control)
    if whole and verdict.rank > 0:
        verdict = Verdict.WAIVED
    spec = control.spec
    return Finding(
        control_id=spec.id,
        control_type=spec.type,
        title=spec.title,
        policy_id=policy.document.id,
        channels=tuple(c.value for c in spec.channels),
        clauses=spec.clauses,
        severity=spec.severity,
        verdict=verdict,
        outcome=outcome,
        params=control.params.model_dump(mode="json"),
        waivers=tuple(waivers),
        warnings=tuple(warnings),
    )


# what a check tells of its advance, for a person waiting at a terminal: the step ("evaluating
# controls"), how many of its parts are done and how many there are (0 of 0: a step whose
# parts are not counted)
CheckProgress = Callable[[str, int, int], None]
EVALUATING = "evaluating controls"  # the steps of the check's own: each control, or each run
COUNTING_RUNS = "evaluating controls, run by run"


def no_progress(step: str, done: int, total: int) -> None:
    """Where a check's progress goes when nobody follows it."""


def evaluate_policy(
    policies: Sequence[Policy],
    window: Window,
    conversations: Sequence[Conversation],
    calls: Sequence[Call] = (),
    state: IncrementalState | None = None,
    workers: int = 1,
    replies: Replies | None = None,
    scans: Scans | None = None,
    progress: CheckProgress = no_progress,
) -> list[Finding]:
    """Evaluate every control of every policy, in a stable order (policy id, control id), over
    the window's conversations and calls or, for first-response controls alone, the first
    replies the store found (`replies`, see `reply_needs`; in this process). `scans`: what
    the store kept of the text scanners' findings; what is scanned anew is added to its `new`
    (by the worker processes too).

    With `workers` > 1 (and no incremental state, which lives in this process) the controls
    are shared among that many forked processes, largest population first; each finding is
    the one a single process would give. Where processes cannot be forked (not Linux) the
    controls are evaluated here, one after the other. `progress` hears of each control
    evaluated ("evaluating controls", done, of how many)."""
    jobs = _jobs(policies)
    progress(EVALUATING, 0, len(jobs))
    if replies is not None:
        findings = []
        for policy, control in jobs:
            findings.append(evaluate_control(control, policy, window, (), (), replies=replies))
            progress(EVALUATING, len(findings), len(jobs))
    elif state is None and workers > 1 and len(jobs) > 1 and _can_fork():
        findings = _in_processes(
            jobs, window, conversations, calls, workers, scans or Scans(), progress
        )
    else:
        reused = None if state is None else _unchanged(state, policies, window, calls)
        if reused is not None:
            progress(EVALUATING, len(jobs), len(jobs))
            return list(reused)
        findings = _one_by_one(jobs, window, conversations, calls, state, scans, progress)
    findings = sorted(findings, key=lambda f: (f.policy_id, f.control_id))
    if state is not None and state.loaded is not None:  # for the next check's `_unchanged`
        digests = _digests(policies)
        state.last = _LastCheck(window, digests, state.loaded.serial, calls, findings)
        return list(findings)
    return findings


def _jobs(policies: Sequence[Policy]) -> list[tuple[Policy, Control]]:
    """Every control with its policy, in a stable order (policy id, then the policy's own)."""
    return [(p, c) for p in sorted(policies, key=lambda p: p.document.id) for c in p.controls]


def _one_by_one(
    jobs: list[tuple[Policy, Control]],
    window: Window,
    conversations: Sequence[Conversation],
    calls: Sequence[Call],
    state: IncrementalState | None = None,
    scans: Scans | None = None,
    progress: CheckProgress = no_progress,
) -> list[Finding]:
    """Each control in turn, in this process."""
    marks = marks_of(conversations, state) if state is not None else None
    selections: Selections = {}
    findings = []
    for policy, control in jobs:
        findings.append(
            evaluate_control(
                control, policy, window, conversations, calls, state, marks, selections, scans=scans
            )
        )
        progress(EVALUATING, len(findings), len(jobs))
    return findings


def _can_fork() -> bool:
    """Forked processes share the window's objects without copying them up front; only Linux
    forks safely (macOS's system libraries do not survive a fork, Windows has none)."""
    import multiprocessing
    import sys

    return sys.platform == "linux" and "fork" in multiprocessing.get_all_start_methods()


# what forked workers evaluate: set in the parent just before the fork, read by the children
_SHARED: tuple[list[tuple[Policy, Control]], Window, Sequence[Conversation], Sequence[Call], Scans]


def _in_processes(
    jobs: list[tuple[Policy, Control]],
    window: Window,
    conversations: Sequence[Conversation],
    calls: Sequence[Call],
    workers: int,
    scans: Scans,
    progress: CheckProgress = no_progress,
) -> list[Finding]:
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    global _SHARED  # inherited by the forked workers, never pickled
    _SHARED = (jobs, window, conversations, calls, scans)
    on_channel = Counter(map(_CHANNEL, conversations))

    def size(index: int) -> int:
        channels = jobs[index][1].spec.channels
        return sum(on_channel[c] for c in channels) if channels else len(conversations)

    order = sorted(range(len(jobs)), key=size, reverse=True)  # the longest first
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            findings = []
            for finding, scanned in pool.map(_evaluate_job, order):
                findings.append(finding)
                scans.new += scanned
                progress(EVALUATING, len(findings), len(jobs))
            return findings
    except BrokenProcessPool:  # a worker was killed (out of memory?): one process will do
        return _one_by_one(jobs, window, conversations, calls, scans=scans, progress=progress)
    finally:
        del _SHARED


def splits(controls: Iterable[Control]) -> bool:
    """Whether a check of `controls` can be split among processes by conversation
    (`evaluate_split`): every type counts conversation by conversation (`PerConversation`),
    contact by contact (`PerContact`) or reads calls only (`CallsOnly`)."""
    types = control_types()
    return all(
        isinstance(kind, PerConversation | PerContact) or _calls_only(kind)
        for kind in (types[control.spec.type] for control in controls)
    )


def _calls_only(kind: Any) -> bool:
    return isinstance(kind, CallsOnly) and kind.calls_only


# reads the window's conversations whose ids lie in a run (`repository.conversation_split`),
# in a forked worker, over its own connection, with what the store kept of their scans
RunReader = Callable[[tuple[str | None, str | None]], tuple[Sequence[Conversation], Scans]]
# keeps what a worker's run scanned anew (`Scans.new`), in the worker, over its own connection
ScanKeeper = Callable[[list[tuple[str, str, str, str | None]]], None]

# what forked workers of a split check read: set in the parent just before the fork
_RUNS: tuple[
    list[tuple[Policy, Control]],
    Window,
    list[tuple[str | None, str | None]],
    RunReader,
    ScanKeeper | None,
]


def evaluate_split(
    policies: Sequence[Policy],
    window: Window,
    cuts: Sequence[str],
    read: RunReader,
    calls: Callable[[], Sequence[Call]],
    processes: int | None = None,
    keep: ScanKeeper | None = None,
    progress: CheckProgress = no_progress,
) -> list[Finding] | None:
    """Evaluate every control (all `splits`) with the window's conversations cut at `cuts`
    into runs of ids, shared among `processes` forked workers (default: one a run): a worker
    reads a run and counts it for every control (a tally, or contacts), then takes the next;
    this process joins the parts in id order, so each finding is the one a single process
    would give. Meanwhile this process evaluates the calls-only controls over the window's
    `calls()` (read only when there is such a control). Every worker reads only its runs, so
    no process holds the whole window. What a worker scanned anew in a run (its `Scans.new`)
    it hands to `keep`, while the others still count. `progress` hears of each run counted.
    None when processes cannot be forked or one died: the caller then reads the window
    itself."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    if not _can_fork():
        return None
    global _RUNS  # inherited by the forked workers, never pickled
    jobs = _jobs(policies)
    bounds: list[str | None] = [None, *cuts, None]
    runs = list(pairwise(bounds))
    _RUNS = (jobs, window, runs, read, keep)
    try:
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(
            min(processes or len(runs), len(runs)), mp_context=context
        ) as pool:
            counted = [pool.submit(_evaluate_run, index) for index in range(len(runs))]
            progress(COUNTING_RUNS, 0, len(runs))
            by_calls = _evaluate_calls(jobs, window, calls)  # while the workers count
            for done, _ in enumerate(as_completed(counted), start=1):
                progress(COUNTING_RUNS, done, len(runs))
            parts = [future.result() for future in counted]
    except BrokenProcessPool:  # a worker was killed (out of memory?)
        return None
    finally:
        del _RUNS
    types = control_types()
    findings = []
    for index, (policy, control) in enumerate(jobs):
        if index in by_calls:
            findings.append(by_calls[index])
            continue
        kind = types[control.spec.type]
        data = ControlInput(window=window, calendars=policy.calendars())
        if isinstance(kind, PerConversation):
            tally = Tally()
            for part in parts:
                tally.extend(part[index])
            outcome = kind.conclude(tally, data, control.params)
        else:
            assert isinstance(kind, PerContact)  # noqa: S101 (`splits`)
            contacts = list(chain.from_iterable(part[index] for part in parts))
            outcome = kind.evaluate_contacts(contacts, data, control.params)
        findings.append(_finding(control, policy, window, outcome))
    return sorted(findings, key=lambda f: (f.policy_id, f.control_id))


def _evaluate_calls(
    jobs: Sequence[tuple[Policy, Control]], window: Window, read: Callable[[], Sequence[Call]]
) -> dict[int, Finding]:
    """The finding of each calls-only control among `jobs`, by its index, over the calls
    `read` gives (not called when there is no such control)."""
    types = control_types()
    calls: Sequence[Call] | None = None
    findings = {}
    for index, (policy, control) in enumerate(jobs):
        if _calls_only(types[control.spec.type]):
            calls = read() if calls is None else calls
            findings[index] = evaluate_control(control, policy, window, (), calls)
    return findings


def _evaluate_run(index: int) -> list[Any]:
    """In a forked worker: read one run of the window's conversations and count it for every
    control, in job order (a `Tally`, a list of contacts, or None for a calls-only control),
    and keep what its controls scanned anew."""
    jobs, window, runs, read, keep = _RUNS
    conversations, scans = read(runs[index])
    types = control_types()
    selections: Selections = {}
    parts: list[Any] = []
    for policy, control in jobs:
        kind = types[control.spec.type]
        if _calls_only(kind):
            parts.append(None)
            continue
        selected = _selected(frozenset(control.spec.channels), conversations, (), selections)
        if isinstance(kind, PerConversation):
            data = ControlInput(
                window=window,
                conversations=selected.conversations,
                calendars=policy.calendars(),
                scans=scans,
            )
            parts.append(tally_each(kind, data, control.params))
        else:
            assert isinstance(kind, PerContact)  # noqa: S101 (`splits`)
            contacts = map(kind.contact, selected.conversations)
            parts.append([tuple(c) for c in contacts if c is not None])
    if keep is not None and scans.new:
        keep(scans.new)
    return parts


def _evaluate_job(index: int) -> tuple[Finding, list[tuple[str, str, str, str | None]]]:
    """One control, in a forked worker, over the data the parent shared before the fork; with
    what it scanned anew (for the parent to keep)."""
    jobs, window, conversations, calls, scans = _SHARED
    policy, control = jobs[index]
    before = len(scans.new)
    finding = evaluate_control(control, policy, window, conversations, calls, scans=scans)
    return finding, scans.new[before:]


__all__ = [
    "COUNTING_RUNS",
    "EVALUATING",
    "CheckProgress",
    "IncrementalState",
    "Replies",
    "evaluate_control",
    "evaluate_policy",
    "evaluate_split",
    "fingerprint",
    "grade",
    "no_progress",
    "reply_needs",
    "scanner_keys",
    "splits",
]
