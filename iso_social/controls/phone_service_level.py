"""A target share of offered calls is answered within a threshold: the "80/20" service level
(ISO 9001:2015 8.2.1 a, 9.1.2; ISO 18295-1:2017 4.4).

The population is every call offered in the audit window to the selected queues. Callers who
hang up within `short_abandon` are excluded (they did not wait long enough to be served), which
is the common contact-centre convention; set it to 0s to count every abandon. A call answered
within `answer_within` conforms; a call answered later, or abandoned after the short-abandon
limit, does not. Abandonment rate and average speed of answer are reported as measures.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from iso_social.clock import Duration, NonNegativeDuration, format_duration
from iso_social.controls.base import ControlInput, Tally, percent, share, time_measures
from iso_social.domain import EvidenceItem, Outcome
from iso_social.i18n import N_


class PhoneServiceLevelParams(BaseModel):
    """Parameters of `phone_service_level`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    answer_within: Duration = timedelta(seconds=20)
    target: Annotated[float, Field(ge=0, le=1)] = 0.80
    short_abandon: NonNegativeDuration = timedelta(seconds=5)
    queues: tuple[str, ...] = ()


class PhoneServiceLevel:
    """Share of offered calls answered within a threshold."""

    type_name: ClassVar[str] = "phone_service_level"
    params_model: ClassVar[type[BaseModel]] = PhoneServiceLevelParams
    summary: ClassVar[str] = N_("share of offered calls answered within a threshold (80/20 style)")
    calls_only: ClassVar[bool] = True  # `CallsOnly`

    def evaluate(self, data: ControlInput, params: PhoneServiceLevelParams) -> Outcome:
        """Count calls answered in time against every call offered (less short abandons)."""
        threshold = params.answer_within.total_seconds()
        tally = Tally()
        abandoned = short = 0
        for call in data.calls:
            if params.queues and call.queue not in params.queues:
                continue
            if call.answered_at is None:
                waited = (call.ended_at - call.offered_at).total_seconds()
                if waited < params.short_abandon.total_seconds():
                    short += 1
                    continue
                abandoned += 1
                tally.failed(
                    call.call_id,
                    EvidenceItem(
                        call.call_id,
                        (call.call_id,),
                        waited,
                        f"caller hung up after {format_duration(waited)} in queue "
                        f"'{call.queue or 'default'}' without an answer.",
                    ),
                )
                continue
            wait = (call.answered_at - call.offered_at).total_seconds()
            if wait <= threshold:
                tally.passed(call.call_id, wait)
            else:
                tally.failed(
                    call.call_id,
                    EvidenceItem(
                        call.call_id,
                        (call.call_id,),
                        wait,
                        f"answered after {format_duration(wait)}; the threshold is "
                        f"{format_duration(threshold)}.",
                    ),
                    wait,
                )
        return tally.outcome(
            target=params.target,
            empty="No call offered in the audit window.",
            measures={
                **time_measures(tally.values),
                "answered": len(tally.values),
                "abandoned": abandoned,
                "short_abandons_excluded": short,
                "abandonment_rate": share(abandoned, tally.population + short),
                "answer_within_seconds": threshold,
            },
            statement=lambda rate: (
                f"{tally.conforming} of {tally.population} offered calls ({percent(rate)}) "
                f"were answered within {format_duration(threshold)}; the target is "
                f"{percent(params.target)}; {abandoned} callers hung up after waiting and "
                f"{short} short abandons were excluded."
            ),
        )
