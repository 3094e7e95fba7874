"""Cases are resolved within a deadline; reopened cases are counted (ISO 9001:2015 8.2.1, 8.7;
ISO 10002:2018 8.6 "resolving complaints").

A resolution cycle starts at the conversation's first customer message, or at a `reopened`
status, and ends at the next `resolved` or `closed` status. Each cycle is one item of the
population, so a reopened case counts once per reopening. Time waiting on the customer
(`pending_customer` until their next message) is not counted. An unresolved cycle whose deadline
passed before the end of the window is nonconforming; one still within it is pending.
Conversations without any status record cannot be judged and are reported in the measures.
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import datetime, timedelta
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from iso_social.clock import Duration, format_duration
from iso_social.controls._timeline import due, elapsed, pauses
from iso_social.controls.base import ControlInput, Tally, evaluate_each, percent, time_measures
from iso_social.domain import Conversation, EvidenceItem, Outcome, Status
from iso_social.i18n import N_

_ENDS = (Status.RESOLVED, Status.CLOSED)


class ResolutionTimeParams(BaseModel):
    """Parameters of `resolution_time`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    deadline: Duration = timedelta(days=5)
    calendar: str = "always"
    target: Annotated[float, Field(ge=0, le=1)] = 0.90


class ResolutionTime:
    """Resolution within the deadline, each reopening counted as a cycle."""

    type_name: ClassVar[str] = "resolution_time"
    params_model: ClassVar[type[BaseModel]] = ResolutionTimeParams
    summary: ClassVar[str] = N_("share of cases (and reopenings) resolved within a deadline")

    def evaluate(self, data: ControlInput, params: ResolutionTimeParams) -> Outcome:
        """Measure every resolution cycle that starts in the window."""
        return evaluate_each(self, data, params)

    def assess(
        self,
        conversation: Conversation,
        data: ControlInput,
        params: ResolutionTimeParams,
        tally: Tally,
    ) -> None:
        """Measure one conversation's resolution cycles that start in the window."""
        calendar = data.calendar(params.calendar)
        deadline_s = params.deadline.total_seconds()
        first = conversation.first_customer_message
        if first is None:
            return
        if not conversation.statuses:
            if first.created_at in data.window:  # a count only when there is one: a
                tally.counts["without_status_records"] += 1  # scheduler keeps each tally
            return
        paused = pauses(conversation)
        starts: list[datetime] = [first.created_at]
        starts += [
            s.created_at
            for s in conversation.statuses
            if s.status is Status.REOPENED and s.created_at > first.created_at
        ]
        ends = sorted(s.created_at for s in conversation.statuses if s.status in _ENDS)
        for cycle, start in enumerate(starts):
            if start not in data.window:
                continue
            if cycle:
                tally.counts["reopened_cycles"] += 1
            cid = conversation.conversation_id
            index = bisect_left(ends, start)  # the first end at or after the cycle's start
            end = ends[index] if index < len(ends) else None
            label = "reopened case" if cycle else "case"
            item = f"{cid}#{cycle}"
            if end is not None:
                value = elapsed(calendar, start, end, paused)
                if value <= deadline_s:
                    tally.passed(item, value)
                else:
                    tally.failed(
                        item,
                        EvidenceItem(
                            cid,
                            (),
                            value,
                            f"{label} resolved after {format_duration(value)}; "
                            f"the deadline is {format_duration(deadline_s)}.",
                        ),
                        value,
                    )
                continue
            deadline_at = due(calendar, start, params.deadline, paused)
            if deadline_at > data.window.end:
                tally.waiting(cid, deadline_at)
            else:
                tally.failed(
                    item,
                    EvidenceItem(
                        cid,
                        (),
                        None,
                        f"{label} not resolved by the end of the audit window; "
                        f"the deadline passed on {deadline_at:%Y-%m-%d %H:%M} UTC.",
                    ),
                )

    def conclude(self, tally: Tally, data: ControlInput, params: ResolutionTimeParams) -> Outcome:
        """The share resolved in time against the target."""
        deadline_s = params.deadline.total_seconds()
        no_status = tally.counts["without_status_records"]
        reopened = tally.counts["reopened_cycles"]
        empty = "No case with status records started in the audit window" + (
            f" ({no_status} conversations have no status records)." if no_status else "."
        )
        return tally.outcome(
            target=params.target,
            empty=empty,
            measures={
                **time_measures(tally.values),
                "resolved": len(tally.values),
                "pending": tally.pending,
                "reopened_cycles": reopened,
                "without_status_records": no_status,
                "deadline_seconds": deadline_s,
            },
            statement=lambda rate: (
                f"{tally.conforming} of {tally.population} cases ({percent(rate)}, {reopened} "
                f"of them reopenings) were resolved within {format_duration(deadline_s)}; the "
                f"target is {percent(params.target)}."
            ),
        )
