"""Every customer message awaiting an answer gets one within a deadline, timed from the oldest
unanswered message (ISO 9001:2015 8.2.1 a; ISO 10002:2018 8.4).

Walking a conversation in time order, a wait starts at the first customer message after the
last response and ends at the next response (what counts is the `response` rule). Each wait is
one item of the population; by default the first wait is left to `first_response_time`
(`include_first: true` counts it too). Time waiting on the customer (`pending_customer`) is not
counted. A wait still open when its deadline passed before the window's end is nonconforming;
one whose deadline is still ahead is pending.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from iso_social.clock import Duration, format_duration
from iso_social.controls._timeline import (
    ResponseField,
    ResponseParams,
    counts_as_response,
    due,
    elapsed,
    pauses,
)
from iso_social.controls.base import ControlInput, Tally, evaluate_each, percent, time_measures
from iso_social.domain import AuthorRole, Conversation, Direction, EvidenceItem, Message, Outcome
from iso_social.i18n import N_


class NextResponseTimeParams(BaseModel):
    """Parameters of `next_response_time`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    deadline: Duration = timedelta(hours=4)
    calendar: str = "always"
    target: Annotated[float, Field(ge=0, le=1)] = 0.90
    include_first: bool = False
    response: ResponseParams = ResponseField


_INBOUND, _CUSTOMER = Direction.INBOUND, AuthorRole.CUSTOMER


class NextResponseTime:
    """Each customer message answered within the deadline, from the oldest one waiting."""

    type_name: ClassVar[str] = "next_response_time"
    params_model: ClassVar[type[BaseModel]] = NextResponseTimeParams
    summary: ClassVar[str] = N_("share of customer waits answered within a deadline (next reply)")

    def evaluate(self, data: ControlInput, params: NextResponseTimeParams) -> Outcome:
        """Time every wait of every conversation."""
        return evaluate_each(self, data, params)

    def assess(
        self,
        conversation: Conversation,
        data: ControlInput,
        params: NextResponseTimeParams,
        tally: Tally,
    ) -> None:
        """Time every wait of one conversation."""
        calendar = data.calendar(params.calendar)
        deadline_s = params.deadline.total_seconds()
        paused = pauses(conversation)
        cid = conversation.conversation_id
        waiting: Message | None = None
        counted = params.include_first
        rule = params.response
        for message in conversation.messages:
            if waiting is None:  # `is_customer_inbound` written out: a call a message saved
                if message.direction is _INBOUND and message.author_role is _CUSTOMER:
                    waiting = message
            elif counts_as_response(message, rule):
                if counted and waiting.created_at in data.window:
                    value = elapsed(calendar, waiting.created_at, message.created_at, paused)
                    item = f"{cid}#{waiting.message_id}"
                    if value <= deadline_s:
                        tally.passed(item, value)
                    else:
                        tally.failed(
                            item,
                            EvidenceItem(
                                cid,
                                (waiting.message_id, message.message_id),
                                value,
                                f"the customer waited {format_duration(value)} for an answer; "
                                f"the deadline is {format_duration(deadline_s)}.",
                            ),
                            value,
                        )
                waiting, counted = None, True
        if waiting is None or not counted or waiting.created_at not in data.window:
            return
        deadline_at: datetime = due(calendar, waiting.created_at, params.deadline, paused)
        if deadline_at > data.window.end:
            tally.waiting(cid, deadline_at)
        else:
            tally.failed(
                f"{cid}#{waiting.message_id}",
                EvidenceItem(
                    cid,
                    (waiting.message_id,),
                    None,
                    f"no answer by the end of the audit window; the deadline passed on "
                    f"{deadline_at:%Y-%m-%d %H:%M} UTC.",
                ),
            )

    def conclude(self, tally: Tally, data: ControlInput, params: NextResponseTimeParams) -> Outcome:
        """The share of waits answered in time against the target."""
        deadline_s = params.deadline.total_seconds()
        return tally.outcome(
            target=params.target,
            empty="No customer message awaited a next reply in the audit window.",
            measures={
                **time_measures(tally.values),
                "waits_answered": len(tally.values),
                "pending": tally.pending,
                "deadline_seconds": deadline_s,
            },
            statement=lambda rate: (
                f"{tally.conforming} of {tally.population} customer waits ({percent(rate)}) "
                f"were answered within {format_duration(deadline_s)}; the target is "
                f"{percent(params.target)}."
            ),
        )
