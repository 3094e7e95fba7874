"""Evaluate policies over conversations: pure, with no I/O.

Each control gets the conversations and calls of its channels; its `Outcome` is graded with the
control's severity from the policy into a `Finding`. A control type that raises is a bug in that
type, not in the audit: it is reported as `not_evaluated` with the error's type, so one broken
plug-in cannot hide the results of every other control.
"""

from __future__ import annotations

from collections.abc import Sequence

from iso_social.controls import ControlInput, control_types
from iso_social.domain import Call, Conversation, Finding, Outcome, Verdict, Window
from iso_social.policy import Control, Policy


def grade(outcome: Outcome, control: Control) -> Verdict:
    """The verdict of an outcome under the control's severity."""
    if outcome.conforms is None:
        return Verdict.NOT_EVALUATED
    if outcome.conforms:
        return Verdict.CONFORMS
    graded = Verdict.for_severity(control.spec.severity)
    if outcome.grade_floor is not None:
        floor = Verdict.for_severity(outcome.grade_floor)
        return floor if floor.rank > graded.rank else graded
    return graded


def evaluate_control(
    control: Control,
    policy: Policy,
    window: Window,
    conversations: Sequence[Conversation],
    calls: Sequence[Call],
) -> Finding:
    """Evaluate one control over the conversations and calls of its channels."""
    channels = set(control.spec.channels)
    data = ControlInput(
        window=window,
        conversations=[c for c in conversations if not channels or c.channel in channels],
        calls=[c for c in calls if not channels or c.channel in channels],
        calendars=policy.calendars(),
    )
    control_type = control_types()[control.spec.type]
    outcome = control_type.evaluate(data, control.params)
    spec = control.spec
    return Finding(
        control_id=spec.id,
        control_type=spec.type,
        title=spec.title,
        policy_id=policy.document.id,
        channels=tuple(c.value for c in spec.channels),
        clauses=spec.clauses,
        severity=spec.severity,
        verdict=grade(outcome, control),
        outcome=outcome,
        params=control.params.model_dump(mode="json"),
    )


def evaluate_policy(
    policies: Sequence[Policy],
    window: Window,
    conversations: Sequence[Conversation],
    calls: Sequence[Call] = (),
) -> list[Finding]:
    """Evaluate every control of every policy, in a stable order (policy id, control id)."""
    findings = [
        evaluate_control(control, policy, window, conversations, calls)
        for policy in sorted(policies, key=lambda p: p.document.id)
        for control in policy.controls
    ]
    return sorted(findings, key=lambda f: (f.policy_id, f.control_id))
