"""Demo favourites: the demo resident has saved two of the demo merchant's experiences and follows its first
store."""

from __future__ import annotations

from sqlalchemy import select

from app import clock
from app.auth.models import User
from app.extensions import db
from app.favourites.models import SavedExperience
from app.favourites.services import follow_store, save_experience
from app.merchants.models import Business, Store
from app.offerings.models import Offering


def load_demo_favourites(merchant_email: str, resident_email: str) -> None:
    """Nothing when the resident has favourites already (flushes, never commits)."""
    merchant = db.session.scalar(select(User).where(User.email == merchant_email))
    resident = db.session.scalar(select(User).where(User.email == resident_email))
    if merchant is None or resident is None:
        return
    if db.session.scalar(select(SavedExperience.offering_id).where(SavedExperience.resident_id == resident.id)
                         .limit(1)) is not None:
        return
    stores = select(Store.id).join(Business).where(Business.owner_id == merchant.id)
    offerings = list(db.session.scalars(
        select(Offering).where(Offering.store_id.in_(stores), Offering.status == "active")
        .order_by(Offering.id).limit(2)))
    if not offerings:
        return
    now = clock.now()
    for offering in offerings:
        save_experience(resident, offering.id, now)
    follow_store(resident, offerings[0].store_id, now)
    db.session.flush()
