"""The `ControlType` contract and the data a control type evaluates.

A control type knows nothing about the policy that uses it: it gets the conversations (and
calls) of its channels in the audit window, its validated parameters, and the named business
calendars; it returns an `Outcome`. The check stage adds the control id, clauses and grading.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from pydantic import BaseModel

from iso_social.clock import BusinessCalendar, calendar_for
from iso_social.domain import Call, Conversation, Outcome, Window


@dataclass(frozen=True)
class ControlInput:
    """What a control type evaluates: its population's raw material and the clock."""

    window: Window
    conversations: Sequence[Conversation] = ()
    calls: Sequence[Call] = ()
    calendars: Mapping[str, BusinessCalendar] = field(default_factory=dict)

    def calendar(self, name: str) -> BusinessCalendar:
        """The named calendar; `always` (calendar time) exists unless a policy redefines it."""
        if name in self.calendars:
            return self.calendars[name]
        if name == "always":
            return calendar_for(None)
        raise KeyError(name)


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
