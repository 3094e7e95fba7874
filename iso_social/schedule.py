"""Checks on a schedule: the only module that imports APScheduler (3.x).

Each policy document with a `schedule:` becomes a job that checks its controls over the last
`window` of activity. Jobs live in the same database (APScheduler's SQLAlchemy job store), so
they survive restarts; they coalesce missed runs, allow a misfire grace time, and never run two
instances at once. Only one scheduler may act on a database: it holds a lease row with an expiry
and renews it while it runs; a second one is refused with a clear message (or waits). SIGTERM
and SIGINT stop the scheduler after the job in flight, so no run is ever half-recorded (a run is
recorded in one transaction anyway). Logs are JSON lines on stderr, one per event.

A service settings file (`service.ServiceSettings`) adds drop folders, ingested on their own
interval, and notifications (`notify`) sent after each scheduled check: new major
nonconformities and cases whose deadline is coming due.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from iso_social import pipeline
from iso_social.check import IncrementalState
from iso_social.domain import now_utc
from iso_social.errors import ConfigError, IsoSocialError
from iso_social.notify import Notifier
from iso_social.policy import Policy, ScheduleSpec, load_policies, policy_files
from iso_social.service import (
    ServiceSettings,
    WatchFolder,
    describe,
    ingest_drop_folder,
    settings_summary,
)
from iso_social.store import lease
from iso_social.store.database import create_schema, make_engine

LEASE_TTL = timedelta(seconds=30)
LEASE_RENEW = timedelta(seconds=10)
MISFIRE_GRACE_SECONDS = 300
LOG = logging.getLogger("iso_social.schedule")
_NOTIFIER: Notifier | None = None  # set by run_service; job arguments must stay picklable
_STATES: dict[str, IncrementalState] = {}  # per policy file: what incremental checks keep


class JsonLogFormatter(logging.Formatter):
    """One JSON object per log record: time, level, event and fields."""

    def format(self, record: logging.LogRecord) -> str:
        """Serialise the record."""
        fields = getattr(record, "fields", {})
        return json.dumps(
            {
                "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
                "level": record.levelname.lower(),
                "event": record.getMessage(),
                **fields,
            },
            default=str,
        )


def _log(level: int, event: str, **fields: Any) -> None:
    LOG.log(level, event, extra={"fields": fields})


@dataclass(frozen=True)
class JobSpec:
    """A scheduled job: what it checks and when."""

    id: str
    policy_path: str
    schedule: ScheduleSpec

    def describe(self) -> str:
        """The schedule in words."""
        when = (
            f"cron '{self.schedule.cron}'" if self.schedule.cron else f"every {self.schedule.every}"
        )
        return f"{when} ({self.schedule.timezone}), window {self.schedule.window}"


def job_specs(policies: list[Policy]) -> list[JobSpec]:
    """One job per policy document that declares a schedule."""
    return [
        JobSpec(f"check:{p.document.id}", str(p.path.resolve()), p.document.schedule)
        for p in sorted(policies, key=lambda p: p.document.id)
        if p.document.schedule is not None
    ]


_WEEKDAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def crontab_weekdays(field: str) -> str:
    """Standard crontab weekdays (0 or 7 Sunday, 1 Monday) as names: APScheduler 3 numbers
    them from Monday = 0, so `0 6 * * 1` would otherwise run on Tuesdays."""
    return re.sub(r"(?<![/\d])([0-7])(?!\d)", lambda m: _WEEKDAY_NAMES[int(m.group(1))], field)


def _trigger(spec: ScheduleSpec) -> Any:
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    try:
        if spec.cron:
            minute, hour, day, month, weekday = spec.cron.split()
            return CronTrigger(
                minute=minute,
                hour=hour,
                day=day,
                month=month,
                day_of_week=crontab_weekdays(weekday),
                timezone=spec.timezone,
            )
        assert spec.every is not None  # noqa: S101
        return IntervalTrigger(seconds=spec.every.total_seconds(), timezone=spec.timezone)
    except (ValueError, LookupError) as exc:
        raise ConfigError(
            "schedule",
            f"cannot use the schedule ({exc})",
            hint="cron takes five fields, e.g. '0 * * * *'; timezone an IANA name",
        ) from exc


def _every(watch: WatchFolder) -> Any:
    from apscheduler.triggers.interval import IntervalTrigger

    return IntervalTrigger(seconds=watch.every.total_seconds(), timezone=UTC)


def scheduled_check(db: str, policy_path: str, window_seconds: float) -> None:
    """The job: check one policy document over the last window; never raises."""
    started = time.monotonic()
    try:
        policies = load_policies([Path(policy_path)])
        end = now_utc()
        state = _STATES.setdefault(policy_path, IncrementalState())
        assessed, reused = state.assessed, state.reused
        run, findings = pipeline.run_check_with_findings(
            policies, db=db, start=end - timedelta(seconds=window_seconds), end=end, state=state
        )
        summary = run.document["summary"]
        _log(
            logging.INFO,
            "check recorded",
            policy=policy_path,
            run_id=run.run_id,
            major=summary["major_nonconformities"],
            minor=summary["minor_nonconformities"],
            assessed=state.assessed - assessed,
            reused=state.reused - reused,
            seconds=round(time.monotonic() - started, 3),
        )
        if _NOTIFIER is not None:
            opened = pipeline.opened_nonconformities(db, run.run_id)
            _NOTIFIER.after_run(run, findings, opened, end)
    except IsoSocialError as exc:
        _log(logging.ERROR, "check failed", policy=policy_path, error=exc.message)
    except Exception as exc:  # a job must never bring the scheduler down
        _log(logging.ERROR, "check crashed", policy=policy_path, error=type(exc).__name__)


def next_runs(
    policies: list[Policy], settings: ServiceSettings | None = None
) -> list[tuple[str, datetime | None, str]]:
    """Each job (checks, then drop folders): its id, when it would run next, and in words."""
    now = datetime.now(UTC)
    jobs: list[tuple[str, datetime | None, str]] = [
        (spec.id, _trigger(spec.schedule).get_next_fire_time(None, now), spec.describe())
        for spec in job_specs(policies)
    ]
    jobs.extend(
        (watch.job_id, _every(watch).get_next_fire_time(None, now), describe(watch))
        for watch in (settings.watch if settings else [])
    )
    return jobs


def run_once(
    db: str, policies: list[Policy], job_id: str, settings: ServiceSettings | None = None
) -> None:
    """Run one job now, in the foreground."""
    watch = next((w for w in (settings.watch if settings else []) if w.job_id == job_id), None)
    if watch is not None:
        ingest_drop_folder(db, watch, _log)
        return
    spec = next((s for s in job_specs(policies) if s.id == job_id), None)
    if spec is None:
        raise ConfigError(
            "JOB",
            f"no scheduled job '{job_id}'",
            hint="list the jobs with `iso-social schedule list`",
        )
    scheduled_check(db, spec.policy_path, spec.schedule.window.total_seconds())


def run_service(
    db: str,
    locations: list[Path],
    *,
    wait: bool = False,
    settings: ServiceSettings | None = None,
) -> None:
    """Run the scheduler in the foreground until SIGTERM or SIGINT."""
    from apscheduler.jobstores.memory import MemoryJobStore
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.blocking import BlockingScheduler

    global _NOTIFIER
    settings = settings or ServiceSettings()
    policies = load_policies(locations)
    specs = job_specs(policies)
    if not specs and not settings.watch:
        files = ", ".join(str(p) for loc in locations for p in policy_files(loc))
        raise ConfigError(
            "schedule",
            f"no policy document declares a schedule ({files})",
            hint="add `schedule: {cron: '0 * * * *'}` to a policy document, or drop folders "
            "to watch in a --config settings file",
        )
    engine = make_engine(db)
    create_schema(engine)
    holder = f"{socket.gethostname()}:{os.getpid()}"
    while (other := lease.acquire(engine, holder, LEASE_TTL)) is not None:
        if not wait:
            raise ConfigError(
                "schedule run",
                f"another scheduler ({other.holder}) is running "
                f"on this database; its lease runs until "
                f"{other.expires_at:%Y-%m-%d %H:%M:%S} UTC",
                hint="stop it first, or pass --wait to take over when it ends",
            )
        time.sleep(LEASE_RENEW.total_seconds())
    scheduler = BlockingScheduler(
        jobstores={
            "default": SQLAlchemyJobStore(engine=engine),
            "lease": MemoryJobStore(),
            "config": MemoryJobStore(),  # drop folders: from the settings file at each start
        },
        job_defaults={
            "coalesce": True,
            "max_instances": 1,
            "misfire_grace_time": MISFIRE_GRACE_SECONDS,
        },
        timezone=UTC,
    )
    for spec in specs:
        scheduler.add_job(
            scheduled_check,
            _trigger(spec.schedule),
            id=spec.id,
            name=spec.describe(),
            replace_existing=True,
            args=[db, spec.policy_path, spec.schedule.window.total_seconds()],
        )
    known = {spec.id for spec in specs}
    for job in scheduler.get_jobs(jobstore="default"):
        if job.id not in known:  # a schedule removed from the policies since the last start
            job.remove()
    for watch in settings.watch:
        scheduler.add_job(
            ingest_drop_folder,
            _every(watch),
            id=watch.job_id,
            name=describe(watch),
            args=[db, watch, _log],
            jobstore="config",
            next_run_time=datetime.now(UTC),
        )
    if settings.notifications is not None:
        _NOTIFIER = Notifier(settings.notifications, _log)
    scheduler.add_job(
        lease.acquire,
        "interval",
        seconds=LEASE_RENEW.total_seconds(),
        args=[engine, holder, LEASE_TTL],
        id="lease",
        jobstore="lease",
    )

    def stop(signum: int, _frame: FrameType | None) -> None:
        _log(logging.INFO, "stopping", signal=signal.Signals(signum).name)
        scheduler.shutdown(wait=True)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    _log(
        logging.INFO,
        "scheduler started",
        holder=holder,
        jobs=[s.id for s in specs] + [w.job_id for w in settings.watch],
        **settings_summary(settings),
    )
    try:
        scheduler.start()
    finally:
        _NOTIFIER = None
        lease.release(engine, holder)
        engine.dispose()
        _log(logging.INFO, "scheduler stopped", holder=holder)


def configure_logging() -> None:
    """JSON lines on stderr for the scheduler's events (and APScheduler's warnings)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonLogFormatter())
    LOG.addHandler(handler)
    LOG.setLevel(logging.INFO)
    LOG.propagate = False
    logging.getLogger("apscheduler").addHandler(handler)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
