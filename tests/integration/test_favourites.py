"""Favourites: saving and following are idempotent and unique, hidden experiences cannot be saved, and the
lists are the resident's own."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from app.errors import NotFound
from app.extensions import db as _db
from app.favourites import services as fav
from app.favourites.models import SavedExperience, StoreFollow
from bookings.models import Notification
from tests import factories as f

NOW = datetime(2030, 3, 5, 6, 0, tzinfo=UTC)


def test_saving_and_following_twice_keeps_one_row_and_unsaving_is_idempotent(db, clock):
    clock.travel(NOW, tick=False)
    store = f.create_store()
    offering = f.create_offering(store)
    resident = f.create_user()
    for _ in range(2):
        fav.save_experience(resident, offering.id, NOW)
        fav.follow_store(resident, store.id, NOW)
    assert _db.session.scalar(select(func.count()).select_from(SavedExperience)) == 1
    assert _db.session.scalar(select(func.count()).select_from(StoreFollow)) == 1
    assert [s.offering_id for s in fav.saved_experiences(resident)] == [offering.id]
    assert [s.store_id for s in fav.followed_stores(resident)] == [store.id]
    assert fav.follower_counts([store.id]) == {store.id: 1}
    assert fav.saved_experiences(f.create_user()) == []
    for _ in range(2):
        fav.unsave_experience(resident, offering.id)
        fav.unfollow_store(resident, store.id)
    assert not fav.is_saved(resident, offering.id) and not fav.is_following(resident, store.id)
    assert fav.follower_counts([store.id]) == {}


def test_hidden_or_missing_things_cannot_be_saved(db, clock):
    clock.travel(NOW, tick=False)
    offering = f.create_offering(f.create_store())
    offering.status = "archived"
    _db.session.flush()
    resident = f.create_user()
    with pytest.raises(NotFound):
        fav.save_experience(resident, offering.id, NOW)
    with pytest.raises(NotFound):
        fav.save_experience(resident, 2_000_000_000, NOW)
    with pytest.raises(NotFound):
        fav.follow_store(resident, 2_000_000_000, NOW)


def test_followers_hear_of_news_at_most_once_a_store_day(db, clock):
    clock.travel(NOW, tick=False)
    store = f.create_store(name="Glaze studio")
    resident = f.create_user()
    fav.follow_store(resident, store.id, NOW)
    assert fav.notify_followers(NOW) == 0  # nothing new yet
    clock.travel(NOW + timedelta(hours=1), tick=False)
    offering = f.create_offering(store, title="Raku firing")
    f.create_slot(offering, starts_at=NOW + timedelta(days=2))
    assert fav.notify_followers(clock.now()) == 1
    notices = _notices(resident)
    assert len(notices) == 1 and "Glaze studio" in notices[0].title and "1 new experience" in notices[0].body
    clock.travel(NOW + timedelta(hours=2), tick=False)
    f.create_slot(offering, starts_at=NOW + timedelta(days=3))
    assert fav.notify_followers(clock.now()) == 0  # same store day: held back
    clock.travel(NOW + timedelta(days=1), tick=False)
    assert fav.notify_followers(clock.now()) == 1
    assert "1 newly opened time" in _notices(resident)[-1].body
    assert fav.notify_followers(clock.now()) == 0
    assert _notices(f.create_user()) == []


def _notices(user):
    return list(_db.session.scalars(select(Notification).where(Notification.user_id == user.id)
                                    .order_by(Notification.id)))


@pytest.mark.demo_city
def test_demo_resident_has_saved_experiences_and_follows_a_store(db):
    from app.auth.models import User
    from app.demo import RESIDENT_EMAIL, load_demo_city

    load_demo_city()
    load_demo_city()  # twice: nothing doubles
    resident = _db.session.scalar(select(User).where(User.email == RESIDENT_EMAIL))
    assert len(fav.saved_experiences(resident)) == 2
    assert len(fav.followed_stores(resident)) == 1


def test_a_seat_request_is_answered_once_when_a_seat_can_be_booked(db, clock):
    from app.favourites.models import SeatInterest
    from app.favourites.services import SeatsFree

    clock.travel(NOW, tick=False)
    offering = f.create_offering(f.create_store(), title="Raku firing")
    resident, other = f.create_user(), f.create_user()
    fav.save_experience(resident, offering.id, NOW)
    [item] = fav.saved_with_slots(resident, NOW)
    assert item["may_ask"] and item["asked"] is None  # no times at all: nothing to book or wait for
    for _ in range(2):
        fav.ask_for_seat(resident, offering.id, NOW)
    assert _db.session.scalar(select(func.count()).select_from(SeatInterest)) == 1
    assert fav.saved_with_slots(resident, NOW)[0]["asked"] is not None
    fav.ask_for_seat(other, offering.id, NOW)
    fav.withdraw_seat_request(other, offering.id)
    fav.withdraw_seat_request(other, offering.id)  # idempotent
    assert fav.notify_freed_seats(NOW) == 0  # still nothing to book

    clock.travel(NOW + timedelta(hours=1), tick=False)
    f.create_slot(offering, starts_at=NOW + timedelta(days=2))  # a time with room opens
    assert fav.notify_freed_seats(clock.now()) == 1
    assert fav.notify_freed_seats(clock.now()) == 0  # told once
    notices = _notices(resident)
    assert len(notices) == 1 and "Raku firing" in notices[0].title
    assert _notices(other) == []
    with pytest.raises(SeatsFree):  # a seat is free now: book it instead
        fav.ask_for_seat(resident, offering.id, clock.now())
    assert not fav.saved_with_slots(resident, clock.now())[0]["may_ask"]

    clock.travel(NOW + timedelta(days=2), tick=False)
    fav.notify_freed_seats(clock.now())  # told a day ago: forgotten
    assert _db.session.scalar(select(func.count()).select_from(SeatInterest)) == 0


def test_an_unanswered_seat_request_is_forgotten_after_thirty_days(db, clock):
    from app.favourites.models import SeatInterest

    clock.travel(NOW, tick=False)
    offering = f.create_offering(f.create_store())
    fav.ask_for_seat(f.create_user(), offering.id, NOW)
    assert fav.notify_freed_seats(NOW + timedelta(days=29)) == 0
    assert _db.session.scalar(select(func.count()).select_from(SeatInterest)) == 1
    fav.notify_freed_seats(NOW + timedelta(days=31))
    assert _db.session.scalar(select(func.count()).select_from(SeatInterest)) == 0


def test_hidden_experiences_take_no_seat_request(db, clock):
    clock.travel(NOW, tick=False)
    offering = f.create_offering(f.create_store())
    offering.status = "archived"
    _db.session.flush()
    with pytest.raises(NotFound):
        fav.ask_for_seat(f.create_user(), offering.id, NOW)
