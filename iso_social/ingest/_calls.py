"""Shared helpers of the call-record formats: local times that need a zone (and a date)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from iso_social.errors import IngestError
from iso_social.ingest.base import IngestOptions


def require_zone(
    options: IngestOptions,
    fmt: str,
    records: str = "call records",
    clock: str = "the phone system",
) -> ZoneInfo:
    """The zone local times are in; call logs (and chat logs) carry none, so `--assume-tz`
    is required. The error names the `records` and whose `clock` wrote their times."""
    if options.assume_tz is None:
        raise IngestError(
            f"--format {fmt}",
            f"{records} hold local times without a UTC offset",
            hint=f"pass --assume-tz with the zone of {clock}, e.g. --assume-tz Europe/Madrid",
        )
    return options.assume_tz


def require_day(options: IngestOptions, fmt: str) -> date:
    """The day a times-of-day-only log covers (`--date`)."""
    if options.day is None:
        raise IngestError(
            f"--format {fmt}",
            "these records hold times of day without a date",
            hint="pass --date with the day the file covers, e.g. --date 1999-08-01",
        )
    return options.day


def local_moment(
    day: date, clock: time, zone: ZoneInfo, *, not_before: datetime | None = None
) -> datetime:
    """`day` at `clock` in `zone`. Relative to `not_before` (the previous step of the same
    call): more than twelve hours earlier means the call crossed midnight (the next day); a few
    seconds earlier is clock rounding between systems, and is clamped to `not_before`."""
    moment = datetime.combine(day, clock, tzinfo=zone).astimezone(UTC)
    if not_before is None or moment >= not_before:
        return moment
    if not_before - moment > timedelta(hours=12):
        return datetime.combine(day + timedelta(days=1), clock, tzinfo=zone).astimezone(UTC)
    return not_before
