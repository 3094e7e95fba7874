"""The clock model shared by every time-based control: durations and business calendars.

A calendar is an IANA time zone, weekly opening windows (several per day, overnight shifts allowed)
and holidays (from the `holidays` package by country and subdivision, plus listed dates). Windows
are wall-clock times in the calendar's zone, so daylight-saving changes are honoured: an
09:00-14:00 window is five real hours on any day. An overnight window such as 22:00-06:00 belongs
to the day it starts on; a holiday closes the windows that start on that date.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, field_validator

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(w|d|h|m|s)", re.IGNORECASE)
_ISO_DURATION = re.compile(
    r"^P(?:(?P<d>\d+)D)?(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)
_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MAX_SEARCH_DAYS = 3700  # a deadline further than ~10 years of business time is a policy error
_DAY, _MICROSECOND = timedelta(days=1), timedelta(microseconds=1)
_WALKED_DAYS = 4  # spans over more local days take the days between from running sums
_RUNNING_MARGIN = timedelta(days=400)  # running sums start this far before the first day asked


def parse_duration(value: Any, *, allow_zero: bool = False) -> timedelta:
    """Parse `1h`, `30m`, `1h30m`, `90s`, `2d`, `1w`, ISO 8601 `PT1H`, or a number of seconds."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
        if seconds < 0 or (seconds == 0 and not allow_zero):
            raise ValueError("a duration must be longer than zero")
        return value
    if allow_zero and value in (0, "0", "0s"):
        return timedelta(0)
    if isinstance(value, bool):
        raise ValueError("a duration is a text such as '1h' or '30m', not a boolean")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip()
        iso = _ISO_DURATION.match(text.upper())
        if iso and any(iso.groupdict().values()):
            parts = {k: float(v) for k, v in iso.groupdict().items() if v}
            seconds = (
                parts.get("d", 0) * 86400
                + parts.get("h", 0) * 3600
                + parts.get("m", 0) * 60
                + parts.get("s", 0)
            )
        else:
            compact = text.replace(" ", "")
            matches = list(_DURATION_PART.finditer(compact))
            if not matches or "".join(m.group(0) for m in matches) != compact:
                raise ValueError(
                    f"'{value}' is not a duration: write e.g. '45s', '30m', '1h', '1h30m' or '2d'"
                )
            seconds = sum(float(m.group(1)) * _UNIT_SECONDS[m.group(2).lower()] for m in matches)
    else:
        raise ValueError("a duration is a text such as '1h' or '30m'")
    if seconds <= 0:
        raise ValueError("a duration must be longer than zero")
    return timedelta(seconds=seconds)


def format_duration(seconds: float) -> str:
    """Render seconds for statements: `45 s`, `12 min 5 s`, `1 h 0 min 41 s`, `3 h 5 min`,
    `2 d 4 h`. Seconds are shown up to two hours, so a value just over a deadline never
    reads as equal to it."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, secs = divmod(seconds, 60)
    tail = f" {secs} s" if secs else ""
    if minutes < 60:
        return f"{minutes} min{tail}"
    hours, minutes = divmod(minutes, 60)
    if hours < 2:
        return f"{hours} h {minutes} min{tail}" if minutes or secs else f"{hours} h"
    if hours < 48:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _parse_non_negative(value: Any) -> timedelta:
    return parse_duration(value, allow_zero=True)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
NonNegativeDuration = Annotated[timedelta, BeforeValidator(_parse_non_negative)]


def _parse_clock(text: str) -> time | None:
    """Parse `HH:MM`; `24:00` returns None, meaning the end of the day."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", text.strip())
    if not match:
        raise ValueError(f"'{text}' is not a time of day: write HH:MM, e.g. '09:00'")
    hour, minute = int(match.group(1)), int(match.group(2))
    if (hour, minute) == (24, 0):
        return None
    if hour > 23 or minute > 59:
        raise ValueError(f"'{text}' is not a time of day between 00:00 and 24:00")
    return time(hour, minute)


def _parse_days(spec: str) -> list[int]:
    """Parse a weekday key: `mon`, `mon-fri`, `sat,sun`, `daily`."""
    key = spec.strip().lower()
    if key in ("daily", "everyday", "all"):
        return list(range(7))
    days: list[int] = []
    for part in key.split(","):
        bounds = [p.strip()[:3] for p in part.split("-")]
        if any(b not in _DAYS for b in bounds) or len(bounds) > 2:
            raise ValueError(
                f"'{spec}' is not a weekday: use mon..sun, a range 'mon-fri' or a list 'sat,sun'"
            )
        first, last = _DAYS.index(bounds[0]), _DAYS.index(bounds[-1])
        span = range(first, last + 1) if first <= last else [*range(first, 7), *range(last + 1)]
        days.extend(span)
    return days


def iana_zone(value: str) -> str:
    """`value` if it names an IANA time zone; else a ValueError saying what is expected."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a folder, "Europe"
        raise ValueError(f"'{value}' is not an IANA time zone (e.g. Europe/Madrid, UTC)") from exc
    return value


@cache
def _holiday_countries() -> frozenset[str]:
    """The ISO 3166 alpha-2 codes the holidays package covers, from its registry (loading each
    country's calendar to validate a policy would cost a tenth of a second)."""
    from holidays import registry

    return frozenset(
        code for names in registry.COUNTRIES.values() for code in names[1:] if len(code) == 2
    )


@cache
def _known_subdivision(country: str, subdivision: str) -> bool:
    try:
        _country_class(country)(subdiv=subdivision)
    except NotImplementedError:
        return False
    return True


def _country_class(country: str) -> Any:
    """The holidays package's class for `country`, from its own module alone.

    `holidays.country_holidays` imports the `holidays.countries` package, whose `__init__` imports
    every country (80 ms, a quarter of `policy validate`): loading the one module from its file
    takes 2 ms. The class is only used to validate a subdivision; calendars use the package.
    """
    import importlib.util
    from pathlib import Path

    import holidays
    from holidays import registry

    for module_name, (class_name, *codes) in registry.COUNTRIES.items():
        if country.upper() in codes:
            path = Path(holidays.__file__).parent / "countries" / f"{module_name}.py"
            spec = importlib.util.spec_from_file_location(f"_iso_social_{module_name}", path)
            if spec is None or spec.loader is None:  # a packaging we do not know: the slow way
                break
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return getattr(module, class_name)
    return lambda subdiv: holidays.country_holidays(country, subdiv=subdiv)


class HolidaySpec(BaseModel):
    """Closed days: a country's (and region's) public holidays plus listed dates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    country: str | None = None
    subdivision: str | None = None
    dates: tuple[date, ...] = ()

    @field_validator("country")
    @classmethod
    def _known_country(cls, value: str | None) -> str | None:
        if value is not None:
            if value.upper() not in _holiday_countries():
                raise ValueError(
                    f"'{value}' is not a country the holidays package knows "
                    "(use an ISO 3166 code such as ES, MX, GB)"
                )
            return value.upper()
        return value


class CalendarSpec(BaseModel):
    """A business calendar as written in a policy file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timezone: str = "UTC"
    hours: Literal["always"] | dict[str, list[str]] = "always"
    holidays: HolidaySpec | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return iana_zone(value)

    @field_validator("hours")
    @classmethod
    def _valid_hours(cls, value: Any) -> Any:
        if value == "always":
            return value
        if not value:
            raise ValueError("a calendar needs at least one opening window, or hours: always")
        for days, windows in value.items():
            _parse_days(days)
            for window in windows:
                _parse_window(window)
        return value

    def model_post_init(self, context: Any, /) -> None:
        """Check the subdivision against the country once both are known."""
        if self.holidays and self.holidays.subdivision:
            if not self.holidays.country:
                raise ValueError("holidays.subdivision needs holidays.country")
            if not _known_subdivision(self.holidays.country, self.holidays.subdivision):
                raise ValueError(
                    f"'{self.holidays.subdivision}' is not a subdivision of {self.holidays.country}"
                )


def _parse_window(text: str) -> tuple[time, time | None]:
    parts = text.split("-")
    if len(parts) != 2:
        raise ValueError(f"'{text}' is not an opening window: write 'HH:MM-HH:MM'")
    start, end = _parse_clock(parts[0]), _parse_clock(parts[1])
    if start is None:
        raise ValueError(f"'{text}': a window cannot start at 24:00")
    if end == start:
        raise ValueError(f"'{text}': a window must not be empty")
    return start, end


ALWAYS = CalendarSpec()


class BusinessCalendar:
    """Business-time arithmetic over a `CalendarSpec`. Instances cache per-day windows."""

    def __init__(self, spec: CalendarSpec) -> None:
        self.spec = spec
        self.always = spec.hours == "always" and spec.holidays is None
        self.zone = ZoneInfo(spec.timezone)
        self._weekly: dict[int, list[tuple[time, time | None]]] = {d: [] for d in range(7)}
        if spec.hours == "always":
            self._weekly = {d: [(time(0), None)] for d in range(7)}
        else:
            for days, windows in spec.hours.items():
                for day in _parse_days(days):
                    self._weekly[day].extend(_parse_window(w) for w in windows)
        self._holiday_years: dict[int, set[date]] = {}
        self.day_windows = lru_cache(maxsize=4096)(self._day_windows)
        # running sums of each day's opening time (microseconds) from a first day, for spans
        # longer than a few days: replaced whole when extended, so readers never see a half
        self._running: tuple[date, tuple[int, ...]] | None = None

    def is_holiday(self, day: date) -> bool:
        """True when `day` (a local date) is closed."""
        spec = self.spec.holidays
        if spec is None:
            return False
        if day in spec.dates:
            return True
        if spec.country is None:
            return False
        if day.year not in self._holiday_years:
            import holidays

            table = holidays.country_holidays(spec.country, subdiv=spec.subdivision, years=day.year)
            self._holiday_years[day.year] = set(table.keys())
        return day in self._holiday_years[day.year]

    def _day_windows(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """Opening windows that start on local date `day`, as UTC instants."""
        if self.is_holiday(day):
            return ()
        result = []
        for start, end in self._weekly[day.weekday()]:
            begin = datetime.combine(day, start, tzinfo=self.zone)
            if end is None or end <= start:
                finish_day = day + timedelta(days=1)
                finish = datetime.combine(finish_day, end or time(0), tzinfo=self.zone)
            else:
                finish = datetime.combine(day, end, tzinfo=self.zone)
            result.append((begin.astimezone(UTC), finish.astimezone(UTC)))
        return tuple(sorted(result))

    def _local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()

    def seconds_between(self, start: datetime, end: datetime) -> float:
        """Business seconds in `[start, end)`; zero when `end <= start`.

        The opening windows of the days around `start` and `end` are cut to the span; those
        of the days between (a window starting on a day ends before the next day's end) are
        wholly inside it and come from running sums, so a span of a year costs what a span of
        a week does (walking each day of a year-long review window for every unanswered case
        made a check's time grow with the window's length)."""
        if end <= start:
            return 0.0
        if self.always:
            return (end - start).total_seconds()
        first, last = self._local_date(start), self._local_date(end)
        if (last - first).days <= _WALKED_DAYS:
            return self._cut(start, end, first - _DAY, last)
        whole = self._opening_between(first + _DAY, last - 2 * _DAY)
        return (
            self._cut(start, end, first - _DAY, first)
            + whole
            + self._cut(start, end, last - _DAY, last)
        )

    def _cut(self, start: datetime, end: datetime, day: date, last: date) -> float:
        """Business seconds in `[start, end)` of the windows starting on `day` to `last`."""
        total = 0.0
        while day <= last:
            for begin, finish in self.day_windows(day):
                lo, hi = max(begin, start), min(finish, end)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += _DAY
        return total

    def _opening_between(self, first: date, last: date) -> float:
        """Seconds of all the windows starting on `first` to `last`, from running sums."""
        running = self._running
        if running is None or first < running[0]:
            running = (first - _RUNNING_MARGIN, (0,))
        since, sums = running
        if len(sums) <= (last - since).days + 1:
            more, total = [], sums[-1]
            for offset in range(len(sums) - 1, (last - since).days + 1):
                day = since + timedelta(days=offset)
                total += sum(
                    (finish - begin) // _MICROSECOND for begin, finish in self.day_windows(day)
                )
                more.append(total)
            sums += tuple(more)
        self._running = (since, sums)
        return (sums[(last - since).days + 1] - sums[(first - since).days]) / 1_000_000

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """The instant at which `amount` of business time has elapsed after `start`."""
        if self.always:
            return start + amount
        remaining = amount.total_seconds()
        day = self._local_date(start) - timedelta(days=1)
        for _ in range(_MAX_SEARCH_DAYS):
            for begin, finish in self.day_windows(day):
                lo = max(begin, start)
                if finish <= lo:
                    continue
                available = (finish - lo).total_seconds()
                if remaining <= available:
                    return lo + timedelta(seconds=remaining)
                remaining -= available
            day += timedelta(days=1)
        return datetime.max.replace(tzinfo=UTC)


def calendar_for(spec: CalendarSpec | None) -> BusinessCalendar:
    """A calendar for `spec`; None means calendar time (always open), one shared instance (a
    control asks for its calendar once per conversation)."""
    return _always() if spec is None else BusinessCalendar(spec)


@cache
def _always() -> BusinessCalendar:
    return BusinessCalendar(ALWAYS)
