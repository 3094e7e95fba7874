"""The clock model: durations and business calendars (DST, split and overnight shifts, holidays)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from iso_social.clock import BusinessCalendar, CalendarSpec, format_duration, parse_duration

MADRID = CalendarSpec(
    timezone="Europe/Madrid",
    hours={"mon-fri": ["09:00-14:00", "15:00-19:00"], "sat": ["10:00-14:00"]},
    holidays={"country": "ES", "subdivision": "MD", "dates": ["2026-12-24"]},
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("45s", 45),
        ("30m", 1800),
        ("1h", 3600),
        ("1h30m", 5400),
        ("2d", 172800),
        ("1w", 604800),
        ("PT2H", 7200),
        ("P1DT1H", 90000),
        (90, 90),
        ("1.5h", 5400),
    ],
)
def test_parse_duration(text: object, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "1 hour", "h", "-1h", "0s", "1x", True])
def test_parse_duration_rejects(text: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(text)


def test_format_duration_never_rounds_a_late_reply_down_to_the_deadline() -> None:
    assert format_duration(3641) == "1 h 0 min 41 s"
    assert format_duration(3600) == "1 h"
    assert format_duration(11100) == "3 h 5 min"
    assert format_duration(200000) == "2 d 7 h"


def test_split_shift_and_weekend() -> None:
    calendar = BusinessCalendar(MADRID)
    friday_18_local = utc(2026, 11, 20, 17, 0)  # CET = UTC+1
    # one hour left on Friday, the next hour starts Saturday 10:00 local
    assert calendar.add(friday_18_local, timedelta(hours=2)) == utc(2026, 11, 21, 10, 0)
    monday_10_local = utc(2026, 11, 23, 9, 0)
    assert calendar.seconds_between(friday_18_local, monday_10_local) == 6 * 3600


def test_lunch_break_is_not_business_time() -> None:
    calendar = BusinessCalendar(MADRID)
    assert calendar.seconds_between(utc(2026, 11, 18, 12, 30), utc(2026, 11, 18, 14, 30)) == 3600


def test_daylight_saving_change_keeps_wall_clock_windows() -> None:
    calendar = BusinessCalendar(MADRID)
    # Friday 23 Oct 2026 is CEST (UTC+2): 09:00 local is 07:00 UTC
    assert calendar.add(utc(2026, 10, 23, 6, 0), timedelta(minutes=1)) == utc(2026, 10, 23, 7, 1)
    # Monday 26 Oct 2026 is CET (UTC+1) after the change on Sunday: 09:00 local is 08:00 UTC
    assert calendar.add(utc(2026, 10, 26, 6, 0), timedelta(minutes=1)) == utc(2026, 10, 26, 8, 1)


def test_regional_and_listed_holidays_close_the_day() -> None:
    calendar = BusinessCalendar(MADRID)
    assert calendar.is_holiday(date(2026, 5, 2))  # Madrid day (a Saturday in 2026)
    assert calendar.is_holiday(date(2026, 12, 24))  # listed
    assert calendar.is_holiday(date(2026, 12, 8))  # national
    assert not calendar.is_holiday(date(2026, 12, 9))
    # nothing counts on Christmas Eve (a Thursday)
    assert calendar.seconds_between(utc(2026, 12, 24, 0, 0), utc(2026, 12, 25, 0, 0)) == 0


def test_overnight_shift_belongs_to_the_day_it_starts() -> None:
    night = BusinessCalendar(CalendarSpec(timezone="UTC", hours={"mon": ["22:00-06:00"]}))
    monday_23 = utc(2026, 11, 23, 23, 0)
    assert night.seconds_between(monday_23, utc(2026, 11, 24, 12, 0)) == 7 * 3600
    assert night.add(utc(2026, 11, 23, 12, 0), timedelta(hours=3)) == utc(2026, 11, 24, 1, 0)


def test_always_is_calendar_time() -> None:
    always = BusinessCalendar(CalendarSpec())
    assert always.always
    assert always.seconds_between(utc(2026, 1, 1), utc(2026, 1, 2)) == 86400


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "IANA"),
        ({"hours": {"mon": ["9-17"]}}, "HH:MM"),
        ({"hours": {"funday": ["09:00-17:00"]}}, "weekday"),
        ({"hours": {"mon": ["09:00-09:00"]}}, "empty"),
        ({"holidays": {"country": "XX"}}, "country"),
        ({"holidays": {"country": "ES", "subdivision": "ZZ"}}, "subdivision"),
    ],
)
def test_invalid_calendars_are_explained(spec: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        CalendarSpec.model_validate(spec)


@pytest.mark.parametrize(
    ("country", "subdivision"),
    [
        ("ES", "MD"),
        ("es", "CT"),
        ("US", "CA"),
        ("GB", "SCT"),
        ("AS", "XX"),
        ("DE", "BY"),
        ("FR", "ZZ"),
    ],
)
def test_subdivisions_are_checked_as_the_holidays_package_checks_them(
    country: str, subdivision: str
) -> None:
    """Validation loads one country's module on its own (American Samoa's imports another
    country's): it must accept and refuse what `holidays.country_holidays` does."""
    import holidays

    try:
        holidays.country_holidays(country.upper(), subdiv=subdivision)  # policies may write es
        known = True
    except NotImplementedError:
        known = False
    spec = {"holidays": {"country": country, "subdivision": subdivision}}
    if known:
        CalendarSpec.model_validate(spec)
    else:
        with pytest.raises(ValidationError, match="subdivision"):
            CalendarSpec.model_validate(spec)


CALENDARS = [
    MADRID,
    CalendarSpec(timezone="UTC", hours={"mon": ["22:00-06:00"], "wed-sat": ["08:00-24:00"]}),
    CalendarSpec(timezone="America/New_York", hours={"mon-sun": ["00:00-24:00"]}),
    CalendarSpec(timezone="Asia/Kolkata", hours={"tue-fri": ["09:30-17:45"]}),
]


def walked(calendar: BusinessCalendar, start: datetime, end: datetime) -> float:
    """Business seconds in `[start, end)`, walking every day's windows (the definition)."""
    total, day = 0.0, calendar._local_date(start) - timedelta(days=1)
    while day <= calendar._local_date(end):
        for begin, finish in calendar.day_windows(day):
            total += max((min(finish, end) - max(begin, start)).total_seconds(), 0.0)
        day += timedelta(days=1)
    return total


@given(
    st.sampled_from(range(len(CALENDARS))),
    st.lists(
        st.tuples(
            st.datetimes(  # naive bounds, as hypothesis takes them with `timezones`
                datetime(2025, 12, 1),  # noqa: DTZ001
                datetime(2027, 2, 1),  # noqa: DTZ001
                timezones=st.just(UTC),
            ),
            st.timedeltas(timedelta(0), timedelta(days=400)),
        ),
        min_size=1,
        max_size=6,
    ),
)
def test_long_spans_add_up_the_days_between_as_walking_each_day_does(
    which: int, spans: list[tuple[datetime, timedelta]]
) -> None:
    """Spans of any length (a few days are walked, the days between longer ones come from
    running sums extended and restarted as spans reach later and earlier days), over split,
    overnight and holiday calendars across daylight-saving changes: the walk's seconds."""
    calendar = BusinessCalendar(CALENDARS[which])
    for start, length in spans:
        assert calendar.seconds_between(start, start + length) == pytest.approx(
            walked(calendar, start, start + length), abs=1e-6
        )
