"""Cases are escalated in time, to an allowed level, without skipping levels (ISO 10002:2018
8.5 "initial assessment" and 8.6; ISO 9001:2015 8.2.1 e "contingency actions").

`levels` lists the escalation path in order (e.g. agent, supervisor, quality_manager, legal).
Each trigger names a level and what calls for it: the case's age (time since the first customer
message while unresolved: by its status records, or without any, while the customer's last
message is unanswered), or words in a customer message (regulators, lawyers, "denuncia",
"OMIC", "FACUA", "abogado"...). A triggered case must be escalated (an `escalation` record) to
that level or a higher one within the trigger's `deadline` (a case already escalated that far
before the trigger satisfies it). Escalations to a level not on the
path, or that skip a level (straight to legal without a supervisor), are nonconformities too.
The population is every case with a trigger or an escalation in the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from iso_social.clock import BusinessCalendar, Duration, format_duration
from iso_social.controls._phrases import Phrases
from iso_social.controls.base import (
    ControlInput,
    Found,
    Scanner,
    Tally,
    evaluate_each,
    per_params,
    percent,
)
from iso_social.domain import AuthorRole, Conversation, Direction, EvidenceItem, Outcome, Status
from iso_social.i18n import N_

DEFAULT_WORDS = (
    "regulator",
    "ombudsman",
    "lawyer",
    "attorney",
    "solicitor",
    "sue",
    "lawsuit",
    "court",
    "legal action",
    "consumer protection",
    "trading standards",
    "denuncia",
    "denunciar",
    "abogado",
    "abogada",
    "demanda",
    "juzgado",
    "tribunal",
    "OMIC",
    "FACUA",
    "OCU",
    "Banco de España",
    "hoja de reclamaciones",
    "CONDUSEF",
    "PROFECO",
)


class Trigger(BaseModel):
    """What calls for an escalation to a level, and how soon it must happen."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    level: str
    after: Duration | None = None
    words: tuple[str, ...] = ()
    deadline: Duration = timedelta(hours=4)

    @model_validator(mode="after")
    def _something_triggers(self) -> Trigger:
        if self.after is None and not self.words:
            raise ValueError("a trigger needs `after` (an age) or `words`")
        return self


class EscalationPathParams(BaseModel):
    """Parameters of `escalation_path`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    levels: tuple[str, ...] = ("agent", "supervisor", "quality_manager", "legal")
    triggers: tuple[Trigger, ...] = (
        Trigger(level="supervisor", after=timedelta(hours=48)),
        Trigger(level="legal", words=DEFAULT_WORDS, deadline=timedelta(hours=24)),
    )
    calendar: str = "always"
    target: Annotated[float, Field(ge=0, le=1)] = 1.0

    @model_validator(mode="after")
    def _levels_on_the_path(self) -> EscalationPathParams:
        for trigger in self.triggers:
            if trigger.level not in self.levels:
                raise ValueError(f"trigger level '{trigger.level}' is not one of the levels")
        return self


_INBOUND, _CUSTOMER = Direction.INBOUND, AuthorRole.CUSTOMER


def _words(words: tuple[str, ...]) -> Phrases | None:
    return Phrases.any_of(words) if words else None


@per_params
def _path(params: EscalationPathParams) -> tuple[dict[str, int], Scanner | None]:
    """Each level's rank on the path, and the scanner of the triggers' words (None when no
    trigger has words), once per set of parameters (not for every conversation)."""
    rank = {level: i for i, level in enumerate(params.levels)}
    patterns = [(str(i), _words(t.words)) for i, t in enumerate(params.triggers)]
    worded = [(index, pattern) for index, pattern in patterns if pattern is not None]
    single, only = (worded[0][1], (worded[0][0],)) if len(worded) == 1 else (None, ())

    def find(conversation: Conversation) -> dict[str, Sequence[str]]:
        """The triggers (by index) whose words each customer's message holds."""
        found: dict[str, Sequence[str]] = {}
        for message in conversation.messages:
            if message.direction is _INBOUND and message.author_role is _CUSTOMER:
                if single is not None:  # one trigger with words (the default): no list
                    if single.search(message.text):
                        found[message.message_id] = only
                    continue
                hits = [index for index, pattern in worded if pattern.search(message.text)]
                if hits:
                    found[message.message_id] = hits
        return found

    if not worded:
        return rank, None
    settings = tuple(t.words for t in params.triggers)
    # one pattern over customers' messages: scanned faster than kept results are read back
    return rank, Scanner("escalation_path", settings, find, keep=False)


def _still_open(conversation: Conversation, resolved: datetime | None, moment: datetime) -> bool:
    """Unresolved at `moment`: by the status records when there are any; without them (social
    channels have no statuses), while the customer's last message is still unanswered."""
    if conversation.statuses:
        return resolved is None or resolved > moment
    last_customer: datetime | None = None
    last_answer: datetime | None = None
    for message in conversation.messages:  # one pass: this runs for most conversations
        at = message.created_at
        if at > moment:
            continue
        if message.direction is _INBOUND and message.author_role is _CUSTOMER:
            last_customer = at if last_customer is None else max(last_customer, at)
        elif message.direction is Direction.OUTBOUND and not message.automated:
            last_answer = at if last_answer is None else max(last_answer, at)
    return last_customer is not None and (last_answer is None or last_answer < last_customer)


class EscalationPath:
    """Escalations in time, to allowed levels, without skipping."""

    type_name: ClassVar[str] = "escalation_path"
    params_model: ClassVar[type[BaseModel]] = EscalationPathParams
    summary: ClassVar[str] = N_("cases escalated in time, to an allowed level, without skipping")

    def scanners(self, params: EscalationPathParams) -> tuple[Scanner, ...]:
        """The triggers' words, as a scanner (`ReadsText`), if any trigger has words."""
        scanner = _path(params)[1]
        return () if scanner is None else (scanner,)

    def evaluate(self, data: ControlInput, params: EscalationPathParams) -> Outcome:
        """Check every triggered or escalated case."""
        return evaluate_each(self, data, params)

    def assess(
        self,
        conversation: Conversation,
        data: ControlInput,
        params: EscalationPathParams,
        tally: Tally,
    ) -> None:
        """Check one conversation, if something triggered it or it was escalated."""
        first = conversation.first_customer_message
        if first is None:
            return
        calendar = data.calendar(params.calendar)
        rank, scanner = _path(params)
        found = {} if scanner is None else data.scans.found(scanner, conversation)
        due_items = self._triggered(
            conversation, first.created_at, params, found, calendar, data, tally
        )
        in_scope = bool(due_items) or (
            bool(conversation.escalations)
            and any(e.created_at in data.window for e in conversation.escalations)
        )
        if not in_scope:
            return
        problems = self._path_problems(conversation, rank)
        waiting = False
        for trigger, triggered_at in due_items:
            deadline_at = calendar.add(triggered_at, trigger.deadline)
            done = next(
                (e for e in conversation.escalations if rank.get(e.to, -1) >= rank[trigger.level]),
                None,
            )
            if done is not None and done.created_at <= deadline_at:
                continue
            if done is None and deadline_at > data.window.end:
                waiting = True
                continue
            late = "not escalated"
            if done is not None:
                waited = calendar.seconds_between(triggered_at, done.created_at)
                late = f"escalated only after {format_duration(waited)}"
            problems.append(
                f"{late} to {trigger.level} (due within "
                f"{format_duration(trigger.deadline.total_seconds())} of "
                f"{triggered_at:%Y-%m-%d %H:%M} UTC)"
            )
        if waiting and not problems:
            tally.wait()
            return
        cid = conversation.conversation_id
        if problems:
            tally.failed(cid, EvidenceItem(cid, (), None, "; ".join(problems) + "."))
        else:
            tally.passed(cid)

    def conclude(self, tally: Tally, data: ControlInput, params: EscalationPathParams) -> Outcome:
        """The share of cases that followed the path in time."""
        return tally.outcome(
            target=params.target,
            empty="No case called for or had an escalation in the audit window.",
            measures={"cases_in_scope": tally.population, "pending": tally.pending},
            statement=lambda rate: (
                f"{tally.conforming} of {tally.population} cases calling for or having an "
                f"escalation ({percent(rate)}) followed the path {' → '.join(params.levels)} "
                f"in time; {len(tally.evidence)} did not."
            ),
        )

    @staticmethod
    def _triggered(
        conversation: Conversation,
        start: datetime,
        params: EscalationPathParams,
        found: Found,
        calendar: BusinessCalendar,
        data: ControlInput,
        tally: Tally,
    ) -> list[tuple[Trigger, datetime]]:
        resolved = None
        if conversation.statuses:  # social channels have none
            resolved = next(
                (
                    s.created_at
                    for s in conversation.statuses
                    if s.status in (Status.RESOLVED, Status.CLOSED)
                ),
                None,
            )
        low, high = data.window.start, data.window.end
        result: list[tuple[Trigger, datetime]] = []
        for index, trigger in enumerate(params.triggers):
            moments: list[datetime] = []  # in the window only
            if trigger.after is not None:
                aged = calendar.add(start, trigger.after)
                if aged >= high:
                    tally.until(aged)  # a later window's end may pass it
                elif aged >= low and _still_open(conversation, resolved, aged):
                    moments.append(aged)
            if found:  # the customer messages with the words of a trigger, by its index
                mark = str(index)
                moments += [
                    m.created_at
                    for m in conversation.messages
                    if mark in found.get(m.message_id, ()) and low <= m.created_at < high
                ]
            if moments:
                result.append((trigger, min(moments)))
        return result

    @staticmethod
    def _path_problems(conversation: Conversation, rank: dict[str, int]) -> list[str]:
        problems: list[str] = []
        reached = 0
        for escalation in sorted(conversation.escalations, key=lambda e: e.created_at):
            level = rank.get(escalation.to)
            if level is None:
                problems.append(f"escalated to '{escalation.to}', which is not on the path")
                continue
            if level > reached + 1:
                problems.append(f"escalated to {escalation.to} skipping a level")
            reached = max(reached, level)
        return problems
