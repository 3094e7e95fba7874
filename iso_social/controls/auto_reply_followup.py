"""Every automated acknowledgement is followed by a human reply in time (ISO 10002:2018 8.3:
acknowledgement is not resolution; ISO 9001:2015 8.2.1 a).

An automated acknowledgement is an outbound message marked `automated`, or sent by a bot or a
system sender, answering a customer message. It conforms when a human response (the `response`
rule, which never counts automated messages) follows within the deadline. An acknowledgement
followed by nine days of silence is exactly what this control exists to catch.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from iso_social.clock import Duration, format_duration
from iso_social.controls._timeline import ResponseField, ResponseParams, first_response
from iso_social.controls.base import (
    ControlInput,
    Tally,
    Waited,
    evaluate_each,
    percent,
    time_measures,
)
from iso_social.domain import AuthorRole, Conversation, Direction, EvidenceItem, Message, Outcome
from iso_social.i18n import N_


def is_acknowledgement(message: Message) -> bool:
    """An automated outbound message."""
    return message.direction is Direction.OUTBOUND and (
        message.automated or message.author_role in (AuthorRole.BOT, AuthorRole.SYSTEM)
    )


class AutoReplyFollowupParams(BaseModel):
    """Parameters of `auto_reply_followup`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    deadline: Duration = timedelta(hours=24)
    calendar: str = "always"
    target: Annotated[float, Field(ge=0, le=1)] = 0.95
    response: ResponseParams = ResponseField


class AutoReplyFollowup:
    """A human reply after every automated acknowledgement."""

    type_name: ClassVar[str] = "auto_reply_followup"
    params_model: ClassVar[type[BaseModel]] = AutoReplyFollowupParams
    summary: ClassVar[str] = N_("share of automated acknowledgements followed by a human reply")

    def evaluate(self, data: ControlInput, params: AutoReplyFollowupParams) -> Outcome:
        """Check the human follow-up of each conversation's first acknowledgement."""
        return evaluate_each(self, data, params)

    def assess(
        self,
        conversation: Conversation,
        data: ControlInput,
        params: AutoReplyFollowupParams,
        tally: Tally,
    ) -> None:
        """Count one conversation's first acknowledgement and its human follow-up."""
        calendar = data.calendar(params.calendar)
        deadline_s = params.deadline.total_seconds()
        first = conversation.first_customer_message
        ack = next(
            (
                m
                for m in conversation.messages
                if first is not None and m.created_at >= first.created_at and is_acknowledgement(m)
            ),
            None,
        )
        if ack is None or ack.created_at not in data.window:
            return
        cid = conversation.conversation_id
        human = first_response(conversation, ack.created_at, params.response)
        if human is not None:
            value = calendar.seconds_between(ack.created_at, human.created_at)
            if value <= deadline_s:
                tally.passed(cid, value)
            else:
                tally.failed(
                    cid,
                    EvidenceItem(
                        cid,
                        (ack.message_id, human.message_id),
                        value,
                        f"the first human reply came {format_duration(value)} after the "
                        f"automated acknowledgement; the deadline is "
                        f"{format_duration(deadline_s)}.",
                    ),
                    value,
                )
        elif calendar.add(ack.created_at, params.deadline) > data.window.end:
            tally.wait()
        else:
            tally.failed(
                cid,
                Waited(  # the silence is measured up to the window's end
                    cid,
                    (ack.message_id,),
                    None,
                    "an automated acknowledgement was followed by {waited} of silence: no "
                    "human reply by the end of the audit window.",
                    ack.created_at,
                    params.calendar,
                ),
            )

    def conclude(
        self, tally: Tally, data: ControlInput, params: AutoReplyFollowupParams
    ) -> Outcome:
        """The share followed up in time against the target."""
        deadline_s = params.deadline.total_seconds()
        return tally.outcome(
            target=params.target,
            empty="No automated acknowledgement in the audit window.",
            measures={
                **time_measures(tally.values),
                "followed_up": len(tally.values),
                "pending": tally.pending,
                "deadline_seconds": deadline_s,
            },
            data=data,
            statement=lambda rate: (
                f"{tally.conforming} of {tally.population} automated acknowledgements "
                f"({percent(rate)}) were followed by a human reply within "
                f"{format_duration(deadline_s)}; the target is {percent(params.target)}."
            ),
        )
