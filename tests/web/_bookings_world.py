"""One store's bookings and everyone around them, for the booking API and page tests.

Slots are days ahead of the app clock (frozen for each test), so cut-offs and notice never get in the way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from app import clock
from app.auth.models import Role, User
from app.extensions import db
from app.merchants.models import Store
from app.offerings.models import Offering
from bookings.models import Booking, Slot, WaitlistEntry
from tests import factories as f

ACTORS = ["anonymous", "resident", "other_resident", "owner", "other_owner", "staff", "other_staff", "admin"]


@dataclass
class World:
    users: dict[str, User | None]
    store: Store
    offering: Offering
    slot: Slot  # holds ``booking``: the resident's confirmed party of 2
    free_slot: Slot  # empty: to book, or to move to
    booking: Booking
    pending: Booking  # the resident's, waiting for the store's approval
    ended: Booking  # the resident's, confirmed, in a slot that ended hours ago
    full_slot: Slot  # capacity 1, taken by the resident
    entry: WaitlistEntry  # the resident waiting for another full slot
    other_offering: Offering  # another store's
    other_slot: Slot

    @property
    def resident(self) -> User:
        return self.users["resident"]

    @property
    def owner(self) -> User:
        return self.users["owner"]


def hour(days: float = 0, hours: float = 0) -> datetime:
    """An instant on the hour, ``days`` and ``hours`` from now."""
    return clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=days, hours=hours)


def build_world() -> World:
    owner = f.create_merchant(email="owner@shop.test", display_name="Olive Owner")
    store = f.create_store(f.create_business(owner), name="Clay Corner", address="1 Nanshan Road")
    offering = f.create_offering(store, title="Pottery taster", capacity=4, price_amount=Decimal("88.00"),
                                 duration_min=60, cancel_cutoff_hours=24,
                                 policy_text="Aprons provided; arrive ten minutes early.")
    f.create_schedule(offering, [])  # bookings open; the slots below are made by hand
    resident = f.create_user(email="ann@resident.test", display_name="Ann Resident")
    slot = f.create_slot(offering, hour(days=5))
    free_slot = f.create_slot(offering, hour(days=6))
    full_slot = f.create_slot(offering, hour(days=8), capacity=1)
    wait_slot = f.create_slot(offering, hour(days=9), capacity=1)
    f.create_booking(wait_slot)
    f.create_booking(full_slot, resident)
    entry = WaitlistEntry(slot_id=wait_slot.id, resident_id=resident.id, party_size=1)
    db.session.add(entry)
    other_owner = f.create_merchant(email="other@shop.test")
    other_store = f.create_store(f.create_business(other_owner), name="Elsewhere")
    other_offering = f.create_offering(other_store, capacity=4)
    world = World(
        users={
            "anonymous": None,
            "resident": resident,
            "other_resident": f.create_user(email="bob@resident.test"),
            "owner": owner,
            "other_owner": other_owner,
            "staff": f.add_staff(store, f.create_user(Role.STAFF, email="staff@shop.test")),
            "other_staff": f.add_staff(other_store, f.create_user(Role.STAFF, email="staff@elsewhere.test")),
            "admin": f.create_user(Role.ADMIN, email="admin@onsite.test"),
        },
        store=store, offering=offering, slot=slot, free_slot=free_slot,
        booking=f.create_booking(slot, resident, party_size=2),
        pending=f.create_booking(f.create_slot(offering, hour(days=7)), resident, status="pending"),
        ended=f.create_booking(f.create_slot(offering, hour(hours=-5)), resident),
        full_slot=full_slot, entry=entry, other_offering=other_offering,
        other_slot=f.create_slot(other_offering, hour(days=5)),
    )
    db.session.flush()
    return world


def read(statement) -> list:
    """Read rows back from the database, past anything the session remembers."""
    db.session.expire_all()
    return db.session.execute(statement).all()


def scalar(statement):
    db.session.expire_all()
    return db.session.scalar(statement)


def booking_state(which: str = "booking"):
    return lambda w: read(select(Booking.status, Booking.slot_id, Booking.cancel_reason)
                          .where(Booking.id == getattr(w, which).id))


def add_review(world: World) -> int:
    """The resident's published review of a visit that ended three hours ago, checked in at the counter (trust)."""
    from bookings.models import CheckIn
    from trust.services import create_review

    visit = f.create_booking(f.create_slot(world.offering, hour(hours=-4)), world.resident, status="checked_in")
    db.session.add(CheckIn(booking_id=visit.id, store_id=world.store.id, method="staff_typed",
                           verification="staff_verified", actor_id=world.users["staff"].id,
                           checked_in_at=visit.starts_at))
    db.session.flush()
    review = create_review(world.resident, visit.id, {
        "rating": 4, "rating_described": 4, "rating_service": 5, "rating_value": 4,
        "body": "Friendly teacher and a calm studio."}, [], clock.now())
    return review.id


def add_dispute(world: World) -> int:
    """The resident's open dispute about ``world.ended`` (its slot ended hours ago), waiting for the store (trust)."""
    from trust.services import open_dispute

    dispute = open_dispute(world.resident, world.ended.id, {
        "reason": "turned_away", "description": "We came at the start and nobody was there.", "asks": "apology"},
        [], clock.now())
    return dispute.id
