"""Booking lists and the counter's roster load their relations in the list's own query: the number of
SQL statements a request runs does not grow with the number of bookings it shows."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import event

from app.auth.models import Role
from app.extensions import db as database
from bookings.models import CheckIn, OfflinePayment, WaitlistEntry
from tests import factories as f

NOW = datetime(2031, 3, 10, 1, 0, tzinfo=UTC)  # Mon 10 Mar 2031, 09:00 in Shanghai, where the stores are


@pytest.fixture(autouse=True)
def _frozen(clock):
    clock.travel(NOW, tick=False)


@contextmanager
def statements(db):
    """Collect the SQL statements run meanwhile."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def resident_with_visits(count: int):
    """A resident with ``count`` upcoming visits, ``count`` past ones and ``count`` waitlists, each at
    another store."""
    resident = f.create_user()
    for n in range(count):
        for days in (2 + n, -3 - n):
            f.create_booking(f.create_slot(f.create_offering(capacity=5), NOW + timedelta(days=days)), resident)
        full = f.create_slot(f.create_offering(capacity=1), NOW + timedelta(days=2), seats_taken=1)
        database.session.add(WaitlistEntry(slot_id=full.id, resident_id=resident.id, party_size=1))
    database.session.flush()
    return resident


def store_with_a_day(count: int):
    """A store whose today holds ``count`` visits of different residents: all checked in and paid, and one
    more expected."""
    owner = f.create_merchant()
    store = f.create_store(f.create_business(owner))
    staff = f.add_staff(store, f.create_user(Role.STAFF))
    for n in range(count):
        slot = f.create_slot(f.create_offering(store, capacity=5), NOW + timedelta(hours=n % 6))
        booking = f.create_booking(slot, status="checked_in")
        database.session.add(CheckIn(booking_id=booking.id, store_id=store.id, method="staff_scan",
                                 verification="staff_verified", actor_id=staff.id, checked_in_at=NOW))
        database.session.add(OfflinePayment(booking_id=booking.id, amount=Decimal("88.00"), currency="CNY",
                                        method="cash", recorded_by_id=staff.id))
    f.create_booking(f.create_slot(f.create_offering(store, capacity=5), NOW + timedelta(hours=3)))
    database.session.flush()
    return owner, store


def count_for(db, client, build, path_of, *, login=None):
    """How many statements ``GET path_of(world)`` runs for a world of 1 and of 6 bookings."""
    counts = []
    for size in (1, 6):
        world = build(size)
        user, path = path_of(world)
        headers = f.token_for(user)
        with statements(db) as seen:
            response = client.get(path, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        counts.append(len(seen))
    return counts


@pytest.mark.parametrize("path", ["/api/v1/bookings?when=upcoming", "/api/v1/bookings?when=past"])
def test_the_residents_list_runs_the_same_statements_for_one_visit_or_six(client, db, path):
    one, six = count_for(db, client, resident_with_visits, lambda resident: (resident, path))
    assert one == six


@pytest.mark.parametrize("path", ["/api/v1/stores/{id}/bookings", "/api/v1/stores/{id}/roster"])
def test_the_stores_day_and_roster_run_the_same_statements_for_one_visit_or_six(client, db, path):
    one, six = count_for(db, client, store_with_a_day,
                         lambda world: (world[0], path.format(id=world[1].id)))
    assert one == six


def test_the_visits_page_and_the_counter_page_do_not_query_per_booking(auth, db):
    counts = {"/me/visits": [], "/merchant/stores/{id}/checkin": [], "/merchant/stores/{id}/bookings": []}
    for size in (1, 6):
        resident = resident_with_visits(size)
        owner, store = store_with_a_day(size)
        for path, seen_counts in counts.items():
            user = resident if path == "/me/visits" else owner
            auth.login(user.email)
            with statements(db) as seen:
                response = auth.client.get(path.format(id=store.id))
            assert response.status_code == 200, path
            seen_counts.append(len(seen))
            auth.logout()
    assert {path: one == six for path, (one, six) in counts.items()} == dict.fromkeys(counts, True), counts
