"""Save and unsave experiences, follow and unfollow stores (idempotent), and read a resident's own lists."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from app import clock
from app.auth.models import User
from app.extensions import db
from app.favourites.models import SavedExperience, StoreFollow
from app.i18n import in_locale_of
from app.merchants.models import Store
from app.merchants.services import get_store, is_publicly_listed
from app.offerings.models import Offering, OfferingStatus
from app.offerings.services import get_offering, is_publicly_visible
from bookings.models import Slot
from bookings.services import queue_notice, slots_to_book
from bookings.states import SlotStatus, WhyNotBookable


def save_experience(actor: User, offering_id: int, now: datetime) -> None:
    """Save an experience the resident may see; saving twice keeps one row.

    :raises NotFound: when the experience does not exist or is hidden from the actor.
    """
    offering = get_offering(actor, offering_id)
    db.session.execute(insert(SavedExperience).values(
        resident_id=actor.id, offering_id=offering.id, created_at=now).on_conflict_do_nothing())


def unsave_experience(actor: User, offering_id: int) -> None:
    db.session.execute(SavedExperience.__table__.delete().where(
        SavedExperience.resident_id == actor.id, SavedExperience.offering_id == offering_id))


def follow_store(actor: User, store_id: int, now: datetime) -> None:
    """Follow a store the resident may see; following twice keeps one row.

    :raises NotFound: when the store does not exist or is hidden from the actor.
    """
    store = get_store(actor, store_id)
    db.session.execute(insert(StoreFollow).values(
        resident_id=actor.id, store_id=store.id, created_at=now, seen_through=now,
        seen_slot_id=db.session.scalar(select(func.coalesce(func.max(Slot.id), 0)))).on_conflict_do_nothing())


def unfollow_store(actor: User, store_id: int) -> None:
    db.session.execute(StoreFollow.__table__.delete().where(
        StoreFollow.resident_id == actor.id, StoreFollow.store_id == store_id))


def is_saved(actor: User | None, offering_id: int) -> bool:
    if actor is None:
        return False
    return db.session.get(SavedExperience, (actor.id, offering_id)) is not None


def is_following(actor: User | None, store_id: int) -> bool:
    if actor is None:
        return False
    return db.session.get(StoreFollow, (actor.id, store_id)) is not None


def saved_experiences(actor: User) -> list[SavedExperience]:
    """The resident's saved experiences still publicly visible, newest first."""
    rows = db.session.scalars(select(SavedExperience).where(SavedExperience.resident_id == actor.id)
                              .order_by(SavedExperience.created_at.desc(), SavedExperience.offering_id))
    return [row for row in rows if is_publicly_visible(row.offering)]


def followed_stores(actor: User) -> list[StoreFollow]:
    """The stores the resident follows, newest first."""
    return list(db.session.scalars(select(StoreFollow).where(StoreFollow.resident_id == actor.id)
                                   .order_by(StoreFollow.created_at.desc(), StoreFollow.store_id)))


def follower_counts(store_ids: list[int]) -> dict[int, int]:
    """How many residents follow each store (stores with none are absent)."""
    if not store_ids:
        return {}
    rows = db.session.execute(select(StoreFollow.store_id, func.count()).where(StoreFollow.store_id.in_(store_ids))
                              .group_by(StoreFollow.store_id))
    return {store_id: count for store_id, count in rows}


def followers_of(store: Store) -> list[int]:
    return list(db.session.scalars(select(StoreFollow.resident_id).where(StoreFollow.store_id == store.id)))


def notify_followers(now: datetime) -> int:
    """Tell followers of a store's news since they last heard (new experiences, newly opened upcoming slots):
    one inbox notice per resident and store at most once a store-local day. Returns the notices sent.

    Rows are claimed with SKIP LOCKED, so two overlapping runs never tell anyone twice.
    """
    max_slot = db.session.scalar(select(func.coalesce(func.max(Slot.id), 0)))
    follows = db.session.scalars(select(StoreFollow).order_by(StoreFollow.store_id)
                                 .with_for_update(skip_locked=True)).all()
    sent = 0
    for follow in follows:
        store = follow.store
        today = clock.today(ZoneInfo(store.timezone))
        if follow.notified_on is not None and follow.notified_on >= today:
            continue
        if not is_publicly_listed(store):
            continue
        new_experiences = db.session.scalar(select(func.count()).select_from(Offering).where(
            Offering.store_id == store.id, Offering.status == OfferingStatus.ACTIVE,
            Offering.created_at > follow.seen_through))
        new_slots = db.session.scalar(select(func.count()).select_from(Slot).join(Offering).where(
            Offering.store_id == store.id, Offering.status == OfferingStatus.ACTIVE, Slot.id > follow.seen_slot_id,
            Slot.status == SlotStatus.OPEN, Slot.starts_at > now, Slot.seats_taken < Slot.capacity))
        follow.seen_through, follow.seen_slot_id = now, max_slot
        if not new_experiences and not new_slots:
            continue
        resident = db.session.get(User, follow.resident_id)
        with in_locale_of(resident):
            title = _("News from %(store)s", store=store.name)
            parts = []
            if new_experiences:
                parts.append(ngettext("%(num)d new experience", "%(num)d new experiences", new_experiences))
            if new_slots:
                parts.append(ngettext("%(num)d newly opened time", "%(num)d newly opened times", new_slots))
            body = _("A store you follow has news: %(news)s.", news=", ".join(parts))
        queue_notice(resident.email, title, body, user=resident, kind="store_news")
        follow.notified_on = today
        sent += 1
    db.session.flush()
    return sent


UPCOMING = timedelta(days=14)  # "all upcoming slots are full" looks this far ahead


def saved_with_slots(actor: User, now: datetime) -> list[dict]:
    """Each saved experience with its free slots today (in its store's zone) and, when every bookable slot in
    the next 14 days is full, the first of them to wait for a seat on (``waitlist_slot``)."""
    items = []
    for row in saved_experiences(actor):
        offering = row.offering
        zone = ZoneInfo(offering.store.timezone)
        today = clock.today(zone)
        start = datetime.combine(today, time(0), zone)
        upcoming = slots_to_book(offering, start, now + UPCOMING, now)
        end_today = datetime.combine(today + timedelta(days=1), time(0), zone)
        free_today = [slot for slot, why in upcoming if why is None and slot.starts_at < end_today]
        open_or_full = [(slot, why) for slot, why in upcoming if why in (None, WhyNotBookable.FULL)]
        waitlist_slot = None
        if open_or_full and all(why == WhyNotBookable.FULL for _slot, why in open_or_full):
            waitlist_slot = open_or_full[0][0]
        items.append({"row": row, "free_today": free_today, "waitlist_slot": waitlist_slot})
    return items
