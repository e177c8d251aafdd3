"""Reviews of honoured visits (trust/services/reviews.py) against PostGIS: who may review and when, edits
kept, the store's reply, helpful votes, reports, flagging, and ratings that always equal a recount, also
when requests race on their own connections."""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import BytesIO
from types import SimpleNamespace

import pytest
from PIL import Image
from sqlalchemy import create_engine, delete, func, select

from app.auth.models import Role, User
from app.errors import NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from app.merchants.models import Business, Store
from app.offerings.models import Category, Offering
from bookings.models import Booking, CheckIn, OutboxEmail
from tests import factories as f
from trust import services
from trust.models import Review, ReviewRevision, ReviewStatus, ReviewVote
from trust.services.reviews import PRIOR_WEIGHT, ReviewLimits

GOOD = {"rating": 5, "rating_described": 4, "rating_service": 5, "rating_value": 4,
        "body": "Lovely teacher, the clay was ready and the wheel worked well."}
LOOSE = ReviewLimits(burst_per_hour=1000, same_day_accounts=1000)
_apart = itertools.count()  # seconds between the slots of one experience's visits


def old_resident(**kw) -> User:
    """A resident whose account is months old (the same-day-account rule stays out of the way)."""
    user = f.create_user(**kw)
    user.created_at = user.created_at - timedelta(days=100)
    db.session.flush()
    return user


def visit(now: datetime, *, resident: User | None = None, offering: Offering | None = None,
          ended_hours_ago: float = 2, verification: str = "staff_verified", checked_in: bool = True) -> Booking:
    """A booking whose slot ended ``ended_hours_ago`` before ``now``, checked in at its start."""
    booking = f.create_booking_starting_in(-60 * ended_hours_ago - 60 - next(_apart) / 60, now=now, offering=offering,
                                           duration_min=60, resident=resident or old_resident(),
                                           status="checked_in" if checked_in else "confirmed")
    if checked_in:
        db.session.add(CheckIn(booking_id=booking.id, store_id=booking.store_id,
                               method="self_geofence" if verification == "verified" else "staff_typed",
                               verification=verification, checked_in_at=booking.starts_at))
        db.session.flush()
    return booking


def png(colour=(200, 80, 40)) -> bytes:
    out = BytesIO()
    Image.new("RGB", (80, 60), colour).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def now(clock):
    return clock.now()


@pytest.fixture
def uploads(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    return tmp_path


# -- who may review, and when ------------------------------------------------------------------------

def test_the_resident_reviews_a_checked_in_visit_once(db, now, uploads):
    booking = visit(now, verification="verified")
    review = services.create_review(booking.resident, booking.id, GOOD, [png()], now)
    assert review.status == ReviewStatus.PUBLISHED and review.verified is True
    assert [p.position for p in review.photos] == [0]
    with pytest.raises(services.reviews.ReviewError) as excinfo:
        services.create_review(booking.resident, booking.id, GOOD, [], now)
    assert excinfo.value.code == "already_reviewed"


def test_a_staff_scan_alone_is_visited_not_verified(db, now):
    booking = visit(now, verification="staff_verified")
    assert services.create_review(booking.resident, booking.id, GOOD, [], now).verified is False


def test_a_visit_not_checked_in_cannot_be_reviewed(db, now):
    booking = visit(now, checked_in=False)
    with pytest.raises(services.reviews.ReviewError) as excinfo:
        services.create_review(booking.resident, booking.id, GOOD, [], now)
    assert excinfo.value.code == "not_reviewable" and excinfo.value.details["reason"] == "not_checked_in"


def test_someone_elses_booking_is_not_found(db, now):
    booking = visit(now)
    with pytest.raises(NotFound):
        services.create_review(old_resident(), booking.id, GOOD, [], now)


@pytest.mark.parametrize("who", ["owner", "staff", "admin"])
def test_the_stores_people_cannot_review_even_their_own_booking(db, now, who):
    offering = f.create_offering()
    store = offering.store
    person = {"owner": lambda: store.business.owner,
              "staff": lambda: f.add_staff(store, old_resident()),
              "admin": lambda: old_resident(role=Role.ADMIN)}[who]()
    booking = visit(now, resident=person, offering=offering)
    with pytest.raises(services.reviews.ReviewError) as excinfo:
        services.create_review(person, booking.id, GOOD, [], now)
    assert excinfo.value.code == "not_reviewable" and excinfo.value.details["reason"] == "works_at_store"
    assert services.reviewable_booking_ids(person, [booking.id], now) == set()


def test_staff_of_another_store_may_review_here(db, now):
    elsewhere = f.create_store()
    staff = f.add_staff(elsewhere, old_resident())
    booking = visit(now, resident=staff)
    assert services.create_review(staff, booking.id, GOOD, [], now).status == ReviewStatus.PUBLISHED


def test_the_window_opens_at_the_slots_end_and_closes_30_days_later(db, clock, now):
    booking = visit(now, ended_hours_ago=0)  # ends exactly now
    ends = booking.slot.ends_at
    with pytest.raises(services.reviews.ReviewError) as excinfo:
        services.create_review(booking.resident, booking.id, GOOD, [], ends - timedelta(seconds=1))
    assert excinfo.value.code == "review_not_open"
    with pytest.raises(services.reviews.ReviewError) as excinfo:
        services.create_review(booking.resident, booking.id, GOOD, [], ends + timedelta(days=30, seconds=1))
    assert excinfo.value.code == "review_window_closed"
    assert services.reviewable_booking_ids(booking.resident, [booking.id], ends + timedelta(days=30)) == {booking.id}
    clock.travel(ends + timedelta(days=30), tick=False)
    assert services.create_review(booking.resident, booking.id, GOOD, [], clock.now()).id


@pytest.mark.parametrize(("field", "value"), [
    ("rating", 0), ("rating", 6), ("rating_service", None), ("rating_value", "five"), ("rating", True),
    ("body", "too short"), ("body", "x" * 2001), ("body", "          " * 3),
])
def test_bad_fields_are_named(db, now, field, value):
    booking = visit(now)
    with pytest.raises(ValidationFailed) as excinfo:
        services.create_review(booking.resident, booking.id, {**GOOD, field: value}, [], now)
    assert field in excinfo.value.details
    assert db.session.scalar(select(func.count()).select_from(Review)) == 0


def test_five_photos_are_too_many_and_a_pdf_is_refused(db, now, uploads):
    booking = visit(now)
    with pytest.raises(ValidationFailed) as excinfo:
        services.create_review(booking.resident, booking.id, GOOD, [png()] * 5, now)
    assert "photos" in excinfo.value.details
    with pytest.raises(ValidationFailed) as excinfo:
        services.create_review(booking.resident, booking.id, GOOD, [b"%PDF-1.4\n%\xe2\xe3\n1 0 obj"], now)
    assert excinfo.value.code == "image_unreadable"


# -- edits, replies, votes, reports ------------------------------------------------------------------

def test_an_edit_keeps_the_replaced_version_within_7_days(db, now):
    booking = visit(now)
    review = services.create_review(booking.resident, booking.id, GOOD, [], now)
    later = now + timedelta(days=2)
    services.edit_review(booking.resident, review.id, {**GOOD, "rating": 3, "body": "Second thoughts: it was ok."},
                         later)
    services.edit_review(booking.resident, review.id, {**GOOD, "rating": 4, "body": "Third version, final."},
                         later + timedelta(days=1))
    assert review.rating == 4 and review.edited_at == later + timedelta(days=1)
    revisions = db.session.scalars(select(ReviewRevision).where(ReviewRevision.review_id == review.id)
                                   .order_by(ReviewRevision.id)).all()
    assert [(r.rating, r.body[:6], r.written_at) for r in revisions] == [
        (5, "Lovely", now), (3, "Second", later)]
    assert booking.offering.rating_avg == Decimal("4.00")
    with pytest.raises(services.reviews.ReviewError) as excinfo:
        services.edit_review(booking.resident, review.id, GOOD, now + timedelta(days=7, seconds=1))
    assert excinfo.value.code == "edit_window_closed"
    with pytest.raises(NotFound):
        services.edit_review(old_resident(), review.id, GOOD, now)


def test_the_store_replies_once_and_edits_its_reply(db, now):
    booking = visit(now)
    review = services.create_review(booking.resident, booking.id, GOOD, [], now)
    staff = f.add_staff(booking.store, old_resident())
    services.reply_to_review(staff, review.id, "Thank you, come again!", now)
    assert review.reply_by_id == staff.id and review.replied_at == now
    with pytest.raises(services.reviews.ReviewError) as excinfo:
        services.reply_to_review(booking.store.business.owner, review.id, "Second reply", now)
    assert excinfo.value.code == "already_replied"
    services.reply_to_review(booking.store.business.owner, review.id, "Thanks again!", now, edit=True)
    assert review.reply_body == "Thanks again!" and review.reply_edited_at == now
    for outsider in (old_resident(), f.create_merchant(), old_resident(role=Role.ADMIN),
                     f.add_staff(f.create_store(), old_resident())):
        with pytest.raises(PermissionDenied):
            services.reply_to_review(outsider, review.id, "Not mine to answer", now)


def test_helpful_once_each_not_own_not_the_store(db, now):
    booking = visit(now)
    review = services.create_review(booking.resident, booking.id, GOOD, [], now)
    voter = old_resident()
    assert services.mark_helpful(voter, review.id, now).helpful_count == 1
    with pytest.raises(services.reviews.ReviewError) as excinfo:
        services.mark_helpful(voter, review.id, now)
    assert excinfo.value.code == "already_voted"
    with pytest.raises(services.reviews.ReviewError) as excinfo:
        services.mark_helpful(booking.resident, review.id, now)
    assert excinfo.value.code == "own_review"
    with pytest.raises(PermissionDenied):
        services.mark_helpful(booking.store.business.owner, review.id, now)
    assert review.helpful_count == 1


def test_reports_queue_for_the_operator(db, now):
    booking = visit(now)
    review = services.create_review(booking.resident, booking.id, GOOD, [], now)
    reporter = booking.store.business.owner  # anyone logged in may report
    services.report_review(reporter, review.id, "fake", "Never seen them here", now)
    with pytest.raises(services.reviews.ReviewError) as excinfo:
        services.report_review(reporter, review.id, "offensive", "", now)
    assert excinfo.value.code == "already_reported"
    with pytest.raises(ValidationFailed) as excinfo:
        services.report_review(old_resident(), review.id, "boring", "", now)
    assert "reason" in excinfo.value.details
    assert [(r.review_id, r.reason) for r in services.open_reports()
            if r.review_id == review.id] == [(review.id, "fake")]


def test_the_trust_reports_command_lists_the_open_queue(app, db, now):
    booking = visit(now)
    review = services.create_review(booking.resident, booking.id, GOOD, [], now)
    services.report_review(old_resident(), review.id, "private_data", "Shows my phone number", now)
    result = app.test_cli_runner().invoke(args=["trust", "reports"])
    assert result.exit_code == 0, result.output
    assert f"review {review.id}" in result.output and "private_data" in result.output
    assert "Shows my phone number" in result.output


# -- flagging ----------------------------------------------------------------------------------------

def test_a_burst_on_one_store_is_held_for_the_operator(db, now):
    offering = f.create_offering(capacity=20)
    limits = ReviewLimits(burst_per_hour=3, same_day_accounts=1000)
    statuses = []
    for _ in range(5):
        booking = visit(now, offering=offering)
        statuses.append(services.create_review(booking.resident, booking.id, GOOD, [], now, limits=limits).status)
    assert statuses == ["published"] * 3 + ["flagged"] * 2
    assert offering.rating_count == 3
    assert services.reviews_of(offering_id=offering.id).total == 3


def test_many_reviews_from_accounts_made_on_the_visit_day_are_held(db, now):
    offering = f.create_offering(capacity=20)
    limits = ReviewLimits(burst_per_hour=1000, same_day_accounts=3)
    reasons = []
    for _ in range(4):
        fresh = f.create_user()  # created now: the visit (two hours ago) was on its first day, or the day before
        booking = visit(now, offering=offering, resident=fresh, ended_hours_ago=0)
        fresh.created_at = booking.starts_at
        review = services.create_review(fresh, booking.id, GOOD, [], now, limits=limits)
        reasons.append(review.flag_reason)
    assert reasons == [None, None, "new_accounts", "new_accounts"]
    old = visit(now, offering=offering)
    assert services.create_review(old.resident, old.id, GOOD, [], now, limits=limits).flag_reason is None


# -- ratings -----------------------------------------------------------------------------------------

def recount_of(column, value) -> tuple:
    published = (Review.status == ReviewStatus.PUBLISHED, column == value)
    return db.session.execute(select(func.count(), func.round(func.avg(Review.rating), 2),
                                     func.round(func.avg(Review.rating_described), 2),
                                     func.round(func.avg(Review.rating_service), 2),
                                     func.round(func.avg(Review.rating_value), 2)).where(*published)).one()


def shown(row) -> tuple:
    return (row.rating_count, row.rating_avg, row.rating_described, row.rating_service, row.rating_value)


def test_ratings_equal_a_recount_and_rank_by_a_bayesian_score(db, now):
    one = f.create_offering(category=Category.FOOD)
    many = f.create_offering(category=Category.FOOD)
    meh = f.create_offering(category=Category.FOOD)  # the category's mean is well below 4.8
    stars = [(5, 4, 5, 3)] + [(5, 5, 5, 5), (5, 4, 5, 4), (5, 5, 4, 5), (4, 4, 5, 5), (5, 4, 5, 5)] * 10
    for offering, rows in ((one, stars[:1]), (many, stars[1:]), (meh, [(3, 3, 2, 4)] * 30)):
        for rating, described, service, value in rows:
            booking = visit(now, offering=offering)
            services.create_review(booking.resident, booking.id, {
                "rating": rating, "rating_described": described, "rating_service": service,
                "rating_value": value, "body": "A visit worth writing about."}, [], now, limits=LOOSE)
    db.session.expire_all()
    for offering in (one, many, meh):
        assert shown(offering) == tuple(recount_of(Review.offering_id, offering.id))
        assert shown(offering.store) == tuple(recount_of(Review.store_id, offering.store_id))
    assert one.rating_avg == Decimal("5.00") and many.rating_avg == Decimal("4.80")
    assert one.rating_score == Decimal("5.000")  # as of its review: the category's only one then
    assert services.rescore_all() >= 2  # every score on today's priors
    prior = db.session.scalar(select(func.avg(Review.rating)).join(Offering).where(Offering.category == "food_tasting"))
    expected = (PRIOR_WEIGHT * prior + 5) / (PRIOR_WEIGHT + 1)
    assert one.rating_score == Decimal(expected).quantize(Decimal("0.001"))
    assert many.rating_score > one.rating_score  # 50 reviews at 4.8 outrank one at 5


def test_listing_newest_first_with_filters(db, now, uploads):
    offering = f.create_offering(capacity=20)
    made = []
    for index, (rating, photos) in enumerate([(5, 1), (3, 0), (5, 0), (1, 2)]):
        booking = visit(now, offering=offering)
        made.append(services.create_review(booking.resident, booking.id, {**GOOD, "rating": rating},
                                           [png((index * 40, 10, 10))] * photos, now + timedelta(minutes=index),
                                           limits=LOOSE))
    ids = [r.id for r in services.reviews_of(offering_id=offering.id).items]
    assert ids == [r.id for r in reversed(made)]
    assert [r.id for r in services.reviews_of(offering_id=offering.id, rating=5).items] == [made[2].id, made[0].id]
    assert [r.id for r in services.reviews_of(offering_id=offering.id, with_photos=True).items] == \
        [made[3].id, made[0].id]
    page = services.reviews_of(store_id=offering.store_id, per_page=3, page=2)
    assert page.total == 4 and page.pages == 2 and [r.id for r in page.items] == [made[0].id]
    owner = offering.store.business.owner
    services.reply_to_review(owner, made[1].id, "Sorry to hear that.", now)
    mine = services.reviews_for_merchant(owner, unreplied=True)
    assert made[1].id not in [r.id for r in mine.items] and mine.total == 3
    assert services.reviews_for_merchant(f.create_merchant()).total == 0


# -- races, on real connections ----------------------------------------------------------------------

NOW = datetime(2030, 6, 5, 8, 0, tzinfo=UTC)


@pytest.fixture
def committed(app, clock):
    """A committed store with reviewable visits and 50 residents; deleted again afterwards."""
    clock.travel(NOW, tick=False)
    with app.app_context():
        store = f.create_store(lng=-140.0, lat=-62.0, name="Review race store")
        offering = f.create_offering(store, capacity=60)
        first = visit(NOW, offering=offering)
        second = visit(NOW, offering=offering)
        voters = [old_resident() for _ in range(50)]
        review = services.create_review(second.resident, second.id, GOOD, [], NOW)
        ids = SimpleNamespace(booking=first.id, resident=first.resident_id, review=review.id, offering=offering.id,
                              store=store.id, business=store.business_id, voters=[v.id for v in voters],
                              users=[v.id for v in voters] + [first.resident_id, second.resident_id,
                                                              store.business.owner_id])
        db.session.commit()
    try:
        yield ids
    finally:
        with app.app_context():
            db.session.execute(delete(Booking).where(Booking.offering_id == ids.offering))
            db.session.execute(delete(OutboxEmail).where(OutboxEmail.subject.contains("Review race store")))
            db.session.execute(delete(Business).where(Business.id == ids.business))
            db.session.execute(delete(User).where(User.id.in_(ids.users)))
            db.session.commit()


@pytest.fixture
def wide_pool(app):
    """Fifty connections at once: the app's engine swapped for one with a pool that large."""
    with app.app_context():
        engines = db._app_engines[app]
        original = engines[None]
        wide = create_engine(original.url, pool_size=55, max_overflow=0,
                             connect_args={"options": "-c timezone=UTC"})
        engines[None] = wide
    try:
        yield
    finally:
        engines[None] = original
        wide.dispose()


def test_two_simultaneous_reviews_of_one_booking_make_one(app, committed):
    started = threading.Barrier(2, timeout=20)

    def review(body: str):
        with app.app_context():
            resident = db.session.get(User, committed.resident)
            started.wait()
            try:
                services.create_review(resident, committed.booking, {**GOOD, "body": body}, [], NOW)
                db.session.commit()
                return "created"
            except services.reviews.ReviewError as error:
                db.session.rollback()
                return error.code

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = sorted(pool.map(review, ["First of two at once.", "Second of two at once."]))
    assert outcomes == ["already_reviewed", "created"]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Review)
                                 .where(Review.booking_id == committed.booking)) == 1
        offering = db.session.get(Offering, committed.offering)
        assert shown(offering) == tuple(recount_of(Review.offering_id, committed.offering))
        assert offering.rating_count == 2
        store = db.session.get(Store, committed.store)
        assert shown(store) == tuple(recount_of(Review.store_id, committed.store))


def test_fifty_simultaneous_helpful_votes_count_fifty(app, committed, wide_pool):
    started = threading.Barrier(50, timeout=30)

    def vote(user_id: int):
        with app.app_context():
            user = db.session.get(User, user_id)
            started.wait()
            services.mark_helpful(user, committed.review, NOW)
            db.session.commit()
            return True

    with ThreadPoolExecutor(max_workers=50) as pool:
        assert all(pool.map(vote, committed.voters))
    with app.app_context():
        review = db.session.get(Review, committed.review)
        votes = db.session.scalar(select(func.count()).select_from(ReviewVote)
                                  .where(ReviewVote.review_id == committed.review))
        assert review.helpful_count == votes == 50



# -- the demo city -----------------------------------------------------------------------------------

@pytest.mark.demo_city
def test_the_demo_city_has_reviews_with_replies_and_a_visit_to_review(db, now, uploads):
    from app.demo import DEMO_BUSINESS_NAME, RESIDENT_EMAIL, load_demo_city

    load_demo_city()
    studio = select(Store.id).join(Business).where(Business.name == DEMO_BUSINESS_NAME)
    reviews = db.session.scalars(select(Review).where(Review.store_id.in_(studio))).all()
    assert len(reviews) >= 18 and all(r.status == ReviewStatus.PUBLISHED for r in reviews)
    assert sum(r.reply_body is not None for r in reviews) >= len(reviews) // 2
    assert {r.verified for r in reviews} == {True, False}
    for offering in db.session.scalars(select(Offering).where(Offering.store_id.in_(studio))):
        assert offering.rating_count >= 3 and offering.rating_score is not None
        assert shown(offering) == tuple(recount_of(Review.offering_id, offering.id))
    total = db.session.scalar(select(func.count()).select_from(Review))
    assert total > len(reviews)  # the city's experiences get some too
    resident = db.session.scalar(select(User).where(User.email == RESIDENT_EMAIL))
    mine = db.session.scalars(select(Booking.id).where(Booking.resident_id == resident.id)).all()
    assert services.reviewable_booking_ids(resident, mine, now)
    load_demo_city()
    assert db.session.scalar(select(func.count()).select_from(Review)) == total


def test_the_stores_owner_and_staff_hear_of_a_new_published_review(db, now):
    from bookings.models import Notification
    offering = f.create_offering()
    staff = f.add_staff(offering.store, old_resident())
    outsider = old_resident()
    booking = visit(now, offering=offering)
    services.create_review(booking.resident, booking.id, GOOD, [], now)
    told = set(db.session.scalars(select(Notification.user_id).where(Notification.kind == "review_posted")))
    assert told == {offering.store.business.owner_id, staff.id}
    assert outsider.id not in told and booking.resident_id not in told


def test_a_flagged_review_tells_the_store_nothing(db, now):
    from bookings.models import Notification
    booking = visit(now)
    review = services.create_review(booking.resident, booking.id, GOOD, [], now,
                                    limits=ReviewLimits(burst_per_hour=0, same_day_accounts=1000))
    assert review.status == ReviewStatus.FLAGGED
    assert not db.session.scalar(select(func.count()).select_from(Notification)
                                 .where(Notification.kind == "review_posted"))


def test_the_sweep_invites_a_review_the_day_after_a_checked_in_visit_once(db, clock, now):
    from app.jobs import JOBS
    from bookings.models import Notification

    booking = visit(now)
    ended = booking.slot.ends_at
    reviewed = visit(now)
    services.create_review(reviewed.resident, reviewed.id, GOOD, [], now, limits=LOOSE)
    no_show = visit(now, checked_in=False)
    sweep = dict(JOBS)["sweep"]
    clock.travel(ended, tick=False)
    assert "review_invites: 0" in sweep(clock.now())  # the visit's own day: not yet
    clock.travel(ended + timedelta(days=1), tick=False)
    assert "review_invites: 1" in sweep(clock.now())
    assert "review_invites: 0" in sweep(clock.now() + timedelta(hours=1))  # once per booking
    invites = db.session.scalars(select(Notification).where(Notification.kind == "review_invite")).all()
    assert [(n.user_id, n.booking_id) for n in invites] == [(booking.resident_id, booking.id)]
    assert f"/bookings/{booking.id}/review" in invites[0].body and no_show.id != invites[0].booking_id


def test_no_invite_once_the_review_window_closed(db, now):
    booking = visit(now)
    assert services.invite_reviews(booking.slot.ends_at + timedelta(days=31)) == 0
