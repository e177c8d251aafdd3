"""Reads: who may see a booking, the resident's and the store's lists, and the SQL nearby search
uses to ask whether an experience still has room on a day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import DateTime, exists, func, literal, select
from sqlalchemy.orm import joinedload, selectinload

from app.auth.models import User
from app.errors import NotFound
from app.extensions import db
from app.merchants.models import Store
from app.merchants.services import can_view_store_private
from app.offerings.models import Offering
from bookings.models import Booking, Schedule, Slot, WaitlistEntry
from bookings.states import SlotStatus, WaitlistStatus
from geo.points import LngLat


@dataclass(frozen=True)
class BookingView:
    """What a resident's booking shows (the API's booking body), whether read through the ORM (``view_of``) or
    put together by the booking's own statements (``lifecycle.place``)."""

    id: int
    status: str
    payment_status: str
    slot_id: int
    starts_at: datetime
    ends_at: datetime
    capacity: int
    remaining: int
    offering_id: int
    title: str
    store_id: int
    store_name: str
    address: str
    lat: float
    lng: float
    timezone: str
    party_size: int
    note: str
    unit_price: Decimal
    currency: str
    price_due: Decimal
    code: str
    free_cancellation_until: datetime
    is_late_cancel: bool = False
    cancel_reason: str | None = None


def view_of(booking: Booking) -> BookingView:
    slot, offering, store = booking.slot, booking.offering, booking.store
    point = LngLat.from_element(store.location)
    return BookingView(
        id=booking.id, status=booking.status, payment_status=booking.payment_status, slot_id=slot.id,
        starts_at=slot.starts_at, ends_at=slot.ends_at, capacity=slot.capacity, remaining=slot.remaining,
        offering_id=booking.offering_id, title=offering.title, store_id=store.id, store_name=store.name,
        address=store.address, lat=point.lat, lng=point.lng, timezone=store.timezone, party_size=booking.party_size,
        note=booking.note, unit_price=booking.unit_price, currency=booking.currency, price_due=booking.price_due,
        code=booking.code, free_cancellation_until=cutoff_at(slot.starts_at, offering.cancel_cutoff_hours),
        is_late_cancel=booking.is_late_cancel, cancel_reason=booking.cancel_reason)


def cutoff_at(starts_at: datetime, cutoff_hours: int) -> datetime:
    """Until when cancelling a visit that starts at ``starts_at`` is free."""
    return starts_at - timedelta(hours=cutoff_hours)


def can_work_store(actor: User | None, store: Store) -> bool:
    """Owners, admins and the store's staff act on its bookings."""
    return can_view_store_private(actor, store)


def get_booking(actor: User | None, booking_id: int) -> Booking:
    """Return a booking its resident, the store's people or an admin may see.

    :raises NotFound: for anyone else (whether or not it exists).
    """
    booking = db.session.get(Booking, booking_id)
    if booking is None or actor is None:
        raise NotFound(_("No such booking."))
    if booking.resident_id != actor.id and not can_work_store(actor, booking.store):
        raise NotFound(_("No such booking."))
    return booking


def _listed():
    """What a listed booking shows (its slot, experience, store and resident), joined in the same query."""
    return (joinedload(Booking.slot, innerjoin=True), joinedload(Booking.offering, innerjoin=True),
            joinedload(Booking.store, innerjoin=True), joinedload(Booking.resident, innerjoin=True))


def bookings_of_resident(actor: User, *, upcoming: bool, now: datetime, limit: int = 100) -> list[Booking]:
    """The actor's visits, soonest first (``upcoming``) or latest first, with what a list shows."""
    query = select(Booking).where(Booking.resident_id == actor.id).options(*_listed())
    if upcoming:
        query = query.where(Booking.starts_at >= now - timedelta(hours=12)).order_by(Booking.starts_at)
    else:
        query = query.where(Booking.starts_at < now - timedelta(hours=12)).order_by(Booking.starts_at.desc())
    return list(db.session.scalars(query.limit(limit)))


def bookings_of_store_day(actor: User, store: Store, day: date, *, counter: bool = False) -> list[Booking]:
    """A store's bookings starting on a local date, by start time, with what a list shows; for the
    ``counter`` also their check-ins and payments (two more queries, whatever the number of bookings).

    :raises NotFound: unless the actor works at the store.
    """
    if not can_work_store(actor, store):
        raise NotFound(_("No such store."))
    tz = ZoneInfo(store.timezone)
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz).astimezone(UTC)
    options = [*_listed(), selectinload(Booking.check_in), selectinload(Booking.payments)] if counter else _listed()
    return list(db.session.scalars(
        select(Booking).where(Booking.store_id == store.id, Booking.starts_at >= start, Booking.starts_at < end)
        .options(*options).order_by(Booking.starts_at, Booking.id)))


def waitlist_of(actor: User, slot_id: int) -> WaitlistEntry | None:
    return db.session.scalar(select(WaitlistEntry).where(
        WaitlistEntry.slot_id == slot_id, WaitlistEntry.resident_id == actor.id,
        WaitlistEntry.status == WaitlistStatus.WAITING))


def waiting_of(actor: User) -> list[WaitlistEntry]:
    """The waitlists the actor is on, oldest first, with each slot's experience and store."""
    return list(db.session.scalars(select(WaitlistEntry).where(
        WaitlistEntry.resident_id == actor.id, WaitlistEntry.status == WaitlistStatus.WAITING)
        .options(joinedload(WaitlistEntry.slot, innerjoin=True).joinedload(Slot.offering, innerjoin=True)
                 .joinedload(Offering.store, innerjoin=True))
        .order_by(WaitlistEntry.id)))


def has_room_on(day: date, now: datetime, *, starts_from: time = time(0), starts_before: time | None = None,
                party: int = 1):
    """SQL: the offering has an open slot starting on this store-local date, at or after ``starts_from`` and
    before ``starts_before`` (store-local wall times; None: the end of the day), with ``party`` free seats,
    that can still be booked (it starts after the experience's minimum notice, as ``book`` requires).

    Correlated to ``offerings`` and ``stores`` in the caller's query (used by nearby search). The start is
    bounded by two instants computed in the store's zone, so each offering's slots are read through
    ``ix_slots_open_by_offering`` (offering, start) rather than by converting every slot's time.
    """
    end = datetime.combine(day + timedelta(days=1), time(0)) if starts_before is None \
        else datetime.combine(day, starts_before)
    first, last = (func.timezone(Store.timezone, literal(wall, DateTime()), type_=DateTime(timezone=True))
                   for wall in (datetime.combine(day, starts_from), end))
    notice = func.make_interval(0, 0, 0, 0, 0, func.coalesce(Schedule.min_notice_minutes, 0))
    return exists(
        select(Slot.id).select_from(Slot).outerjoin(Schedule, Schedule.offering_id == Slot.offering_id)
        .where(Slot.offering_id == Offering.id, Slot.status == SlotStatus.OPEN, Slot.starts_at >= first,
               Slot.starts_at < last, Slot.starts_at > literal(now, DateTime(timezone=True)) + notice,
               Slot.capacity - Slot.seats_taken >= party))
