"""Overnight opening hours on real PostgreSQL: the SQL ``open_now`` of nearby search agrees with the Python
``is_open_at`` at many instants (every DST night of 2026 in four zones), and the counter's roster keeps the
small hours with the evening they belong to.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import DateTime, column, select, true, values

from app.discovery import services as discovery
from app.merchants.hours import is_open_at, spans_on
from app.merchants.models import Store
from bookings import checkin
from geo.points import LngLat
from tests import factories as f

ZONES = ["Asia/Shanghai", "America/New_York", "Europe/London", "Australia/Sydney"]
DAILY = range(7)
SAT, SUN = 5, 6

# (name, weekly (weekday, opens, closes), dated (day, opens, closes) with None for closed all day)
HOURS = [
    ("saturday-night", [(SAT, time(22), time(3))], []),
    ("every-night-but-dst-sundays-closed", [(d, time(18), time(2)) for d in DAILY],
     [(date(2026, 3, 8), None, None), (date(2026, 11, 1), None, None), (date(2026, 3, 29), None, None),
      (date(2026, 10, 25), None, None), (date(2026, 4, 5), None, None), (date(2026, 10, 4), None, None)]),
    ("round-the-clock", [(d, time(0), time(0)) for d in DAILY], []),
    ("saturday-ten-to-ten", [(SAT, time(10), time(10))], []),
    ("special-nights", [(d, time(10), time(20)) for d in DAILY],
     [(day, time(20), time(4)) for day in (date(2026, 3, 7), date(2026, 10, 31), date(2026, 3, 28),
                                           date(2026, 10, 24), date(2026, 4, 4), date(2026, 10, 3))]),
    ("closing-in-the-changed-hour", [(SAT, time(22), time(1, 30)), (SUN, time(1, 45), time(2, 30))], []),
    ("sunday-into-monday", [(SUN, time(22), time(3)), (0, time(3), time(12))], []),
    ("plain-days", [(d, time(10), time(20)) for d in DAILY], []),
]

# From Friday noon to Monday noon UTC around each 2026 clock change of these zones.
WINDOWS = {
    "us-spring": datetime(2026, 3, 6, 12, tzinfo=UTC), "us-fall": datetime(2026, 10, 30, 12, tzinfo=UTC),
    "eu-spring": datetime(2026, 3, 27, 12, tzinfo=UTC), "eu-fall": datetime(2026, 10, 23, 12, tzinfo=UTC),
    "au-fall": datetime(2026, 4, 3, 12, tzinfo=UTC), "au-spring": datetime(2026, 10, 2, 12, tzinfo=UTC),
}


@pytest.fixture
def stores(db) -> list[Store]:
    made = []
    for zone in ZONES:
        for name, weekly, dated in HOURS:
            store = f.create_store(hours=False, timezone=zone, name=f"{name} ({zone})")
            f.set_hours(store, weekly, [(day, o is None, o, c) for day, o, c in dated])
            made.append(store)
    return made


def sql_open(db, stores: list[Store], moments: list[datetime]) -> dict[tuple[datetime, int], bool]:
    """Ask PostgreSQL, in one statement, whether each store is open at each moment."""
    at = values(column("at", DateTime(timezone=True)), name="moments").data([(m,) for m in moments])
    rows = db.session.execute(select(at.c.at, Store.id, discovery.open_now_clause(at.c.at))
                              .select_from(at).join(Store, true()).where(Store.id.in_([s.id for s in stores]))).all()
    return {(moment, store_id): state for moment, store_id, state in rows}


def boundaries(stores: list[Store], start: datetime, end: datetime) -> set[datetime]:
    """Each instant a store opens or closes in the window, and a second either side."""
    found = set()
    for store in stores:
        zone = ZoneInfo(store.timezone)
        day = start.astimezone(zone).date() - timedelta(days=1)
        while day <= end.astimezone(zone).date():
            for opening in spans_on(store, day, zone):
                found |= {instant + timedelta(seconds=s) for instant in opening for s in (-1, 0, 1)}
            day += timedelta(days=1)
    return {instant for instant in found if start <= instant <= end}


@pytest.mark.parametrize("window", WINDOWS)
def test_sql_and_python_agree_across_the_dst_weekend(db, stores, window):
    start = WINDOWS[window]
    end = start + timedelta(days=3)
    moments = sorted({start + timedelta(minutes=20 * n) for n in range(3 * 72 + 1)} | boundaries(stores, start, end))
    in_sql = sql_open(db, stores, moments)
    assert len(in_sql) == len(moments) * len(stores)
    disagreements = [(moment.isoformat(), store.name, in_sql[moment, store.id])
                     for moment in moments for store in stores if in_sql[moment, store.id] != is_open_at(store, moment)]
    assert disagreements == []


def test_the_windows_do_see_overnight_hours(db, stores):
    # Not vacuous: at 01:30 on the spring-forward Sunday in New York (06:30Z) the night stores are open.
    moment = datetime(2026, 3, 8, 6, 30, tzinfo=UTC)
    in_sql = sql_open(db, stores, [moment])
    states = {store.name: in_sql[moment, store.id] for store in stores}
    assert states["saturday-night (America/New_York)"] is True
    assert states["every-night-but-dst-sundays-closed (America/New_York)"] is True
    assert states["plain-days (America/New_York)"] is False


# -- through nearby search ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("moment", "expected"), [
    (datetime(2026, 3, 8, 2, 59, tzinfo=UTC), False),  # Saturday 21:59 EST
    (datetime(2026, 3, 8, 3, 0, tzinfo=UTC), True),  # 22:00 EST
    (datetime(2026, 3, 8, 6, 59, tzinfo=UTC), True),  # Sunday 01:59 EST
    (datetime(2026, 3, 8, 7, 0, tzinfo=UTC), False),  # 03:00 EDT: four hours after opening
    (datetime(2026, 11, 1, 5, 30, tzinfo=UTC), True),  # 01:30 EDT
    (datetime(2026, 11, 1, 6, 30, tzinfo=UTC), True),  # 01:30 EST, the hour again
    (datetime(2026, 11, 1, 7, 59, tzinfo=UTC), True),  # 02:59 EST
    (datetime(2026, 11, 1, 8, 0, tzinfo=UTC), False),  # 03:00 EST: six hours after opening
])
def test_open_now_filter_for_a_new_york_bar(db, moment, expected):
    point = LngLat(lng=-73.99, lat=40.73)
    store = f.set_hours(f.create_store(hours=False, timezone="America/New_York", lng=point.lng, lat=point.lat),
                        [(SAT, time(22), time(3))])
    offering = f.create_offering(store)
    query = discovery.NearbyQuery(point=point, radius_m=500, filters=discovery.Filters(open_now=True))
    assert (offering.id in [item.offering.id for item in discovery.nearby(query, moment).items]) is expected
    everything = discovery.nearby(discovery.NearbyQuery(point=point, radius_m=500), moment).items
    assert [item.open_now for item in everything if item.offering.id == offering.id] == [expected]


# -- the counter's roster --------------------------------------------------------------------------------

@pytest.fixture
def bar(db):
    """A New York bar open Saturday 22:00-03:00 and Sunday 10:00-16:00, with visits around the spring-forward night."""
    store = f.set_hours(f.create_store(hours=False, timezone="America/New_York"),
                        [(SAT, time(22), time(3)), (SUN, time(10), time(16))])
    offering = f.create_offering(store, capacity=10, duration_min=30)
    staff = f.add_staff(store)
    starts = {
        "sat-21:00": datetime(2026, 3, 8, 2, 0, tzinfo=UTC),
        "sun-00:30": datetime(2026, 3, 8, 5, 30, tzinfo=UTC),
        "sun-01:30": datetime(2026, 3, 8, 6, 30, tzinfo=UTC),
        "sun-03:30": datetime(2026, 3, 8, 7, 30, tzinfo=UTC),  # EDT: after the night's close
        "sun-11:00": datetime(2026, 3, 8, 15, 0, tzinfo=UTC),
        "mon-00:30": datetime(2026, 3, 9, 4, 30, tzinfo=UTC),  # Sunday closes at 16:00: Monday's
    }
    bookings = {name: f.create_booking(f.create_slot(offering, at)) for name, at in starts.items()}
    return store, staff, bookings


def names(roster, bookings) -> list[str]:
    by_id = {booking.id: name for name, booking in bookings.items()}
    return sorted(by_id[b.id] for b in roster.expected + roster.late + roster.arrived + roster.no_show
                  + roster.cancelled)


def test_the_roster_keeps_the_small_hours_with_the_evening(db, bar):
    store, staff, bookings = bar
    before = datetime(2026, 3, 7, 12, tzinfo=UTC)
    saturday = checkin.roster(staff, store.id, date(2026, 3, 7), before)
    sunday = checkin.roster(staff, store.id, date(2026, 3, 8), before)
    monday = checkin.roster(staff, store.id, date(2026, 3, 9), before)
    assert names(saturday, bookings) == ["sat-21:00", "sun-00:30", "sun-01:30"]
    assert names(sunday, bookings) == ["sun-03:30", "sun-11:00"]
    assert names(monday, bookings) == ["mon-00:30"]


@pytest.mark.parametrize(("now", "day"), [
    (datetime(2026, 3, 8, 4, 59, tzinfo=UTC), date(2026, 3, 7)),  # Saturday 23:59 EST
    (datetime(2026, 3, 8, 6, 45, tzinfo=UTC), date(2026, 3, 7)),  # Sunday 01:45 EST: still Saturday night
    (datetime(2026, 3, 8, 7, 0, tzinfo=UTC), date(2026, 3, 8)),  # 03:00 EDT: the night is over
    (datetime(2026, 3, 9, 4, 30, tzinfo=UTC), date(2026, 3, 9)),  # Monday 00:30 EDT: no night on Sunday
])
def test_the_roster_opens_on_the_business_day_now_is_in(db, bar, now, day):
    store, staff, _ = bar
    assert checkin.roster(staff, store.id, None, now).day == day
