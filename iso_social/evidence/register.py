"""The nonconformity register and its corrective-action lifecycle (ISO 9001:2015 §10.2).

One nonconformity per control (its id is `NC-<control id>`, the id every run's JSON uses). A run
that finds the control failing raises it or adds to it; the quality manager records the owner,
correction, root cause and corrective action; runs after the action is taken count towards the
effectiveness check, and only then can it be closed. A closed nonconformity that fails again is
reopened and flagged as a repeat. Every change is kept in an append-only event history.

    open -> action_planned -> action_taken -> verifying -> closed
                 ^                                |          |
                 +--------- (fails again) --------+     reopened (repeat)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Engine, insert, select, update
from sqlalchemy.engine import Connection

from iso_social.domain import Severity, Verdict, now_utc
from iso_social.errors import EvidenceError
from iso_social.evidence.models import RecordedRun
from iso_social.store.database import create_schema, transaction
from iso_social.store.tables import NONCONFORMITY, NONCONFORMITY_EVENT

SYSTEM_ACTOR = "iso-social"


class NcStatus(StrEnum):
    """Where a nonconformity is in its lifecycle."""

    OPEN = "open"
    ACTION_PLANNED = "action_planned"
    ACTION_TAKEN = "action_taken"
    VERIFYING = "verifying"
    CLOSED = "closed"
    REOPENED = "reopened"


@dataclass(frozen=True)
class FollowUp:
    """The corrective-action settings of the policy document a control belongs to."""

    effectiveness_runs: int = 2
    escalate_repeated_minor: bool = False


@dataclass(frozen=True)
class Nonconformity:
    """A nonconformity as the register holds it."""

    id: str
    control_id: str
    policy_id: str
    grade: str
    statement: str
    status: NcStatus
    first_seen_run: str
    last_seen_run: str
    opened_at: datetime
    closed_at: datetime | None
    owner: str | None
    due_date: str | None
    correction: str | None
    root_cause: str | None
    corrective_action: str | None
    effectiveness_criteria: str | None
    effectiveness_runs: int
    conforming_runs: int
    repeat_count: int

    @property
    def is_repeat(self) -> bool:
        """True once it has been reopened after closing."""
        return self.repeat_count > 0

    @property
    def effectiveness_met(self) -> bool:
        """True when the control has conformed in enough runs since the action was taken."""
        return (
            self.status in (NcStatus.ACTION_TAKEN, NcStatus.VERIFYING)
            and self.conforming_runs >= self.effectiveness_runs
        )


@dataclass(frozen=True)
class NcEvent:
    """One entry of a nonconformity's history."""

    at: datetime
    actor: str
    event: str
    detail: str
    run_id: str | None


def _nc(row: Any) -> Nonconformity:
    fields = {k: getattr(row, k) for k in Nonconformity.__dataclass_fields__}
    fields["status"] = NcStatus(fields["status"])
    return Nonconformity(**fields)


def _event(
    connection: Connection,
    nc_id: str,
    actor: str,
    event: str,
    detail: str,
    run_id: str | None = None,
    at: datetime | None = None,
) -> None:
    connection.execute(
        insert(NONCONFORMITY_EVENT).values(
            nonconformity_id=nc_id,
            at=at or now_utc(),
            actor=actor,
            event=event,
            detail=detail,
            run_id=run_id,
        )
    )


def _get(connection: Connection, nc_id: str) -> Nonconformity | None:
    row = connection.execute(select(NONCONFORMITY).where(NONCONFORMITY.c.id == nc_id)).first()
    return _nc(row) if row else None


def _set(connection: Connection, nc_id: str, **values: Any) -> None:
    connection.execute(update(NONCONFORMITY).where(NONCONFORMITY.c.id == nc_id).values(**values))


def _grade(control: Mapping[str, Any]) -> str:
    """The grade the run gave the control (bands and major-on-its-own findings included)."""
    grade = Verdict(control["verdict"]).grade
    return grade.value if grade else str(control["severity"])


def update_from_run(
    connection: Connection, run: RecordedRun, follow_up: Mapping[str, FollowUp]
) -> None:
    """Raise, add to, reopen or count towards closing the nonconformity of every control."""
    at = run.created_at
    for control in run.document["controls"]:
        verdict = Verdict(control["verdict"])
        nc_id = f"NC-{control['id']}"
        nc = _get(connection, nc_id)
        settings = follow_up.get(control["id"], FollowUp())
        if verdict.rank > 0:
            statement = (
                f"Requirement: {control['title']} "
                f"({', '.join(control['clauses']) or 'no clause cited'}). "
                f"Finding: {control['statement']}"
            )
            if nc is None:
                connection.execute(
                    insert(NONCONFORMITY).values(
                        id=nc_id,
                        control_id=control["id"],
                        policy_id=control["policy_id"],
                        grade=_grade(control),
                        statement=statement,
                        status=NcStatus.OPEN.value,
                        first_seen_run=run.run_id,
                        last_seen_run=run.run_id,
                        opened_at=at,
                        effectiveness_runs=settings.effectiveness_runs,
                    )
                )
                _event(
                    connection,
                    nc_id,
                    SYSTEM_ACTOR,
                    "raised",
                    f"{control['severity']} — {control['statement']}",
                    run.run_id,
                    at,
                )
                continue
            _fails_again(connection, nc, control, statement, run, settings)
        elif verdict is Verdict.CONFORMS and nc is not None and nc.status is not NcStatus.CLOSED:
            counted = nc.conforming_runs + 1
            status = nc.status
            if nc.status in (NcStatus.ACTION_TAKEN, NcStatus.VERIFYING):
                status = NcStatus.VERIFYING
                _event(
                    connection,
                    nc_id,
                    SYSTEM_ACTOR,
                    "conformed",
                    f"the control conformed ({counted} of {nc.effectiveness_runs} runs "
                    "needed to close)",
                    run.run_id,
                    at,
                )
            _set(connection, nc_id, conforming_runs=counted, status=status.value)


def _fails_again(
    connection: Connection,
    nc: Nonconformity,
    control: Mapping[str, Any],
    statement: str,
    run: RecordedRun,
    settings: FollowUp,
) -> None:
    at, grade = run.created_at, _grade(control)
    values: dict[str, Any] = {
        "last_seen_run": run.run_id,
        "statement": statement,
        "conforming_runs": 0,
        "grade": grade,
        "effectiveness_runs": settings.effectiveness_runs,
    }
    if nc.status is NcStatus.CLOSED:
        values.update(
            status=NcStatus.REOPENED.value, closed_at=None, repeat_count=nc.repeat_count + 1
        )
        _event(
            connection,
            nc.id,
            SYSTEM_ACTOR,
            "reopened",
            f"the control failed again after closing (repeat {nc.repeat_count + 1})",
            run.run_id,
            at,
        )
        if grade == Severity.MINOR.value and settings.escalate_repeated_minor:
            values["grade"] = Severity.MAJOR.value
            _event(
                connection,
                nc.id,
                SYSTEM_ACTOR,
                "escalated",
                "a repeated minor nonconformity is raised to major by policy",
                run.run_id,
                at,
            )
    elif nc.status in (NcStatus.ACTION_TAKEN, NcStatus.VERIFYING):
        values["status"] = NcStatus.ACTION_TAKEN.value
        _event(
            connection,
            nc.id,
            SYSTEM_ACTOR,
            "not effective",
            "the control failed again after the corrective action was taken; the "
            "effectiveness count starts over",
            run.run_id,
            at,
        )
    elif nc.repeat_count and grade == Severity.MINOR.value and settings.escalate_repeated_minor:
        values["grade"] = Severity.MAJOR.value
    _set(connection, nc.id, **values)


def list_nonconformities(engine: Engine, status: str | None = None) -> list[Nonconformity]:
    """Every nonconformity, optionally of one status, oldest first."""
    create_schema(engine)
    query = select(NONCONFORMITY).order_by(NONCONFORMITY.c.opened_at, NONCONFORMITY.c.id)
    if status:
        query = query.where(NONCONFORMITY.c.status == status)
    with engine.connect() as connection:
        return [_nc(r) for r in connection.execute(query)]


OPENING_EVENTS = ("raised", "reopened", "escalated")


def opened_by_run(engine: Engine, run_id: str) -> list[Nonconformity]:
    """Nonconformities that `run_id` raised, reopened or escalated, as they stand now."""
    create_schema(engine)
    opened = (
        select(NONCONFORMITY_EVENT.c.nonconformity_id)
        .where(NONCONFORMITY_EVENT.c.run_id == run_id)
        .where(NONCONFORMITY_EVENT.c.event.in_(OPENING_EVENTS))
    )
    query = select(NONCONFORMITY).where(NONCONFORMITY.c.id.in_(opened)).order_by(NONCONFORMITY.c.id)
    with engine.connect() as connection:
        return [_nc(r) for r in connection.execute(query)]


def get_nonconformity(engine: Engine, nc_id: str) -> tuple[Nonconformity, list[NcEvent]]:
    """One nonconformity and its history."""
    create_schema(engine)
    with engine.connect() as connection:
        nc = _get(connection, nc_id)
        if nc is None:
            raise EvidenceError(
                f"no nonconformity '{nc_id}' in the register",
                hint="list them with `iso-social nc list`",
            )
        events = [
            NcEvent(r.at, r.actor, r.event, r.detail, r.run_id)
            for r in connection.execute(
                select(NONCONFORMITY_EVENT)
                .where(NONCONFORMITY_EVENT.c.nonconformity_id == nc_id)
                .order_by(NONCONFORMITY_EVENT.c.id)
            )
        ]
    return nc, events


_EDITABLE = (
    "owner",
    "due_date",
    "correction",
    "root_cause",
    "corrective_action",
    "effectiveness_criteria",
)


def update_nonconformity(
    engine: Engine,
    nc_id: str,
    actor: str,
    *,
    status: NcStatus | None = None,
    due_date: date | None = None,
    **fields: str | None,
) -> Nonconformity:
    """Record the owner, due date, correction, root cause, action or criteria; move the status
    to `action_planned` or `action_taken`."""
    unknown = set(fields) - set(_EDITABLE)
    if unknown:
        raise EvidenceError(f"cannot set {', '.join(sorted(unknown))} on a nonconformity")
    with transaction(engine) as connection:
        nc = _get(connection, nc_id)
        if nc is None:
            raise EvidenceError(
                f"no nonconformity '{nc_id}' in the register",
                hint="list them with `iso-social nc list`",
            )
        values: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}
        if due_date is not None:
            values["due_date"] = due_date.isoformat()
        for name, value in values.items():
            _event(connection, nc_id, actor, f"set {name}", str(value))
        if status is not None:
            values.update(_transition(nc, {**_record(nc), **values}, status))
            _event(connection, nc_id, actor, "status", f"{nc.status.value} -> {status.value}")
        if not values:
            raise EvidenceError("nothing to update", hint="pass at least one option, e.g. --owner")
        _set(connection, nc_id, **values)
        updated = _get(connection, nc_id)
    assert updated is not None  # noqa: S101
    return updated


def _record(nc: Nonconformity) -> dict[str, Any]:
    return {name: getattr(nc, name) for name in _EDITABLE}


def _transition(nc: Nonconformity, values: Mapping[str, Any], status: NcStatus) -> dict[str, Any]:
    if status is NcStatus.ACTION_PLANNED:
        missing = [f for f in ("root_cause", "corrective_action") if not values.get(f)]
        if missing:
            raise EvidenceError(
                f"{nc.id}: a planned action needs {' and '.join(missing).replace('_', ' ')}",
                hint="pass --root-cause and --action with --status action_planned",
            )
        return {"status": status.value}
    if status is NcStatus.ACTION_TAKEN:
        if nc.status not in (NcStatus.ACTION_PLANNED, NcStatus.ACTION_TAKEN):
            raise EvidenceError(
                f"{nc.id}: is {nc.status.value}; plan the action first",
                hint="set --root-cause, --action and --status action_planned",
            )
        # effectiveness is judged on the runs after the action was taken
        return {"status": status.value, "conforming_runs": 0}
    raise EvidenceError(
        f"{nc.id}: the status '{status.value}' is set by the tool, not by hand",
        hint="use action_planned or action_taken; close with `iso-social nc "
        "close` once the effectiveness check is met",
    )


def close_nonconformity(engine: Engine, nc_id: str, actor: str, note: str = "") -> Nonconformity:
    """Close a nonconformity whose corrective action has proved effective."""
    with transaction(engine) as connection:
        nc = _get(connection, nc_id)
        if nc is None:
            raise EvidenceError(
                f"no nonconformity '{nc_id}' in the register",
                hint="list them with `iso-social nc list`",
            )
        if not nc.effectiveness_met:
            if nc.status not in (NcStatus.ACTION_TAKEN, NcStatus.VERIFYING):
                reason = f"it is {nc.status.value}: no corrective action has been taken"
            else:
                reason = (
                    f"the control has conformed in {nc.conforming_runs} of the "
                    f"{nc.effectiveness_runs} runs required since the action was taken"
                )
            raise EvidenceError(
                f"{nc_id} cannot be closed: {reason}",
                hint="the effectiveness check needs conforming runs; run "
                "`iso-social check` after the action is in place",
            )
        closed_at = now_utc()
        _set(connection, nc_id, status=NcStatus.CLOSED.value, closed_at=closed_at)
        _event(
            connection,
            nc_id,
            actor,
            "closed",
            f"effectiveness verified over {nc.conforming_runs} conforming runs"
            + (f"; {note}" if note else ""),
            at=closed_at,
        )
        closed = _get(connection, nc_id)
    assert closed is not None  # noqa: S101
    return closed
