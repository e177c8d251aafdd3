"""Save and unsave experiences, follow and unfollow stores, ask to be told when a seat frees (all idempotent), and
read a resident's own lists."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert

from app import clock
from app.auth.models import User
from app.errors import Conflict
from app.extensions import db
from app.favourites.models import SavedExperience, SeatInterest, StoreFollow
from app.i18n import in_locale_of
from app.merchants.models import Store
from app.merchants.services import get_store, is_publicly_listed
from app.offerings.models import Offering, OfferingStatus
from app.offerings.services import get_offering, is_publicly_visible
from bookings.models import Slot
from bookings.services import queue_notice, slots_to_book
from bookings.states import SlotStatus, WhyNotBookable


class SeatsFree(Conflict):
    code = "seats_free"


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


def saved_ids(actor: User) -> list[int]:
    return list(db.session.scalars(select(SavedExperience.offering_id).where(SavedExperience.resident_id == actor.id)))


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
    the next 14 days is full, the first of them to wait for a seat on (``waitlist_slot``); when there is nothing to
    book or wait for at all, ``may_ask`` (and ``asked``, the resident's open seat request, if any)."""
    items = []
    interests = seat_requests_of(actor)
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
        # Nothing to book and no full slot to queue for (no times at all, or none bookable yet): the resident can
        # ask to be told when a seat frees instead (a SeatInterest).
        nothing = not free_today and waitlist_slot is None and not any(why is None for _slot, why in upcoming)
        items.append({"row": row, "free_today": free_today, "waitlist_slot": waitlist_slot,
                      "may_ask": nothing, "asked": interests.get(offering.id)})
    return items


INTEREST_KEPT = timedelta(days=30)  # an unanswered "tell me when a seat frees" is forgotten after this
NOTIFIED_KEPT = timedelta(days=1)  # a told one is forgotten after this (the resident may ask again)


def _has_free_seat(offering: Offering, now: datetime) -> bool:
    return any(why is None for _slot, why in slots_to_book(offering, now, now + UPCOMING, now))


def ask_for_seat(actor: User, offering_id: int, now: datetime) -> SeatInterest:
    """"Tell me when a seat frees": one open request per resident and experience (asking again keeps it).

    :raises NotFound: when the experience does not exist or is hidden from the actor.
    :raises Conflict: ``seats_free`` when a seat can be booked now (book it instead).
    """
    offering = get_offering(actor, offering_id)
    if _has_free_seat(offering, now):
        raise SeatsFree(_("A seat is free now: book it on the experience's page."))
    db.session.execute(insert(SeatInterest).values(
        resident_id=actor.id, offering_id=offering.id, created_at=now).on_conflict_do_update(
        index_elements=["resident_id", "offering_id"], set_={"notified_at": None},
        where=SeatInterest.notified_at.is_not(None)))
    db.session.flush()
    return db.session.get(SeatInterest, (actor.id, offering.id), populate_existing=True)


def withdraw_seat_request(actor: User, offering_id: int) -> None:
    db.session.execute(SeatInterest.__table__.delete().where(
        SeatInterest.resident_id == actor.id, SeatInterest.offering_id == offering_id))


def seat_requests_of(actor: User) -> dict[int, SeatInterest]:
    """The resident's open seat requests by experience."""
    return {row.offering_id: row for row in db.session.scalars(select(SeatInterest).where(
        SeatInterest.resident_id == actor.id, SeatInterest.notified_at.is_(None)))}


def notify_freed_seats(now: datetime) -> int:
    """Tell each resident who asked once a seat on that experience can be booked (a cancellation, a new time, more
    capacity); forget requests answered a day ago or unanswered for 30 days. Returns the notices sent.

    Requests are claimed with SKIP LOCKED, so two overlapping runs never tell anyone twice.
    """
    db.session.execute(SeatInterest.__table__.delete().where(
        (SeatInterest.notified_at < now - NOTIFIED_KEPT)
        | (SeatInterest.notified_at.is_(None) & (SeatInterest.created_at < now - INTEREST_KEPT))))
    waiting = db.session.scalars(select(SeatInterest).where(SeatInterest.notified_at.is_(None))
                                 .order_by(SeatInterest.offering_id, SeatInterest.resident_id)
                                 .with_for_update(skip_locked=True)).all()
    sent, free = 0, {}
    for interest in waiting:
        offering = interest.offering
        if offering.id not in free:
            free[offering.id] = is_publicly_visible(offering) and _has_free_seat(offering, now)
        if not free[offering.id]:
            continue
        resident = db.session.get(User, interest.resident_id)
        with in_locale_of(resident):
            title = _("A seat is free: %(title)s", title=offering.title)
            body = _("You asked to be told when a seat frees at %(title)s (%(store)s). Book it before someone "
                     "else does.", title=offering.title, store=offering.store.name)
        queue_notice(resident.email, title, body, user=resident, kind="seat_free")
        interest.notified_at = now
        sent += 1
    db.session.flush()
    return sent
