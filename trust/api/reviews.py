"""Review endpoints: write a review of a checked-in visit (JSON), add its photos (multipart, one request
per photo or several), edit it, list an experience's or a store's reviews, the merchant's list, the store's
reply, helpful votes and reports."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from apiflask import APIBlueprint, Schema
from apiflask.fields import Boolean, File, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range
from flask import current_app, request

from app import clock
from app.auth.security import actor, api_auth
from app.db import MAX_ID
from app.extensions import db, limiter
from app.fields import WholeNumber
from app.media.api import Picture
from app.media.routes import allow_photo_uploads
from app.merchants.services import get_store
from app.offerings.services import get_offering
from trust import services
from trust.models import MAX_REVIEW_PHOTOS, REPLY_TEXT, REVIEW_TEXT, ReportReason, Review

bp = APIBlueprint("trust_reviews_api", __name__, url_prefix="/api/v1", tag="Reviews")

STARS = Range(1, 5)
WRITE_ERRORS = {401: "unauthenticated", 404: "not_found", 422: "validation_failed"}


def _poster() -> str:
    return f"review-posts:{actor().id if actor() else request.remote_addr}"


# Writing reviews and their photos: one budget per account, pages and API alike (REVIEW_POSTS_PER_USER).
posts_limit = limiter.shared_limit(lambda: current_app.config["REVIEW_POSTS_PER_USER"], scope="review-posts",
                                   key_func=_poster, methods=["POST"])


class ReviewIn(Schema):
    rating = WholeNumber(required=True, validate=STARS, metadata={"description": "Overall, 1-5 stars."})
    rating_described = WholeNumber(required=True, validate=STARS, metadata={"description": "As described."})
    rating_service = WholeNumber(required=True, validate=STARS, metadata={"description": "Service."})
    rating_value = WholeNumber(required=True, validate=STARS, metadata={"description": "Value for money."})
    body = String(required=True, validate=Length(max=REVIEW_TEXT[1] + 200), metadata={
        "description": f"{REVIEW_TEXT[0]}-{REVIEW_TEXT[1]} characters once trimmed, any language."})


class PhotosIn(Schema):
    photos = List(File(), required=True, validate=Length(min=1, max=MAX_REVIEW_PHOTOS), metadata={"description": (
        "One to four JPEG, PNG or WebP images (decided by decoding, whatever the name says), each at most "
        "MAX_PHOTO_BYTES; turned upright and stripped of all metadata (EXIF, GPS). A review holds at most 4.")})


class ReplyIn(Schema):
    body = String(required=True, validate=Length(max=REPLY_TEXT[1] + 200), metadata={
        "description": f"{REPLY_TEXT[0]}-{REPLY_TEXT[1]} characters once trimmed."})


class ReportIn(Schema):
    reason = String(required=True, validate=OneOf(list(ReportReason.ALL)))
    note = String(load_default="", validate=Length(max=500))


class ListQuery(Schema):
    rating = Integer(validate=STARS, metadata={"description": "Only reviews with this overall rating."})
    with_photos = Boolean(load_default=False, metadata={"description": "Only reviews with photos (1/true)."})
    page = Integer(load_default=1, validate=Range(1, 10_000))
    per_page = Integer(load_default=10, validate=Range(1, 50))


class MerchantQuery(ListQuery):
    unreplied = Boolean(load_default=False, metadata={"description": "Only reviews the store has not answered."})
    store_id = Integer(validate=Range(1, MAX_ID), metadata={"description": "Only this store's."})


class ReplyOut(Schema):
    body = String()
    replied_at = String()
    edited_at = String(allow_none=True)


class NamedRef(Schema):
    id = Integer()
    name = String()


class ReviewOut(Schema):
    id = Integer()
    booking_id = Integer(metadata={"description": "Shown to the review's author only; null for others."},
                         allow_none=True)
    offering = Nested(NamedRef)
    store = Nested(NamedRef)
    author = String(metadata={"description": "The resident's display name."})
    rating = Integer()
    rating_described = Integer()
    rating_service = Integer()
    rating_value = Integer()
    body = String()
    badge = String(validate=OneOf(["verified", "visited"]), metadata={
        "description": "verified: the check-in was proven by position and the counter's code; visited: by "
                       "staff at the counter."})
    status = String(validate=OneOf(["published", "flagged", "hidden"]), metadata={
        "description": "flagged: held for the platform's check (not shown to others, not counted)."})
    created_at = String()
    edited = Boolean()
    edited_at = String(allow_none=True)
    editable_until = String()
    helpful_count = Integer()
    helpful_by_me = Boolean()
    photos = List(Nested(Picture))
    reply = Nested(ReplyOut, allow_none=True)


class ReviewItem(ReviewOut):
    """A review in a list (its own class: the document registers each schema once)."""


class ReviewPageOut(Schema):
    items = List(Nested(ReviewItem))
    total = Integer()
    page = Integer()
    pages = Integer()
    per_page = Integer()


class ReportOut(Schema):
    id = Integer()
    review_id = Integer()
    reason = String()
    status = String()


def review_json(review: Review, voted: set[int] | None = None) -> dict:
    """A review as the API shows it (times in the store's zone)."""
    zone = ZoneInfo(review.store.timezone)
    me = actor()
    mine = me is not None and me.id == review.resident_id
    return {
        "id": review.id, "booking_id": review.booking_id if mine else None,
        "offering": {"id": review.offering_id, "name": review.offering.title},
        "store": {"id": review.store_id, "name": review.store.name},
        "author": review.resident.display_name,
        **{name: getattr(review, name) for name in ("rating", "rating_described", "rating_service", "rating_value",
                                                    "body", "status", "helpful_count")},
        "badge": "verified" if review.verified else "visited",
        "created_at": review.created_at.astimezone(zone).isoformat(),
        "edited": review.edited_at is not None,
        "edited_at": review.edited_at.astimezone(zone).isoformat() if review.edited_at else None,
        "editable_until": (review.created_at + services.EDIT_WINDOW).astimezone(zone).isoformat(),
        "helpful_count": review.helpful_count,
        "helpful_by_me": review.id in (voted if voted is not None else services.voted_by(me, [review.id])),
        "photos": services.review_json_photos(review),
        "reply": {"body": review.reply_body, "replied_at": review.replied_at.astimezone(zone).isoformat(),
                  "edited_at": review.reply_edited_at.astimezone(zone).isoformat() if review.reply_edited_at
                  else None} if review.reply_body else None,
    }


def page_json(page: services.ReviewPage) -> dict:
    voted = services.voted_by(actor(), [r.id for r in page.items])
    return {"items": [review_json(r, voted) for r in page.items], "total": page.total, "page": page.page,
            "pages": page.pages, "per_page": page.per_page}


def _filters(query) -> dict:
    return {"rating": query.get("rating"), "with_photos": query["with_photos"], "page": query["page"],
            "per_page": query["per_page"]}


@bp.post("/bookings/<int:booking_id>/review")
@bp.auth_required(api_auth)
@bp.input(ReviewIn, arg_name="body")
@bp.output(ReviewOut, status_code=201)
@bp.doc(responses={**WRITE_ERRORS, 409: "not_reviewable, review_not_open, review_window_closed or already_reviewed",
                   429: "rate_limited"})
@posts_limit
def create_review(booking_id: int, body):
    """Review a checked-in visit (its resident, from the slot's end until 30 days after, once).

    Send the ratings and text as JSON; add photos afterwards with `POST /api/v1/reviews/{review_id}/photos`
    (multipart). A review held for the platform's check answers `status: flagged`.
    """
    review = services.create_review(actor(), booking_id, body, [], clock.now())
    db.session.commit()
    return review_json(review)


@bp.post("/reviews/<int:review_id>/photos")
@bp.auth_required(api_auth)
@bp.input(PhotosIn, location="form_and_files", arg_name="body")
@bp.output(ReviewOut, status_code=201)
@bp.doc(responses={**WRITE_ERRORS, 409: "edit_window_closed", 413: "image_too_large",
                   422: "image_unreadable, image_too_many_pixels or validation_failed", 429: "rate_limited"})
@posts_limit
def add_photos(review_id: int, body):
    """Add photos to your review (multipart/form-data, field `photos`, repeatable), within its 7 days."""
    uploads = [upload.stream.read() for upload in body["photos"]]
    review = services.add_review_photos(actor(), review_id, uploads, clock.now())
    db.session.commit()
    return review_json(review)


@bp.patch("/reviews/<int:review_id>")
@bp.auth_required(api_auth)
@bp.input(ReviewIn, arg_name="body")
@bp.output(ReviewOut)
@bp.doc(responses={**WRITE_ERRORS, 409: "edit_window_closed"})
def edit_review(review_id: int, body):
    """Change your review's ratings and text within 7 days; the replaced version is kept (shown "edited")."""
    review = services.edit_review(actor(), review_id, body, clock.now())
    db.session.commit()
    return review_json(review)


@bp.get("/reviews/<int:review_id>")
@bp.output(ReviewOut)
@bp.doc(responses={404: "not_found"})
def get_review(review_id: int):
    """One review: a published one, or your own held one."""
    return review_json(services.get_review(actor(), review_id))


@bp.get("/offerings/<int:offering_id>/reviews")
@bp.input(ListQuery, location="query", arg_name="query")
@bp.output(ReviewPageOut)
@bp.doc(responses={404: "not_found"})
def offering_reviews(offering_id: int, query):
    """An experience's published reviews, newest first; filter by overall rating and "with photos"."""
    offering = get_offering(actor(), offering_id)
    return page_json(services.reviews_of(offering_id=offering.id, **_filters(query)))


@bp.get("/stores/<int:store_id>/reviews")
@bp.input(ListQuery, location="query", arg_name="query")
@bp.output(ReviewPageOut)
@bp.doc(responses={404: "not_found"})
def store_reviews(store_id: int, query):
    """A store's published reviews (all its experiences), newest first; same filters."""
    store = get_store(actor(), store_id)
    return page_json(services.reviews_of(store_id=store.id, **_filters(query)))


@bp.get("/merchant/reviews")
@bp.auth_required(api_auth)
@bp.input(MerchantQuery, location="query", arg_name="query")
@bp.output(ReviewPageOut)
@bp.doc(tags=["Merchant"])
def merchant_reviews(query):
    """Reviews of the stores you own or work at, newest first; `unreplied=1` for those still to answer."""
    filters = _filters(query)
    filters.pop("with_photos")
    return page_json(services.reviews_for_merchant(actor(), unreplied=query["unreplied"],
                                                   store_id=query.get("store_id"), **filters))


def _reply(review_id: int, body, edit: bool) -> dict:
    review = services.reply_to_review(actor(), review_id, body["body"], clock.now(), edit=edit)
    db.session.commit()
    return review_json(review)


@bp.post("/reviews/<int:review_id>/reply")
@bp.auth_required(api_auth)
@bp.input(ReplyIn, arg_name="body")
@bp.output(ReviewOut, status_code=201)
@bp.doc(tags=["Merchant"], responses={**WRITE_ERRORS, 403: "forbidden", 409: "already_replied"})
def reply(review_id: int, body):
    """The store's public reply (its owner or staff), once per review."""
    return _reply(review_id, body, edit=False)


@bp.put("/reviews/<int:review_id>/reply")
@bp.auth_required(api_auth)
@bp.input(ReplyIn, arg_name="body")
@bp.output(ReviewOut)
@bp.doc(tags=["Merchant"], responses={**WRITE_ERRORS, 403: "forbidden", 409: "no_reply"})
def edit_reply(review_id: int, body):
    """Change the store's reply."""
    return _reply(review_id, body, edit=True)


@bp.post("/reviews/<int:review_id>/helpful")
@bp.auth_required(api_auth)
@bp.output(ReviewOut)
@bp.doc(responses={401: "unauthenticated", 403: "forbidden (the store's people)", 404: "not_found",
                   409: "already_voted or own_review"})
def helpful(review_id: int):
    """Mark a review helpful, once (not your own; not a review of a store you work at)."""
    review = services.mark_helpful(actor(), review_id, clock.now())
    db.session.commit()
    return review_json(review)


@bp.post("/reviews/<int:review_id>/report")
@bp.auth_required(api_auth)
@bp.input(ReportIn, arg_name="body")
@bp.output(ReportOut, status_code=201)
@bp.doc(responses={**WRITE_ERRORS, 409: "already_reported"})
def report(review_id: int, body):
    """Report a review to the platform: fake, offensive, private_data or not_about_this_visit."""
    done = services.report_review(actor(), review_id, body["reason"], body["note"], clock.now())
    db.session.commit()
    return {"id": done.id, "review_id": done.review_id, "reason": done.reason, "status": done.status}


UPLOAD_ENDPOINTS = {"trust_reviews_api.add_photos", "trust_reviews.write"}


@bp.record_once
def _allow_photo_uploads(state) -> None:
    """A review's photo uploads may carry MAX_REVIEW_PHOTOS photos (the media pipeline checks each one's size)."""
    allow_photo_uploads(state.app, UPLOAD_ENDPOINTS, MAX_REVIEW_PHOTOS)

