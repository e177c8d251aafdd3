"""Reviews of honoured visits: who may review, writing and editing (every edit kept), the store's reply,
helpful votes, reports, and the ratings of experiences and stores.

Only the resident of a checked-in booking reviews it, from the slot's end until 30 days after, once; the
store's owner, staff and the platform's admins never review a visit of that store, not even their own.

Ratings never drift: a review's insert or edit locks its experience's and its store's rows (in that
order, ``SELECT … FOR UPDATE``) and recomputes both from the published reviews in the same transaction,
so concurrent reviews of one experience queue on the lock and each recount sees the ones committed
before it. ``rating_score`` is a Bayesian average (what ranking uses):

    score = (PRIOR_WEIGHT * m + sum of ratings) / (PRIOR_WEIGHT + n)

where ``m`` is the mean published rating of the category (the experience's category; the store's
business category) and PRIOR_WEIGHT = 10 reviews: one 5-star review in a category averaging 4.2 scores
4.27, two hundred reviews at 4.8 score 4.77. A category's mean moves with every review in it, so a row's
score is as of its own last review; ``rescore_all`` (``flask trust rescore``) brings every score to
today's priors (run it nightly).

Anti-fraud: a review is held (status ``flagged``: not shown, not counted) when the store already had
REVIEW_BURST_PER_HOUR reviews in the past hour, or when the reviewer's account was created on the visit's
(store-local) day and the store already had REVIEW_SAME_DAY_ACCOUNTS - 1 such reviews in the past 30 days.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, has_app_context
from flask_babel import gettext as _
from sqlalchemy import Date, and_, cast, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from app.auth.models import User
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from app.i18n import in_locale_of
from app.media.services import picture, store_image
from app.merchants.models import Business, Store, StoreStaff
from app.merchants.services import can_view_store_private
from app.offerings.models import Offering
from bookings.models import Booking, CheckIn, Notification, Slot
from bookings.services import get_booking, notify_account, queue_notice
from trust.models import (
    MAX_REVIEW_PHOTOS,
    REPLY_TEXT,
    REVIEW_TEXT,
    ReportReason,
    Review,
    ReviewPhoto,
    ReviewReport,
    ReviewRevision,
    ReviewStatus,
    ReviewVote,
)

__all__ = [
    "EDIT_WINDOW", "MAX_REVIEW_PHOTOS", "PRIOR_WEIGHT", "REVIEW_WINDOW", "ReviewError", "ReviewLimits", "ReviewPage",
    "add_review_photos", "can_reply", "create_review", "edit_review", "get_review", "invite_reviews", "mark_helpful",
    "open_reports",
    "rating_fields", "recount", "reply_to_review", "report_review", "rescore_all", "review_json_photos",
    "review_of_booking", "review_window", "reviewable_booking_ids", "reviews_for_merchant", "reviews_of",
    "voted_by", "why_not_reviewable",
]

REVIEW_WINDOW = timedelta(days=30)  # from the slot's end
EDIT_WINDOW = timedelta(days=7)  # from the review's creation
PRIOR_WEIGHT = 10  # reviews' worth of the category's mean in rating_score
NEW_ACCOUNT_LOOKBACK = timedelta(days=30)
DETAILS = ("rating_described", "rating_service", "rating_value")
RATINGS = ("rating", *DETAILS)


class ReviewError(Conflict):
    """A refused review action with its stable code (the status is the code's, app/error_codes.py)."""


def _refused(code: str, message: str, **details: Any) -> ReviewError:
    return ReviewError(message, code=code, details=details)


@dataclass(frozen=True)
class ReviewLimits:
    burst_per_hour: int = 5
    same_day_accounts: int = 3


def _limits() -> ReviewLimits:
    if not has_app_context():
        return ReviewLimits()
    config = current_app.config
    return ReviewLimits(int(config.get("REVIEW_BURST_PER_HOUR", 5)), int(config.get("REVIEW_SAME_DAY_ACCOUNTS", 3)))


# -- who may review ---------------------------------------------------------------------------------

def review_window(booking: Booking) -> tuple[datetime, datetime]:
    """From the visit's slot end until 30 days after."""
    ends = booking.slot.ends_at
    return ends, ends + REVIEW_WINDOW


def _works_at(user: User, store: Store) -> bool:
    return can_view_store_private(user, store)


def why_not_reviewable(actor: User | None, booking: Booking, now: datetime) -> ReviewError | None:
    """The refusal a review of ``booking`` by ``actor`` would get now, or None when it may be written."""
    if actor is None or booking.resident_id != actor.id:
        return _refused("not_reviewable", _("Only the resident who made the visit can review it."),
                        reason="not_your_booking")
    if _works_at(actor, booking.store):
        return _refused("not_reviewable", _("You work at this store, so you cannot review its visits."),
                        reason="works_at_store")
    check_in = db.session.scalar(select(CheckIn).where(CheckIn.booking_id == booking.id))
    if check_in is None:
        return _refused("not_reviewable", _("Only a visit that was checked in can be reviewed."),
                        reason="not_checked_in")
    if db.session.scalar(select(Review.id).where(Review.booking_id == booking.id)) is not None:
        return _refused("already_reviewed", _("You have already reviewed this visit."))
    opens, closes = review_window(booking)
    zone = ZoneInfo(booking.store.timezone)
    if now < opens:
        return _refused("review_not_open", _("You can review this visit once it is over."),
                        opens_at=opens.astimezone(zone).isoformat())
    if now > closes:
        return _refused("review_window_closed", _("Reviews can be written up to 30 days after the visit."),
                        closed_at=closes.astimezone(zone).isoformat())
    return None


def reviewable_booking_ids(actor: User, booking_ids: Sequence[int], now: datetime) -> set[int]:
    """Which of these bookings the actor may review now (one query, for lists of visits)."""
    if not booking_ids:
        return set()
    rows = db.session.execute(
        select(Booking.id, Booking.store_id).join(CheckIn, CheckIn.booking_id == Booking.id)
        .join(Slot, Slot.id == Booking.slot_id)
        .where(Booking.id.in_(booking_ids), Booking.resident_id == actor.id,
               ~exists().where(Review.booking_id == Booking.id),
               Slot.ends_at <= now, Slot.ends_at + REVIEW_WINDOW >= now)).all()
    stores = {store_id for _id, store_id in rows}
    barred = {store.id for store in db.session.scalars(select(Store).where(Store.id.in_(stores)))
              if _works_at(actor, store)}
    return {booking_id for booking_id, store_id in rows if store_id not in barred}


# -- reading ----------------------------------------------------------------------------------------

def _visible_to(actor: User | None, review: Review) -> bool:
    if review.status == ReviewStatus.PUBLISHED:
        return True
    return actor is not None and (actor.id == review.resident_id or actor.is_admin)


def get_review(actor: User | None, review_id: int) -> Review:
    """A review the actor may see: a published one, or the actor's own held one (admins: any).

    :raises NotFound: otherwise.
    """
    review = db.session.get(Review, review_id)
    if review is None or not _visible_to(actor, review):
        raise NotFound(_("No such review."))
    return review


def review_of_booking(booking_id: int) -> Review | None:
    return db.session.scalar(select(Review).where(Review.booking_id == booking_id))


@dataclass
class ReviewPage:
    items: list[Review]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _listed():
    return (selectinload(Review.photos), joinedload(Review.resident, innerjoin=True),
            joinedload(Review.offering, innerjoin=True), joinedload(Review.store, innerjoin=True))


def _page(query, page: int, per_page: int) -> ReviewPage:
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    items = list(db.session.scalars(query.options(*_listed())
                                    .order_by(Review.created_at.desc(), Review.id.desc())
                                    .limit(per_page).offset((page - 1) * per_page)))
    return ReviewPage(items, total, page, per_page)


def _filtered(query, rating: int | None, with_photos: bool):
    if rating is not None:
        query = query.where(Review.rating == rating)
    if with_photos:
        query = query.where(exists().where(ReviewPhoto.review_id == Review.id))
    return query


def reviews_of(*, offering_id: int | None = None, store_id: int | None = None, rating: int | None = None,
               with_photos: bool = False, page: int = 1, per_page: int = 10) -> ReviewPage:
    """Published reviews of an experience or of a store, newest first, optionally of one overall rating
    and only those with photos."""
    query = select(Review).where(Review.status == ReviewStatus.PUBLISHED)
    if offering_id is not None:
        query = query.where(Review.offering_id == offering_id)
    if store_id is not None:
        query = query.where(Review.store_id == store_id)
    return _page(_filtered(query, rating, with_photos), page, per_page)


def _stores_of(actor: User) -> Any:
    """SQL: ids of the stores the actor owns or works at."""
    owned = select(Store.id).join(Business, Store.business_id == Business.id).where(Business.owner_id == actor.id)
    staffed = select(StoreStaff.store_id).where(StoreStaff.user_id == actor.id)
    return owned.union(staffed)


def reviews_for_merchant(actor: User, *, unreplied: bool = False, store_id: int | None = None,
                         rating: int | None = None, page: int = 1, per_page: int = 20) -> ReviewPage:
    """The published reviews of the stores the actor owns or works at, newest first."""
    query = select(Review).where(Review.status == ReviewStatus.PUBLISHED, Review.store_id.in_(_stores_of(actor)))
    if store_id is not None:
        query = query.where(Review.store_id == store_id)
    if unreplied:
        query = query.where(Review.reply_body.is_(None))
    return _page(_filtered(query, rating, False), page, per_page)


def voted_by(actor: User | None, review_ids: Sequence[int]) -> set[int]:
    """Which of these reviews the actor marked helpful."""
    if actor is None or not review_ids:
        return set()
    return set(db.session.scalars(select(ReviewVote.review_id).where(
        ReviewVote.user_id == actor.id, ReviewVote.review_id.in_(review_ids))))


def review_json_photos(review: Review) -> list[dict]:
    """A review's photos as pictures (app.media.services.picture)."""
    return [picture(p.image.digest, p.image.widths, p.image.width, p.image.height) for p in review.photos]


# -- writing ----------------------------------------------------------------------------------------

def rating_fields(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The four ratings (whole numbers 1-5) and the text from a form or JSON body, and per-field errors."""
    clean: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in RATINGS:
        value = data.get(name)
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
            errors[name] = _("Choose from 1 to 5 stars.")
        else:
            clean[name] = value
    body = data.get("body")
    body = body.strip() if isinstance(body, str) else ""
    if not REVIEW_TEXT[0] <= len(body) <= REVIEW_TEXT[1]:
        errors["body"] = _("Write from %(min)d to %(max)d characters.", min=REVIEW_TEXT[0], max=REVIEW_TEXT[1])
    else:
        clean["body"] = body
    return clean, errors


def _lock_rated(offering_id: int, store_id: int) -> None:
    """Lock the experience's and then the store's row: every writer of their ratings queues here."""
    db.session.execute(select(Offering.id).where(Offering.id == offering_id).with_for_update())
    db.session.execute(select(Store.id).where(Store.id == store_id).with_for_update())


def _flag_reason(actor: User, booking: Booking, now: datetime, limits: ReviewLimits) -> str | None:
    recent = db.session.scalar(select(func.count()).select_from(Review).where(
        Review.store_id == booking.store_id, Review.created_at > now - timedelta(hours=1))) or 0
    if recent >= limits.burst_per_hour:
        return "burst"
    zone = booking.store.timezone
    if actor.created_at.astimezone(ZoneInfo(zone)).date() == booking.starts_at.astimezone(ZoneInfo(zone)).date():
        same_day = db.session.scalar(
            select(func.count()).select_from(Review)
            .join(User, User.id == Review.resident_id).join(Booking, Booking.id == Review.booking_id)
            .where(Review.store_id == booking.store_id, Review.created_at > now - NEW_ACCOUNT_LOOKBACK,
                   cast(func.timezone(zone, User.created_at), Date) == cast(func.timezone(zone, Booking.starts_at),
                                                                            Date))) or 0
        if same_day + 1 >= limits.same_day_accounts:
            return "new_accounts"
    return None


def create_review(actor: User, booking_id: int, data: Mapping[str, Any], photos: Sequence[bytes],
                  now: datetime, *, limits: ReviewLimits | None = None) -> Review:
    """Review a checked-in visit: overall and three detailed ratings, text, up to 4 photos.

    A review held by the anti-fraud rules is stored ``flagged`` (not shown, not counted).

    :raises NotFound: unless the booking is the actor's.
    :raises ReviewError: ``not_reviewable``, ``review_not_open``, ``review_window_closed``, ``already_reviewed``.
    :raises ValidationFailed: a rating, the text or a photo is not valid (``image_*`` codes from the pipeline).
    """
    booking = get_booking(actor, booking_id)
    if booking.resident_id != actor.id:
        raise NotFound(_("No such booking."))
    refusal = why_not_reviewable(actor, booking, now)
    if refusal is not None:
        raise refusal
    clean, errors = rating_fields(data)
    if len(photos) > MAX_REVIEW_PHOTOS:
        errors["photos"] = _("Add at most %(limit)d photos.", limit=MAX_REVIEW_PHOTOS)
    if errors:
        raise ValidationFailed(details=errors)
    images = []
    for content in photos:  # before any lock: decoding and resizing take a while
        images.append(store_image(content, uploaded_by=actor, field="photos"))
    db.session.execute(select(Booking.id).where(Booking.id == booking.id).with_for_update())
    if review_of_booking(booking.id) is not None:  # another request won while we decoded photos
        raise _refused("already_reviewed", _("You have already reviewed this visit."))
    _lock_rated(booking.offering_id, booking.store_id)
    reason = _flag_reason(actor, booking, now, limits or _limits())
    check_in = db.session.scalar(select(CheckIn).where(CheckIn.booking_id == booking.id))
    review = Review(booking_id=booking.id, offering_id=booking.offering_id, store_id=booking.store_id,
                    resident_id=actor.id, verified=check_in.verification == "verified",
                    status=ReviewStatus.FLAGGED if reason else ReviewStatus.PUBLISHED, flag_reason=reason,
                    created_at=now, helpful_count=0, **clean)
    review.photos = [ReviewPhoto(image=image, position=index) for index, image in enumerate(images)]
    try:
        with db.session.begin_nested():
            db.session.add(review)
            db.session.flush()
    except IntegrityError:
        raise _refused("already_reviewed", _("You have already reviewed this visit.")) from None
    recount(booking.offering_id, booking.store_id)
    if review.status == ReviewStatus.PUBLISHED:
        _tell_store_of_review(booking.store_id, review)
    return review


def _tell_store_of_review(store_id: int, review: Review) -> None:
    """Each of the store's people (owner and staff) gets an inbox notice and an e-mail of a new review."""
    store = db.session.get(Store, store_id)
    people = db.session.scalars(select(User).where(
        (User.id == store.business.owner_id)
        | User.id.in_(select(StoreStaff.user_id).where(StoreStaff.store_id == store_id)))).all()
    for person in people:
        with in_locale_of(person):
            title = _("New review of %(store)s", store=store.name)
            body = _("A visitor rated %(store)s %(rating)d of 5. Read it and reply on your reviews page.",
                     store=store.name, rating=review.rating)
        notify_account(person, "review_posted", title, body)


def invite_reviews(now: datetime) -> int:
    """'Review your visit': from the store-local day after a checked-in visit's slot (while its review window is
    open), one inbox notice (with the review page's address) and e-mail per booking; return how many.

    Bookings are claimed with ``FOR UPDATE SKIP LOCKED`` and the notice itself marks the booking as told, so
    overlapping runs tell no one twice.
    """
    local_day = lambda moment: cast(func.timezone(Store.timezone, moment), Date)  # noqa: E731
    told = exists().where(Notification.booking_id == Booking.id, Notification.kind == "review_invite")
    reviewed = exists().where(Review.booking_id == Booking.id)
    due = db.session.scalars(
        select(Booking).join(Slot, Slot.id == Booking.slot_id).join(Store, Store.id == Booking.store_id)
        .where(exists().where(CheckIn.booking_id == Booking.id), Slot.ends_at > now - REVIEW_WINDOW,
               local_day(Slot.ends_at) < local_day(now), ~told, ~reviewed)
        .order_by(Booking.id).limit(500).with_for_update(of=Booking, skip_locked=True)).all()
    for booking in due:
        resident = booking.resident
        with in_locale_of(resident):
            title = _("Review your visit: %(title)s", title=booking.offering.title)
            body = _("How was %(title)s at %(store)s? Rate your visit and help others choose: %(link)s",
                     title=booking.offering.title, store=booking.store.name, link=f"/bookings/{booking.id}/review")
        queue_notice(resident.email, title, body, user=resident, kind="review_invite", booking_id=booking.id)
    db.session.flush()
    return len(due)


def edit_review(actor: User, review_id: int, data: Mapping[str, Any], now: datetime) -> Review:
    """Change a review's ratings and text within 7 days of writing it; the replaced version is kept.

    :raises NotFound: unless it is the actor's review.
    :raises ReviewError: ``edit_window_closed``.
    :raises ValidationFailed: a rating or the text is not valid.
    """
    review = db.session.get(Review, review_id)
    if review is None or review.resident_id != actor.id:
        raise NotFound(_("No such review."))
    if now > review.created_at + EDIT_WINDOW:
        raise _refused("edit_window_closed", _("A review can be edited for 7 days after it was written."))
    clean, errors = rating_fields(data)
    if errors:
        raise ValidationFailed(details=errors)
    _lock_rated(review.offering_id, review.store_id)
    review = db.session.scalar(select(Review).where(Review.id == review.id).with_for_update()
                               .execution_options(populate_existing=True))
    if all(getattr(review, name) == value for name, value in clean.items()):
        return review  # nothing changed: no revision, no "edited"
    db.session.add(ReviewRevision(review_id=review.id, written_at=review.edited_at or review.created_at,
                                  replaced_at=now, **{name: getattr(review, name) for name in (*RATINGS, "body")}))
    for name, value in clean.items():
        setattr(review, name, value)
    review.edited_at = now
    db.session.flush()
    recount(review.offering_id, review.store_id)
    db.session.expire(review, ["revisions"])
    return review


def add_review_photos(actor: User, review_id: int, photos: Sequence[bytes], now: datetime) -> Review:
    """Add photos to the actor's review within its edit window (at most 4 in all).

    :raises NotFound: unless it is the actor's review.
    :raises ReviewError: ``edit_window_closed``.
    :raises ValidationFailed: no photo, more than 4 in all, or a file the pipeline refuses.
    """
    review = db.session.get(Review, review_id)
    if review is None or review.resident_id != actor.id:
        raise NotFound(_("No such review."))
    if now > review.created_at + EDIT_WINDOW:
        raise _refused("edit_window_closed", _("A review can be edited for 7 days after it was written."))
    review = db.session.scalar(select(Review).where(Review.id == review.id).with_for_update()
                               .execution_options(populate_existing=True))
    have = len(review.photos)
    if not photos or have + len(photos) > MAX_REVIEW_PHOTOS:
        raise ValidationFailed(details={"photos": _("A review holds at most %(limit)d photos; it has %(have)d.",
                                                    limit=MAX_REVIEW_PHOTOS, have=have)})
    for index, content in enumerate(photos):
        image = store_image(content, uploaded_by=actor, field="photos")
        db.session.add(ReviewPhoto(review_id=review.id, image=image, position=have + index))
    db.session.flush()
    db.session.expire(review, ["photos"])
    return review


def _store_side(actor: User, store: Store) -> bool:
    """The store's owner or staff (admins answer for no store)."""
    if store.business.owner_id == actor.id:
        return True
    return db.session.scalar(select(StoreStaff.id).where(StoreStaff.store_id == store.id,
                                                         StoreStaff.user_id == actor.id)) is not None


def can_reply(actor: User | None, review: Review) -> bool:
    return actor is not None and review.status == ReviewStatus.PUBLISHED and _store_side(actor, review.store)


def reply_to_review(actor: User, review_id: int, body: Any, now: datetime, *, edit: bool = False) -> Review:
    """The store's public answer (owner or staff): once per review; ``edit`` changes it.

    :raises NotFound: no such published review.
    :raises PermissionDenied: unless the actor owns or works at the review's store.
    :raises ReviewError: ``already_replied`` (a second reply), ``no_reply`` (editing none).
    :raises ValidationFailed: the text is too short or too long.
    """
    review = get_review(actor, review_id)
    if not can_reply(actor, review):
        raise PermissionDenied(_("Only the store's owner and staff can reply to its reviews."))
    text = body.strip() if isinstance(body, str) else ""
    if not REPLY_TEXT[0] <= len(text) <= REPLY_TEXT[1]:
        raise ValidationFailed(details={"body": _("Write from %(min)d to %(max)d characters.",
                                                  min=REPLY_TEXT[0], max=REPLY_TEXT[1])})
    # A conditional UPDATE: two replies at once cannot both be the first.
    condition = Review.reply_body.is_not(None) if edit else Review.reply_body.is_(None)
    values = {"reply_body": text, "reply_edited_at": now} if edit else \
        {"reply_body": text, "reply_by_id": actor.id, "replied_at": now}
    done = db.session.execute(update(Review).where(Review.id == review.id, condition).values(**values)
                              .returning(Review.id)).scalar()
    if done is None:
        if edit:
            raise _refused("no_reply", _("There is no reply to edit yet."))
        raise _refused("already_replied", _("The store has already replied; edit the reply instead."))
    db.session.refresh(review)
    if not edit:
        resident = review.resident
        with in_locale_of(resident):
            notify_account(resident, "review_reply", _("%(store)s replied to your review", store=review.store.name),
                           _("%(store)s replied to your review of %(experience)s: %(reply)s",
                             store=review.store.name, experience=review.offering.title, reply=text))
    return review


def mark_helpful(actor: User, review_id: int, now: datetime) -> Review:
    """Count the actor's "helpful" once (not on their own review, not by the store's people).

    :raises NotFound: no such published review.
    :raises ReviewError: ``already_voted``, ``own_review``.
    :raises PermissionDenied: the actor works at the review's store.
    """
    review = get_review(actor, review_id)
    if review.status != ReviewStatus.PUBLISHED:
        raise NotFound(_("No such review."))
    if review.resident_id == actor.id:
        raise _refused("own_review", _("You cannot mark your own review as helpful."))
    if _works_at(actor, review.store):
        raise PermissionDenied(_("People of the store cannot vote on its reviews."))
    inserted = db.session.execute(pg_insert(ReviewVote).values(review_id=review.id, user_id=actor.id, created_at=now)
                                  .on_conflict_do_nothing().returning(ReviewVote.user_id)).scalar()
    if inserted is None:
        raise _refused("already_voted", _("You have already marked this review as helpful."))
    # An increment, not a recount: fifty votes at once all count.
    db.session.execute(update(Review).where(Review.id == review.id)
                       .values(helpful_count=Review.helpful_count + 1))
    db.session.refresh(review)
    return review


def report_review(actor: User, review_id: int, reason: Any, note: Any, now: datetime) -> ReviewReport:
    """Report a review to the platform (once per person); ``flask trust reports`` lists the open ones.

    :raises NotFound: no such review.
    :raises ValidationFailed: an unknown reason, or a note over 500 characters.
    :raises ReviewError: ``already_reported``.
    """
    review = get_review(actor, review_id)
    errors = {}
    if reason not in ReportReason.ALL:
        errors["reason"] = _("Choose one of: %(reasons)s.", reasons=", ".join(ReportReason.ALL))
    note = note.strip() if isinstance(note, str) else ""
    if len(note) > 500:
        errors["note"] = _("Write at most %(max)d characters.", max=500)
    if errors:
        raise ValidationFailed(details=errors)
    report_id = db.session.execute(pg_insert(ReviewReport).values(
        review_id=review.id, reporter_id=actor.id, reason=reason, note=note, status="open", created_at=now)
        .on_conflict_do_nothing().returning(ReviewReport.id)).scalar()
    if report_id is None:
        raise _refused("already_reported", _("You have already reported this review."))
    return db.session.get(ReviewReport, report_id)


def open_reports(limit: int = 200) -> list[ReviewReport]:
    """The operator's queue: open reports, oldest first, with their reviews."""
    return list(db.session.scalars(
        select(ReviewReport).where(ReviewReport.status == "open")
        .options(joinedload(ReviewReport.review), joinedload(ReviewReport.reporter))
        .order_by(ReviewReport.created_at, ReviewReport.id).limit(limit)))


# -- aggregates -------------------------------------------------------------------------------------

def _aggregate(where) -> Any:
    published = and_(Review.status == ReviewStatus.PUBLISHED, where)
    return select(func.count(Review.id), func.sum(Review.rating), func.avg(Review.rating),
                  *(func.avg(getattr(Review, name)) for name in DETAILS)).where(published)


def _two(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(Decimal("0.01"))


def _score(total: int | None, count: int, prior: Any) -> Decimal | None:
    if not count:
        return None
    prior = Decimal(prior)
    return ((PRIOR_WEIGHT * prior + Decimal(total)) / (PRIOR_WEIGHT + count)).quantize(Decimal("0.001"))


def _offering_prior(category: str) -> Any:
    return db.session.scalar(select(func.avg(Review.rating)).join(Offering, Offering.id == Review.offering_id)
                             .where(Review.status == ReviewStatus.PUBLISHED, Offering.category == category))


def _store_prior(category: str) -> Any:
    return db.session.scalar(select(func.avg(Review.rating)).join(Store, Store.id == Review.store_id)
                             .join(Business, Business.id == Store.business_id)
                             .where(Review.status == ReviewStatus.PUBLISHED, Business.category == category))


def _apply(row: Offering | Store, stats: Any, prior: Any) -> None:
    count, total, avg, described, service, value = stats
    row.rating_count = count
    row.rating_avg, row.rating_described = _two(avg), _two(described)
    row.rating_service, row.rating_value = _two(service), _two(value)
    row.rating_score = _score(total, count, prior)


def recount(offering_id: int, store_id: int) -> None:
    """Recompute an experience's and a store's ratings from their published reviews (lock them first)."""
    db.session.flush()
    offering = db.session.get(Offering, offering_id)
    store = db.session.get(Store, store_id)
    _apply(offering, db.session.execute(_aggregate(Review.offering_id == offering_id)).one(),
           _offering_prior(offering.category))
    _apply(store, db.session.execute(_aggregate(Review.store_id == store_id)).one(),
           _store_prior(store.business.category))
    db.session.flush()


def rescore_all() -> int:
    """Recount every reviewed experience and store with today's category priors; return how many rows."""
    done = 0
    pairs = db.session.execute(select(Review.offering_id, Review.store_id).distinct()
                               .order_by(Review.offering_id, Review.store_id)).all()
    for offering_id, store_id in pairs:
        _lock_rated(offering_id, store_id)
        recount(offering_id, store_id)
        done += 1
    return done
