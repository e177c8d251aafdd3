"""Build rows with sensible defaults; flush, never commit."""

from __future__ import annotations

import itertools
from datetime import time
from decimal import Decimal

from app import clock
from app.auth.models import Role, User
from app.auth.services import hash_password, issue_token
from app.extensions import db
from app.merchants.models import Business, HoursException, OpeningHours, StaffInvitation, Store, StoreStaff
from app.offerings.models import Category, Offering
from geo.points import LngLat

PASSWORD = "password123"
WEST_LAKE = LngLat(lng=120.1490, lat=30.2460)
_seq = itertools.count(1)
_hashes: dict[str, str] = {}


def _hash(password: str) -> str:
    if password not in _hashes:
        _hashes[password] = hash_password(password)
    return _hashes[password]


def create_user(role: str = Role.RESIDENT, *, email: str | None = None, password: str = PASSWORD,
                display_name: str | None = None, **kw) -> User:
    n = next(_seq)
    user = User(email=email or f"user{n}@test.onsite", password_hash=_hash(password),
                display_name=display_name or f"User {n}", role=role, **kw)
    db.session.add(user)
    db.session.flush()
    return user


def create_merchant(**kw) -> User:
    return create_user(Role.MERCHANT, **kw)


def create_business(owner: User | None = None, **kw) -> Business:
    owner = owner or create_merchant()
    business = Business(owner_id=owner.id, name=kw.pop("name", f"Business {next(_seq)}"), **kw)
    db.session.add(business)
    db.session.flush()
    return business


def create_store(business: Business | None = None, *, lng: float = WEST_LAKE.lng, lat: float = WEST_LAKE.lat,
                 hours: bool = True, **kw) -> Store:
    business = business or create_business()
    store = Store(business_id=business.id, name=kw.pop("name", f"Store {next(_seq)}"),
                  address=kw.pop("address", "1 Nanshan Road"),
                  location=LngLat(lng=lng, lat=lat).to_element(), **kw)
    db.session.add(store)
    db.session.flush()
    if hours:
        store.hours.extend(OpeningHours(weekday=d, opens_at=time(10), closes_at=time(20)) for d in range(7))
        db.session.flush()
    return store


def create_offering(store: Store | None = None, *, lng: float | None = None, lat: float | None = None,
                    **kw) -> Offering:
    if store is None:
        store = create_store(lng=lng if lng is not None else WEST_LAKE.lng,
                             lat=lat if lat is not None else WEST_LAKE.lat)
    offering = Offering(
        store_id=store.id, title=kw.pop("title", f"Experience {next(_seq)}"),
        category=kw.pop("category", Category.CLASS), price_amount=kw.pop("price_amount", Decimal("88.00")),
        currency=kw.pop("currency", "CNY"), location=store.location, **kw)
    offering.store = store
    offering.refresh_search_text()
    db.session.add(offering)
    db.session.flush()
    return offering


def set_hours(store: Store, weekly=(), exceptions=()) -> Store:
    """Give ``store`` exactly these weekly ``(weekday, opens, closes)`` hours and dated
    ``(day, is_closed, opens, closes)`` exceptions, in store-local time."""
    store.hours.clear()
    db.session.flush()
    store.hours.extend(OpeningHours(weekday=d, opens_at=o, closes_at=c) for d, o, c in weekly)
    store.exceptions.extend(HoursException(day=day, is_closed=is_closed, opens_at=o, closes_at=c)
                            for day, is_closed, o, c in exceptions)
    db.session.flush()
    return store


def add_staff(store: Store, user: User | None = None) -> User:
    """Make ``user`` (default: a new resident) staff of the store, as an accepted invitation does."""
    user = user or create_user()
    db.session.add(StoreStaff(store_id=store.id, user_id=user.id))
    db.session.flush()
    return user


def create_invitation(store: Store, email: str | None = None, *, token: str | None = None,
                      status: str = "pending", days: int = 14, created_at=None) -> StaffInvitation:
    """An invitation of ``email`` to work at ``store``; ``token`` is its link's (random by default)."""
    import hashlib
    import secrets
    from datetime import timedelta

    created_at = created_at or clock.now()
    invitation = StaffInvitation(
        store_id=store.id, email=email or f"invitee{next(_seq)}@test.onsite", status=status,
        token_hash=hashlib.sha256((token or secrets.token_urlsafe(32)).encode()).hexdigest(),
        invited_by_id=store.business.owner_id, created_at=created_at, expires_at=created_at + timedelta(days=days))
    db.session.add(invitation)
    db.session.flush()
    return invitation


def token_for(user: User) -> dict[str, str]:
    """Return an Authorization header with a fresh bearer token."""
    return {"Authorization": f"Bearer {issue_token(user)}"}


# -- bookings (imported here, not at the top, so the catalogue factories load without the booking domain)

def create_schedule(offering: Offering, weekly=None, *, now=None, actor: User | None = None, **rules):
    """Set ``offering``'s availability through ``bookings.services.set_schedule`` and return the Schedule.

    ``weekly`` is the API's list (``[{"weekday": 1, "times": ["10:00"]}]``) or a ``{weekday: [times]}`` dict;
    ``rules`` are the other schedule fields (``every``, ``weeks_ahead``, ``requires_approval``, ``exceptions``…).
    """
    from bookings import services

    if isinstance(weekly, dict):
        weekly = [{"weekday": day, "times": list(times)} for day, times in weekly.items()]
    services.set_schedule(actor or offering.store.business.owner, offering, {"weekly": weekly or [], **rules},
                          now or clock.now())
    return services.get_schedule(offering)


def create_slot(offering: Offering | None = None, starts_at=None, *, capacity: int | None = None,
                seats_taken: int = 0, status: str = "open", duration_min: int | None = None, **kw):
    """A slot of ``offering`` (default: a new one), by default a week from now, on the hour."""
    from datetime import timedelta

    from bookings.models import Slot

    offering = offering or create_offering(capacity=10)
    if starts_at is None:
        starts_at = clock.now().replace(minute=0, second=0, microsecond=0) + timedelta(days=7)
    slot = Slot(offering_id=offering.id, starts_at=starts_at,
                ends_at=starts_at + timedelta(minutes=duration_min or offering.duration_min or 60),
                capacity=capacity or offering.capacity, seats_taken=seats_taken, status=status, **kw)
    db.session.add(slot)
    db.session.flush()
    return slot


def create_booking(slot=None, resident: User | None = None, *, status: str = "confirmed", party_size: int = 1,
                   **kw):
    """A booking row in ``status``; a seat-holding status takes ``party_size`` seats of the slot."""
    import secrets

    from bookings.models import Booking
    from bookings.services import CODE_ALPHABET
    from bookings.states import SEAT_HOLDING, BookingStatus

    slot = slot or create_slot()
    resident = resident or create_user()
    offering = slot.offering
    if BookingStatus(status) in SEAT_HOLDING:
        slot.seats_taken += party_size
    booking = Booking(
        slot_id=slot.id, offering_id=offering.id, store_id=offering.store_id, resident_id=resident.id,
        starts_at=slot.starts_at, party_size=party_size, status=status, unit_price=offering.price_amount,
        currency=offering.currency, price_due=offering.price_amount * party_size,
        code=kw.pop("code", None) or "".join(secrets.choice(CODE_ALPHABET) for _ in range(8)), **kw)
    db.session.add(booking)
    db.session.flush()
    return booking


def create_booking_starting_in(minutes: float, *, now=None, offering: Offering | None = None,
                               duration_min: int | None = None, **kw):
    """A booking (default confirmed) of ``offering`` in a new slot that starts ``minutes`` after ``now``.

    The slot is inserted directly, at the exact time (``set_schedule`` only places whole minutes ahead of
    the real clock); ``kw`` goes to ``create_booking`` (``status``, ``party_size``, ``resident``…).
    """
    from datetime import timedelta

    now = now or clock.now()
    slot = create_slot(offering, now + timedelta(minutes=minutes), duration_min=duration_min)
    return create_booking(slot, kw.pop("resident", None), **kw)
