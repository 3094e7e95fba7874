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
from typing import Annotated, ClassVar, NamedTuple, cast

from pydantic import BaseModel, ConfigDict, Field

from iso_social.clock import BusinessCalendar, Duration, format_duration
from iso_social.controls._timeline import (
    ResponseField,
    ResponseParams,
    first_replies_in,
    first_reply,
    response_filter,
)
from iso_social.controls.base import (
    ControlInput,
    Tally,
    Waited,
    at_window_end,
    band_keys,
    band_of,
    distribution,
    percent,
    share,
    time_measures,
)
from iso_social.domain import (
    Channel,
    Conversation,
    EvidenceItem,
    FirstReply,
    Outcome,
    ResponseFilter,
)
from iso_social.i18n import N_


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


class _Setup(NamedTuple):
    """What counting a conversation of one channel needs: its calendar and deadline (the
    channel's own or the control's) and its counter names."""

    calendar: BusinessCalendar
    calendar_name: str
    deadline: timedelta
    deadline_s: float
    basis: str
    population: str
    conforming: str
    bands: tuple[str, ...]

    @classmethod
    def of(cls, channel: Channel, data: ControlInput, params: FirstResponseTimeParams) -> _Setup:
        own = params.per_channel.get(channel)
        calendar_name = (own and own.calendar) or params.calendar
        calendar = data.calendar(calendar_name)
        deadline = (own and own.deadline) or params.deadline
        return cls(
            calendar,
            calendar_name,
            deadline,
            deadline.total_seconds(),
            "calendar" if calendar.always else f"business ({calendar_name})",
            f"channel:{channel.value}:population",
            f"channel:{channel.value}:conforming",
            band_keys(channel.value),
        )


def _setups(data: ControlInput, params: FirstResponseTimeParams) -> dict[Channel, _Setup]:
    """The channels' setups for `params` over the evaluation of `data`, kept in its `memo`:
    made once a channel rather than once a conversation (a third of `assess`'s time). Keyed by
    the parameters' identity (hashing the model would walk it), which stays theirs: the memo
    holds them alive."""
    hit = data.memo.get((_Setup, id(params)))
    if hit is None:
        hit = data.memo[_Setup, id(params)] = (params, {})
    return cast(dict[Channel, _Setup], hit[1])


class FirstResponseTime:
    """First human reply within the deadline, for a target share of conversations."""

    type_name: ClassVar[str] = "first_response_time"
    params_model: ClassVar[type[BaseModel]] = FirstResponseTimeParams
    summary: ClassVar[str] = N_("share of conversations with a first human reply within a deadline")

    def evaluate(self, data: ControlInput, params: FirstResponseTimeParams) -> Outcome:
        """Time each conversation's first human reply and compare the share with the target."""
        tally, setups = Tally(), dict[Channel, _Setup]()
        for reply in first_replies_in(data, params.response):
            self.count(reply, data, params, tally, setups)
        return self.conclude(tally, data, params)

    def reply_filter(self, params: FirstResponseTimeParams) -> ResponseFilter:
        """What counts as the first human reply."""
        return response_filter(params.response)

    def assess(
        self,
        conversation: Conversation,
        data: ControlInput,
        params: FirstResponseTimeParams,
        tally: Tally,
    ) -> None:
        """Time one conversation's first human reply."""
        if (reply := first_reply(conversation, params.response)) is not None:
            self.count(reply, data, params, tally, _setups(data, params))

    def count(
        self,
        reply: FirstReply,
        data: ControlInput,
        params: FirstResponseTimeParams,
        tally: Tally,
        setups: dict[Channel, _Setup],
    ) -> None:
        """Count one conversation's first customer message and first reply (`setups` keeps
        each channel's deadline and counter names for the next conversation counted)."""
        asked, window = reply.asked_at, data.window
        if not window.start <= asked < window.end:
            return
        setup = setups.get(reply.channel)
        if setup is None:
            setup = setups[reply.channel] = _Setup.of(reply.channel, data, params)
        calendar, deadline_s, counts = setup.calendar, setup.deadline_s, tally.counts
        cid = reply.conversation_id
        if reply.reply_id is not None and reply.reply_at is not None:
            elapsed = calendar.seconds_between(asked, reply.reply_at)
            counts[setup.population] += 1
            counts[setup.bands[band_of(elapsed)]] += 1
            if elapsed <= deadline_s:
                counts[setup.conforming] += 1
                tally.passed(cid, elapsed)
            else:
                tally.failed(
                    cid,
                    EvidenceItem(
                        cid,
                        (reply.asked_id, reply.reply_id),
                        elapsed,
                        f"first human reply after {format_duration(elapsed)} of "
                        f"{setup.basis} time; the deadline is {format_duration(deadline_s)}.",
                    ),
                    elapsed,
                )
            return
        due = calendar.add(asked, setup.deadline)
        if due > window.end:
            counts[setup.population] += 0  # the channel listed even if all its cases wait
            tally.waiting(cid, due)
            return
        counts["unanswered"] += 1
        counts[setup.population] += 1
        counts[setup.bands[band_of(None)]] += 1
        tally.failed(
            cid,
            Waited(
                cid,
                (reply.asked_id,),
                None,
                f"no human reply by the end of the audit window; the "
                f"{format_duration(deadline_s)} deadline passed on "
                f"{due:%Y-%m-%d %H:%M} UTC ({{waited}} of {setup.basis} time waited).",
                asked,
                setup.calendar_name,
            ),
        )

    def conclude(
        self, tally: Tally, data: ControlInput, params: FirstResponseTimeParams
    ) -> Outcome:
        """The share answered in time against the target, and each channel's own target."""
        unanswered, pending = tally.counts["unanswered"], tally.pending
        deadline_s = params.deadline.total_seconds()
        basis = (
            "calendar" if data.calendar(params.calendar).always else f"business ({params.calendar})"
        )
        names = sorted(key.split(":")[1] for key in tally.counts if key.endswith(":population"))
        channels = {
            name: {
                "population": (n := tally.counts[f"channel:{name}:population"]),
                "conforming": (ok := tally.counts[f"channel:{name}:conforming"]),
                "rate": share(ok, n),
            }
            for name in names
        }
        measures = {
            **time_measures(tally.values),
            "answered": len(tally.values),
            "unanswered": unanswered,
            "pending": pending,
            "deadline_seconds": deadline_s,
            "time_basis": basis,
            "by_channel": channels,
            "distribution": distribution(tally.counts),
        }
        upcoming = tuple(sorted(tally.upcoming, key=lambda u: u.due_at))
        if tally.population == 0:
            return Outcome.not_evaluated(
                "No conversation with a customer message in the audit window"
                + (f" ({pending} still within their deadline)." if pending else "."),
                upcoming,
                **measures,
            )
        rate = share(tally.conforming, tally.population)
        assert rate is not None  # noqa: S101
        short = [
            name
            for name, values in channels.items()
            if (own_target := params.per_channel.get(Channel(name), ChannelTarget()).target)
            is not None
            and (values["rate"] or 0) < own_target
        ]
        nonconforming = len(tally.evidence)
        statement = (
            f"{tally.conforming} of {tally.population} conversations ({percent(rate)}) got a "
            f"first human reply within {format_duration(deadline_s)} of {basis} time"
            + (" (or their channel's own deadline)" if params.per_channel else "")
            + f"; the target is {percent(params.target)}; {nonconforming} did not"
            + (f", {unanswered} of them never answered." if unanswered else ".")
            + (f" Below their channel's own target: {', '.join(short)}." if short else "")
        )
        return Outcome(
            conforms=rate >= params.target and not short,
            statement=statement,
            population=tally.population,
            conforming=tally.conforming,
            nonconforming=nonconforming,
            rate=rate,
            target=params.target,
            measures=measures,
            evidence=at_window_end(tally.evidence, data),
            population_ids=tuple(tally.population_ids),
            nonconforming_ids=tuple(tally.failed_ids),
            upcoming=upcoming,
        )
