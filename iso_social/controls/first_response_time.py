"""Every conversation gets a first human reply within a deadline (ISO 9001:2015 8.2.1 a, 9.1.2;
ISO 10002:2018 8.3).

The clock starts at the conversation's earliest inbound customer message and stops at the
earliest outbound message by a human agent (not a bot, not a system message, not an automated
acknowledgement), public or private, at or after it. Conversations without an inbound customer
message are outside the population, and so are those whose first customer message lies outside
the audit window. An unanswered conversation whose deadline passed before the end of the window
is nonconforming; one whose deadline has not passed yet is pending and not counted.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from iso_social.clock import Duration, format_duration
from iso_social.controls._timeline import ResponseField, ResponseParams, first_response
from iso_social.controls.base import ControlInput, percent, share, time_measures
from iso_social.domain import Channel, EvidenceItem, Outcome, Upcoming


class ChannelTarget(BaseModel):
    """A channel's own deadline, calendar or target inside one control."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    deadline: Duration | None = None
    calendar: str | None = None
    target: Annotated[float, Field(ge=0, le=1)] | None = None


class FirstResponseTimeParams(BaseModel):
    """Parameters of `first_response_time`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    deadline: Duration = timedelta(hours=1)
    calendar: str = "always"
    target: Annotated[float, Field(ge=0, le=1)] = 0.95
    per_channel: dict[Channel, ChannelTarget] = Field(default_factory=dict)
    response: ResponseParams = ResponseField


class FirstResponseTime:
    """First human reply within the deadline, for a target share of conversations."""

    type_name: ClassVar[str] = "first_response_time"
    params_model: ClassVar[type[BaseModel]] = FirstResponseTimeParams
    summary: ClassVar[str] = "share of conversations with a first human reply within a deadline"

    def evaluate(self, data: ControlInput, params: FirstResponseTimeParams) -> Outcome:
        """Time each conversation's first human reply and compare the share with the target."""
        answered: list[float] = []
        evidence: list[EvidenceItem] = []
        population_ids: list[str] = []
        conforming = pending = unanswered = 0
        upcoming: list[Upcoming] = []
        by_channel: dict[str, list[int]] = {}  # channel -> [population, conforming]
        for conversation in data.conversations:
            first = conversation.first_customer_message
            if first is None or first.created_at not in data.window:
                continue
            own = params.per_channel.get(conversation.channel, ChannelTarget())
            calendar_name = own.calendar or params.calendar
            calendar = data.calendar(calendar_name)
            deadline = own.deadline or params.deadline
            deadline_s = deadline.total_seconds()
            basis = "calendar" if calendar.always else f"business ({calendar_name})"
            counts = by_channel.setdefault(conversation.channel.value, [0, 0])
            reply = first_response(conversation, first.created_at, params.response)
            if reply is not None:
                elapsed = calendar.seconds_between(first.created_at, reply.created_at)
                answered.append(elapsed)
                population_ids.append(conversation.conversation_id)
                counts[0] += 1
                if elapsed <= deadline_s:
                    conforming += 1
                    counts[1] += 1
                else:
                    evidence.append(
                        EvidenceItem(
                            conversation.conversation_id,
                            (first.message_id, reply.message_id),
                            elapsed,
                            f"first human reply after {format_duration(elapsed)} of "
                            f"{basis} time; the deadline is {format_duration(deadline_s)}.",
                        )
                    )
                continue
            due = calendar.add(first.created_at, deadline)
            if due > data.window.end:
                pending += 1
                upcoming.append(Upcoming(conversation.conversation_id, due))
                continue
            unanswered += 1
            counts[0] += 1
            population_ids.append(conversation.conversation_id)
            waited = calendar.seconds_between(first.created_at, data.window.end)
            evidence.append(
                EvidenceItem(
                    conversation.conversation_id,
                    (first.message_id,),
                    None,
                    f"no human reply by the end of the audit window; the "
                    f"{format_duration(deadline_s)} deadline passed on "
                    f"{due:%Y-%m-%d %H:%M} UTC ({format_duration(waited)} of {basis} time waited).",
                )
            )
        population = conforming + len(evidence)
        deadline_s = params.deadline.total_seconds()
        basis = (
            "calendar" if data.calendar(params.calendar).always else f"business ({params.calendar})"
        )
        channels = {
            name: {"population": n, "conforming": ok, "rate": share(ok, n)}
            for name, (n, ok) in sorted(by_channel.items())
        }
        measures = {
            **time_measures(answered),
            "answered": len(answered),
            "unanswered": unanswered,
            "pending": pending,
            "deadline_seconds": deadline_s,
            "time_basis": basis,
            "by_channel": channels,
        }
        if population == 0:
            return Outcome.not_evaluated(
                "No conversation with a customer message in the audit window"
                + (f" ({pending} still within their deadline)." if pending else "."),
                tuple(sorted(upcoming, key=lambda u: u.due_at)),
                **measures,
            )
        rate = share(conforming, population)
        assert rate is not None  # noqa: S101
        short = [
            name
            for name, values in channels.items()
            if (own_target := params.per_channel.get(Channel(name), ChannelTarget()).target)
            is not None
            and (values["rate"] or 0) < own_target
        ]
        statement = (
            f"{conforming} of {population} conversations ({percent(rate)}) got a first "
            f"human reply within {format_duration(deadline_s)} of {basis} time"
            + (" (or their channel's own deadline)" if params.per_channel else "")
            + f"; the target is {percent(params.target)}; {len(evidence)} did not"
            + (f", {unanswered} of them never answered." if unanswered else ".")
            + (f" Below their channel's own target: {', '.join(short)}." if short else "")
        )
        return Outcome(
            conforms=rate >= params.target and not short,
            statement=statement,
            population=population,
            conforming=conforming,
            nonconforming=len(evidence),
            rate=rate,
            target=params.target,
            measures=measures,
            evidence=tuple(evidence),
            population_ids=tuple(population_ids),
            upcoming=tuple(sorted(upcoming, key=lambda u: u.due_at)),
        )
