"""Two counter clerks correct the same offline payment at the same instant, each on a connection of its
own: one correction applies, the other is refused, so the takings never count two.

Threads cannot see a test's rolled-back transaction, so this test commits its rows (a store far from
every other test's map) and deletes them afterwards. A third connection holds the booking's row lock
until both corrections are waiting on it, then lets them go together: with the check made before the
lock, both would pass it and both would apply, every time.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, select, text

from app.auth.models import Role, User
from app.errors import ValidationFailed
from app.extensions import db
from app.merchants.models import Business
from bookings import checkin
from bookings.models import Booking, OfflinePayment
from tests import factories as f

NOW = datetime(2030, 3, 5, 6, 0, 30, tzinfo=UTC)
KEY = b"concurrency-check-in-key-" + b"k" * 8


@pytest.fixture
def paid_visit(app, clock):
    """A checked-in visit with one cash payment, committed; deleted again afterwards."""
    clock.travel(NOW, tick=False)
    with app.app_context():
        store = f.create_store(lng=-150.0, lat=-60.0, name="Payment race store")
        offering = f.create_offering(store, capacity=5, duration_min=60)
        clerks = [f.add_staff(store, f.create_user(Role.STAFF)) for _ in range(2)]
        booking = f.create_booking_starting_in(5, now=NOW, offering=offering)
        checkin.staff_check_in(clerks[0], store.id, booking.code, KEY, NOW)
        original = checkin.record_payment(clerks[0], booking.id, "88.00", "cash", None)
        ids = SimpleNamespace(booking=booking.id, original=original.id, clerks=[c.id for c in clerks],
                              business=store.business_id,
                              users=[c.id for c in clerks] + [booking.resident_id, store.business.owner_id])
        db.session.commit()
    try:
        yield ids
    finally:
        with app.app_context():
            db.session.execute(delete(Booking).where(Booking.id == ids.booking))  # its payments, events, check-in
            db.session.execute(delete(Business).where(Business.id == ids.business))  # its store, experience, slot
            db.session.execute(delete(User).where(User.id.in_(ids.users)))
            db.session.commit()


def test_two_corrections_of_one_payment_at_once_apply_once(app, paid_visit):
    pids: list[int] = []
    started = threading.Barrier(3, timeout=10)

    def correct(clerk_id: int, amount: str):
        with app.app_context():  # its own session, on its own pooled connection
            pids.append(db.session.execute(text("SELECT pg_backend_pid()")).scalar())
            started.wait()
            clerk = db.session.get(User, clerk_id)
            try:
                payment = checkin.record_payment(clerk, paid_visit.booking, amount, "cash", "corrected",
                                                 supersedes_id=paid_visit.original)
                db.session.commit()
                return "applied", payment.id
            except ValidationFailed as error:
                db.session.rollback()
                return "refused", sorted(error.details)

    with app.app_context(), db.engine.connect() as holder:
        holder.execute(select(Booking.id).where(Booking.id == paid_visit.booking).with_for_update())
        with ThreadPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(correct, clerk, amount)
                       for clerk, amount in zip(paid_visit.clerks, ("80.00", "75.00"), strict=True)]
            started.wait()
            deadline = time.monotonic() + 10
            while holder.execute(text("SELECT count(DISTINCT pid) FROM pg_locks WHERE NOT granted AND pid = ANY(:p)"),
                                 {"p": pids}).scalar() < 2:
                assert time.monotonic() < deadline, "the corrections never queued on the booking's lock"
                time.sleep(0.02)
            holder.rollback()  # both are waiting on the lock: let them race
            outcomes = sorted(future.result(timeout=30) for future in futures)

    assert [kind for kind, _ in outcomes] == ["applied", "refused"], outcomes
    assert outcomes[1][1] == ["supersedes_id"]
    with app.app_context():
        rows = db.session.scalars(select(OfflinePayment).where(OfflinePayment.booking_id == paid_visit.booking)
                                  .order_by(OfflinePayment.id)).all()
        assert [p.supersedes_id for p in rows] == [None, paid_visit.original]
        booking = db.session.get(Booking, paid_visit.booking)
        assert [p.id for p in checkin.effective_payments(booking)] == [outcomes[0][1]]
        assert sum(p.amount for p in checkin.effective_payments(booking)) in (Decimal("80.00"), Decimal("75.00"))
