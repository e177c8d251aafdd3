"""Build rows with sensible defaults; flush, never commit."""

from __future__ import annotations

import itertools
from datetime import time
from decimal import Decimal

from app.auth.models import Role, User
from app.auth.services import hash_password, issue_token
from app.extensions import db
from app.merchants.models import Business, OpeningHours, Store, StoreStaff
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


def add_staff(store: Store, user: User | None = None) -> User:
    user = user or create_user(Role.STAFF)
    db.session.add(StoreStaff(store_id=store.id, user_id=user.id))
    db.session.flush()
    return user


def token_for(user: User) -> dict[str, str]:
    """Return an Authorization header with a fresh bearer token."""
    return {"Authorization": f"Bearer {issue_token(user)}"}
