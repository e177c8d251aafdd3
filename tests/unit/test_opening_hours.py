"""Opening hours that cross midnight (app/merchants/hours.py), in several zones and across DST nights.

Expected instants are written out in UTC by hand, never computed with the code under test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from app.merchants.hours import (
    business_day,
    business_day_bounds,
    describe,
    is_open_at,
    local_instant,
    span,
    week_overlap,
)
from app.merchants.models import HoursException, OpeningHours, Store

SAT = 5
ZONES = ["Asia/Shanghai", "America/New_York", "Europe/London", "Australia/Sydney"]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def local(zone: str, *args: int) -> datetime:
    """A store-local wall time that exists exactly once (never on a DST night)."""
    return datetime(*args, tzinfo=ZoneInfo(zone))


def store(zone: str, weekly=(), exceptions=()) -> Store:
    """A transient store: weekly ``(weekday, opens, closes)``, dated ``(day, opens, closes)`` (None: closed)."""
    return Store(name="In memory", timezone=zone,
                 hours=[OpeningHours(weekday=d, opens_at=o, closes_at=c) for d, o, c in weekly],
                 exceptions=[HoursException(day=day, is_closed=o is None, opens_at=o, closes_at=c)
                             for day, o, c in exceptions])


def walk(start: datetime, end: datetime, step: timedelta = timedelta(minutes=15)):
    while start <= end:
        yield start
        start += step


# -- wall time to instant -----------------------------------------------------------------------

@pytest.mark.parametrize(("zone", "day", "at", "expected"), [
    ("Asia/Shanghai", date(2026, 3, 8), time(2, 30), utc(2026, 3, 7, 18, 30)),
    ("America/New_York", date(2026, 1, 5), time(2, 30), utc(2026, 1, 5, 7, 30)),
    # Skipped when the clocks go forward: read with the offset before the jump (EST), i.e. 03:30 EDT.
    ("America/New_York", date(2026, 3, 8), time(2, 30), utc(2026, 3, 8, 7, 30)),
    ("America/New_York", date(2026, 3, 8), time(3, 0), utc(2026, 3, 8, 7, 0)),
    # Read twice when they go back: the second reading (EST).
    ("America/New_York", date(2026, 11, 1), time(1, 30), utc(2026, 11, 1, 6, 30)),
    ("America/New_York", date(2026, 11, 1), time(0, 59), utc(2026, 11, 1, 4, 59)),
    ("Europe/London", date(2026, 3, 29), time(1, 30), utc(2026, 3, 29, 1, 30)),
    ("Europe/London", date(2026, 10, 25), time(1, 30), utc(2026, 10, 25, 1, 30)),
    ("Australia/Sydney", date(2026, 4, 5), time(2, 30), utc(2026, 4, 4, 16, 30)),
    ("Australia/Sydney", date(2026, 10, 4), time(2, 30), utc(2026, 10, 3, 16, 30)),
], ids=lambda value: str(value))
def test_a_wall_time_stands_for_its_latest_reading(zone, day, at, expected):
    assert local_instant(day, at, ZoneInfo(zone)) == expected


@pytest.mark.parametrize(("zone", "day", "opens", "closes", "hours"), [
    ("America/New_York", date(2026, 3, 6), time(22), time(3), 5),
    ("America/New_York", date(2026, 3, 7), time(22), time(3), 4),  # spring forward
    ("America/New_York", date(2026, 10, 31), time(22), time(3), 6),  # fall back
    ("Asia/Shanghai", date(2026, 3, 7), time(22), time(3), 5),
    ("Asia/Shanghai", date(2026, 10, 31), time(22), time(3), 5),
    ("Europe/London", date(2026, 3, 28), time(22), time(3), 4),
    ("Europe/London", date(2026, 10, 24), time(22), time(3), 6),
    ("Australia/Sydney", date(2026, 4, 4), time(22), time(3), 6),
    ("Australia/Sydney", date(2026, 10, 3), time(22), time(3), 4),
    ("America/New_York", date(2026, 3, 8), time(0), time(0), 23),  # 24 hours on a 23-hour day
    ("America/New_York", date(2026, 11, 1), time(0), time(0), 25),
    ("Asia/Shanghai", date(2026, 1, 5), time(10), time(10), 24),
    ("Asia/Shanghai", date(2026, 1, 5), time(18), time(0), 6),  # until midnight
    ("Asia/Shanghai", date(2026, 1, 5), time(9), time(18), 9),
], ids=lambda value: str(value))
def test_an_interval_lasts_as_long_as_the_night_really_is(zone, day, opens, closes, hours):
    start, end = span(day, opens, closes, ZoneInfo(zone))
    assert end - start == timedelta(hours=hours)


# -- open or closed across DST nights ---------------------------------------------------------------

# Saturday 22:00-03:00 on the nights the clocks change, with the instants it really opens and closes.
DST_NIGHTS = [
    ("America/New_York", utc(2026, 3, 8, 3, 0), utc(2026, 3, 8, 7, 0)),  # 22:00 EST .. 03:00 EDT
    ("America/New_York", utc(2026, 11, 1, 2, 0), utc(2026, 11, 1, 8, 0)),  # 22:00 EDT .. 03:00 EST
    ("America/New_York", utc(2026, 1, 4, 3, 0), utc(2026, 1, 4, 8, 0)),  # an ordinary winter night
    ("Asia/Shanghai", utc(2026, 3, 7, 14, 0), utc(2026, 3, 7, 19, 0)),
    ("Asia/Shanghai", utc(2026, 10, 31, 14, 0), utc(2026, 10, 31, 19, 0)),
    ("Europe/London", utc(2026, 3, 28, 22, 0), utc(2026, 3, 29, 2, 0)),
    ("Europe/London", utc(2026, 10, 24, 21, 0), utc(2026, 10, 25, 3, 0)),
    ("Australia/Sydney", utc(2026, 4, 4, 11, 0), utc(2026, 4, 4, 17, 0)),
    ("Australia/Sydney", utc(2026, 10, 3, 12, 0), utc(2026, 10, 3, 16, 0)),
]


@pytest.mark.parametrize(("zone", "opens_at", "closes_at"), DST_NIGHTS,
                         ids=[f"{z}-{o:%Y-%m-%d}" for z, o, _ in DST_NIGHTS])
def test_saturday_night_hours_across_the_clock_change(zone, opens_at, closes_at):
    bar = store(zone, [(SAT, time(22), time(3))])
    for moment in walk(opens_at - timedelta(hours=3), closes_at + timedelta(hours=3)):
        assert is_open_at(bar, moment) is (opens_at <= moment < closes_at), moment
    for moment in (opens_at - timedelta(seconds=1), closes_at - timedelta(seconds=1), closes_at):
        assert is_open_at(bar, moment) is (opens_at <= moment < closes_at), moment


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/London"])
@pytest.mark.parametrize("closes", [time(0, 30), time(1), time(1, 30), time(2), time(2, 30), time(3)])
@pytest.mark.parametrize("night", [0, 1], ids=["spring-forward", "fall-back"])
def test_a_clock_change_never_closes_and_reopens_a_store(zone, closes, night):
    saturday = {"America/New_York": (date(2026, 3, 7), date(2026, 10, 31)),
                "Europe/London": (date(2026, 3, 28), date(2026, 10, 24))}[zone][night]
    bar = store(zone, [(SAT, time(22), closes)])
    start = datetime.combine(saturday, time(12), tzinfo=UTC)
    states = [is_open_at(bar, moment) for moment in walk(start, start + timedelta(hours=24), timedelta(minutes=5))]
    assert sum(a != b for a, b in zip(states, states[1:], strict=False)) == 2  # opens once, closes once


def test_closing_in_the_repeated_hour_means_its_second_reading():
    # New York goes back from 02:00 EDT to 01:00 EST on 2026-11-01: 01:30 happens twice.
    bar = store("America/New_York", [(SAT, time(22), time(1, 30))])
    assert is_open_at(bar, utc(2026, 11, 1, 5, 45)) is True  # 01:45 EDT
    assert is_open_at(bar, utc(2026, 11, 1, 6, 29)) is True  # 01:29 EST
    assert is_open_at(bar, utc(2026, 11, 1, 6, 30)) is False  # 01:30 EST


def test_closing_in_the_skipped_hour_reads_it_before_the_jump():
    # New York jumps from 02:00 EST to 03:00 EDT on 2026-03-08: 02:30 never shows; 02:30 EST is 03:30 EDT.
    bar = store("America/New_York", [(SAT, time(22), time(2, 30))])
    assert is_open_at(bar, utc(2026, 3, 8, 6, 59)) is True  # 01:59 EST
    assert is_open_at(bar, utc(2026, 3, 8, 7, 29)) is True  # 03:29 EDT
    assert is_open_at(bar, utc(2026, 3, 8, 7, 30)) is False  # 03:30 EDT


# -- overnight intervals and dated exceptions (an ordinary week: Monday 2026-01-05) --------------------------

MON, TUE, WED, THU = (date(2026, 1, 5) + timedelta(days=n) for n in range(4))
MONDAY_NIGHT = [(0, time(18), time(2))]


@pytest.mark.parametrize("zone", ZONES)
def test_the_small_hours_belong_to_the_evening_before(zone):
    bar = store(zone, MONDAY_NIGHT)
    assert is_open_at(bar, local(zone, 2026, 1, 5, 17, 59)) is False
    assert is_open_at(bar, local(zone, 2026, 1, 5, 18, 0)) is True
    assert is_open_at(bar, local(zone, 2026, 1, 5, 23, 59)) is True
    assert is_open_at(bar, local(zone, 2026, 1, 6, 0, 0)) is True
    assert is_open_at(bar, local(zone, 2026, 1, 6, 1, 0)) is True  # Tuesday 01:00: Monday's hours
    assert is_open_at(bar, local(zone, 2026, 1, 6, 2, 0)) is False
    assert is_open_at(bar, local(zone, 2026, 1, 6, 18, 30)) is False  # no hours of its own on Tuesday
    assert is_open_at(bar, local(zone, 2026, 1, 5, 1, 0)) is False  # Sunday night had none


@pytest.mark.parametrize("zone", ZONES)
def test_a_closed_day_does_not_close_the_night_before(zone):
    bar = store(zone, [(d, time(18), time(2)) for d in range(7)], [(TUE, None, None)])
    assert is_open_at(bar, local(zone, 2026, 1, 6, 1, 0)) is True  # Monday night's tail runs on
    assert is_open_at(bar, local(zone, 2026, 1, 6, 19, 0)) is False  # Tuesday evening is closed
    assert is_open_at(bar, local(zone, 2026, 1, 7, 1, 0)) is False  # and so is its tail
    assert is_open_at(bar, local(zone, 2026, 1, 7, 19, 0)) is True


@pytest.mark.parametrize("zone", ZONES)
def test_special_hours_on_the_evening_end_the_night_early(zone):
    bar = store(zone, [(d, time(18), time(2)) for d in range(7)], [(MON, time(18), time(0))])
    assert is_open_at(bar, local(zone, 2026, 1, 5, 23, 59)) is True
    assert is_open_at(bar, local(zone, 2026, 1, 6, 0, 30)) is False
    assert is_open_at(bar, local(zone, 2026, 1, 6, 18, 30)) is True


@pytest.mark.parametrize("zone", ZONES)
def test_a_dated_exception_may_cross_midnight_too(zone):
    # Usually 10:00-20:00; Wednesday 20:00-04:00 once, and Thursday closed: the night still ends at 04:00.
    shop = store(zone, [(d, time(10), time(20)) for d in range(7)], [(WED, time(20), time(4)), (THU, None, None)])
    assert is_open_at(shop, local(zone, 2026, 1, 7, 12, 0)) is False  # the exception replaces Wednesday's day
    assert is_open_at(shop, local(zone, 2026, 1, 7, 21, 0)) is True
    assert is_open_at(shop, local(zone, 2026, 1, 8, 3, 59)) is True
    assert is_open_at(shop, local(zone, 2026, 1, 8, 4, 0)) is False
    assert is_open_at(shop, local(zone, 2026, 1, 8, 12, 0)) is False


@pytest.mark.parametrize("zone", ZONES)
def test_sunday_night_runs_into_monday_morning(zone):
    bar = store(zone, [(6, time(22), time(3))])
    assert is_open_at(bar, local(zone, 2026, 1, 5, 2, 59)) is True  # Monday 02:59
    assert is_open_at(bar, local(zone, 2026, 1, 5, 3, 0)) is False


@pytest.mark.parametrize("zone", ZONES)
def test_the_same_time_twice_is_open_24_hours(zone):
    always = store(zone, [(d, time(0), time(0)) for d in range(7)])
    for moment in walk(local(zone, 2026, 1, 5, 0, 0), local(zone, 2026, 1, 12, 0, 0), timedelta(minutes=37)):
        assert is_open_at(always, moment) is True
    monday_ten_to_ten = store(zone, [(0, time(10), time(10))])
    assert is_open_at(monday_ten_to_ten, local(zone, 2026, 1, 5, 9, 59)) is False
    assert is_open_at(monday_ten_to_ten, local(zone, 2026, 1, 6, 9, 59)) is True
    assert is_open_at(monday_ten_to_ten, local(zone, 2026, 1, 6, 10, 0)) is False


# -- the business day ------------------------------------------------------------------------------------

def test_a_business_day_ends_when_its_night_does():
    zone = "Asia/Shanghai"
    bar = store(zone, [(d, time(18), time(2)) for d in range(7)])
    assert business_day_bounds(bar, MON) == (local(zone, 2026, 1, 5, 2, 0), local(zone, 2026, 1, 6, 2, 0))
    assert business_day(bar, local(zone, 2026, 1, 6, 0, 30)) == MON
    assert business_day(bar, local(zone, 2026, 1, 6, 2, 0)) == TUE
    plain = store(zone, [(d, time(10), time(20)) for d in range(7)])
    assert business_day_bounds(plain, MON) == (local(zone, 2026, 1, 5, 0, 0), local(zone, 2026, 1, 6, 0, 0))
    assert business_day(plain, local(zone, 2026, 1, 6, 0, 30)) == TUE


def test_business_days_across_the_spring_forward_night():
    bar = store("America/New_York", [(SAT, time(22), time(3))])
    saturday, sunday = date(2026, 3, 7), date(2026, 3, 8)
    assert business_day_bounds(bar, saturday) == (utc(2026, 3, 7, 5, 0), utc(2026, 3, 8, 7, 0))
    assert business_day_bounds(bar, sunday) == (utc(2026, 3, 8, 7, 0), utc(2026, 3, 9, 4, 0))
    assert business_day(bar, utc(2026, 3, 8, 6, 30)) == saturday  # 01:30 EST
    assert business_day(bar, utc(2026, 3, 8, 7, 0)) == sunday  # 03:00 EDT


# -- saying and checking intervals --------------------------------------------------------------------

@pytest.mark.parametrize(("opens", "closes", "text"), [
    (time(9), time(18), "09:00–18:00"),
    (time(18), time(2), "18:00–02:00 (next day)"),
    (time(18), time(0), "18:00–00:00 (midnight)"),
    (time(10), time(10), "10:00–10:00 (24 hours)"),
    (time(0), time(0), "00:00–00:00 (24 hours)"),
])
def test_describe(opens, closes, text):
    assert describe(opens, closes) == text


@pytest.mark.parametrize("rows", [
    [(0, time(18), time(2)), (1, time(2), time(10))],  # touching at 02:00
    [(d, time(0), time(0)) for d in range(7)],  # round the clock
    [(6, time(22), time(3)), (0, time(3), time(12))],
    [(0, time(9), time(12)), (0, time(13), time(1))],
], ids=["touching", "round-the-clock", "sunday-into-monday", "lunch-then-late"])
def test_week_overlap_lets_touching_intervals_be(rows):
    assert week_overlap(rows) is None


@pytest.mark.parametrize(("rows", "message"), [
    ([(0, time(18), time(2)), (1, time(1), time(10))],
     "intervals overlap on Tue (Mon 18:00–02:00 (next day) runs into it)"),
    ([(6, time(22), time(3)), (0, time(2), time(10))],
     "intervals overlap on Mon (Sun 22:00–03:00 (next day) runs into it)"),
    ([(2, time(18), time(2)), (2, time(20), time(3))], "intervals overlap on Wed"),
    ([(2, time(0), time(0)), (2, time(9), time(12))], "intervals overlap on Wed"),
    ([(2, time(9), time(9)), (3, time(8), time(10))],
     "intervals overlap on Thu (Wed 09:00–09:00 (24 hours) runs into it)"),
    ([(4, time(9), time(13)), (4, time(12), time(18))], "intervals overlap on Fri"),
], ids=["monday-night-into-tuesday", "sunday-night-into-monday", "two-nights", "24h-and-more",
        "24h-into-next-day", "same-day"])
def test_week_overlap_names_the_day(rows, message):
    assert week_overlap(rows) == message
