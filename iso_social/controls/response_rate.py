"""Customers who contact the organisation in public get a reply at all (ISO 10002:2018 8.3;
ISO 9001:2015 8.2.1 a). Brands have been measured ignoring most complaints on Twitter; this
control makes that visible.

The population is every conversation whose first customer message is in the window, public by
default (`public_only`). It conforms when any response (the `response` rule) followed, however
late; conversations younger than `grace` at the end of the window are pending, not counted.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from iso_social.clock import Duration, format_duration
from iso_social.controls._timeline import (
    ResponseField,
    ResponseParams,
    first_replies_in,
    first_reply,
    response_filter,
)
from iso_social.controls.base import ControlInput, Tally, percent
from iso_social.domain import (
    Conversation,
    EvidenceItem,
    FirstReply,
    Outcome,
    ResponseFilter,
    Visibility,
)
from iso_social.i18n import N_


class ResponseRateParams(BaseModel):
    """Parameters of `response_rate`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    target: Annotated[float, Field(ge=0, le=1)] = 0.95
    public_only: bool = True
    grace: Duration = timedelta(hours=24)
    response: ResponseParams = ResponseField


class ResponseRate:
    """Share of customer contacts that get any reply."""

    type_name: ClassVar[str] = "response_rate"
    params_model: ClassVar[type[BaseModel]] = ResponseRateParams
    summary: ClassVar[str] = N_("share of (public) customer contacts that get any reply")

    def evaluate(self, data: ControlInput, params: ResponseRateParams) -> Outcome:
        """Count the contacts that were answered."""
        tally = Tally()
        for reply in first_replies_in(data, params.response):
            self.count(reply, data, params, tally)
        return self.conclude(tally, data, params)

    def reply_filter(self, params: ResponseRateParams) -> ResponseFilter:
        """What counts as a reply."""
        return response_filter(params.response)

    def assess(
        self,
        conversation: Conversation,
        data: ControlInput,
        params: ResponseRateParams,
        tally: Tally,
    ) -> None:
        """Count one conversation's contact: answered, ignored or still in its grace period."""
        if (reply := first_reply(conversation, params.response)) is not None:
            self.count(reply, data, params, tally)

    def count(
        self, reply: FirstReply, data: ControlInput, params: ResponseRateParams, tally: Tally
    ) -> None:
        """Count a contact by its first customer message and first reply."""
        if reply.asked_at not in data.window:
            return
        if params.public_only and reply.asked_visibility is not Visibility.PUBLIC:
            return
        cid = reply.conversation_id
        if reply.reply_id is not None:
            tally.passed(cid)
        elif data.window.end - reply.asked_at < params.grace:
            tally.wait()
        else:
            tally.failed(
                cid,
                EvidenceItem(
                    cid, (reply.asked_id,), None, "the customer's message was never answered."
                ),
            )

    def conclude(self, tally: Tally, data: ControlInput, params: ResponseRateParams) -> Outcome:
        """The share answered against the target."""
        kind = "public customer contacts" if params.public_only else "customer contacts"
        return tally.outcome(
            target=params.target,
            empty=f"No {kind} in the audit window.",
            measures={
                "answered": tally.conforming,
                "ignored": len(tally.evidence),
                "pending": tally.pending,
                "grace_seconds": params.grace.total_seconds(),
            },
            statement=lambda rate: (
                f"{tally.conforming} of {tally.population} {kind} ({percent(rate)}) got a "
                f"reply; {len(tally.evidence)} were ignored; the target is "
                f"{percent(params.target)} (contacts younger than "
                f"{format_duration(params.grace.total_seconds())} are not yet counted)."
            ),
        )
