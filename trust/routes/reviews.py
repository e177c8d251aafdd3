"""Review pages: "Review your visit" (write, then edit for 7 days), the reviews of an experience or a store
(also as a partial the experience and store pages include), helpful, report, the store's reply, and the
merchant's list of their reviews."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app import clock
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from app.merchants.services import get_store
from app.offerings.services import get_offering
from app.redirects import safe_next
from bookings.services import get_booking
from trust import services
from trust.api.reviews import posts_limit
from trust.models import MAX_REVIEW_PHOTOS, REVIEW_TEXT, ReportReason

bp = Blueprint("trust_reviews", __name__)

RATING_LABELS = (
    ("rating", _l("Overall")),
    ("rating_described", _l("As described")),
    ("rating_service", _l("Service")),
    ("rating_value", _l("Value")),
)
REPORT_LABELS = {
    ReportReason.FAKE: _l("Fake review"),
    ReportReason.OFFENSIVE: _l("Offensive"),
    ReportReason.PRIVATE_DATA: _l("Shows private data"),
    ReportReason.NOT_ABOUT_THIS_VISIT: _l("Not about this visit"),
}
PER_PAGE = 10


def _int_arg(name: str, low: int, high: int) -> int | None:
    value = request.args.get(name, "")
    return int(value) if value.isdigit() and low <= int(value) <= high else None


@bp.app_template_global()
def review_listing(offering_id: int | None = None, store_id: int | None = None) -> dict:
    """What the reviews partial shows: a page of reviews per the request's filters (rating, photos, page)."""
    rating = _int_arg("rating", 1, 5)
    with_photos = request.args.get("photos") == "1"
    page = services.reviews_of(offering_id=offering_id, store_id=store_id, rating=rating, with_photos=with_photos,
                               page=_int_arg("page", 1, 10_000) or 1, per_page=PER_PAGE)
    me = current_user if current_user.is_authenticated else None
    return {"page": page, "rating": rating, "with_photos": with_photos,
            "voted": services.voted_by(me, [r.id for r in page.items]),
            "replier": {r.id for r in page.items if services.can_reply(me, r)}}


@bp.app_template_global()
def reviewable_ids(bookings) -> set[int]:
    """Which of these bookings the logged-in resident may review now (for "Review your visit" links)."""
    if not current_user.is_authenticated:
        return set()
    return services.reviewable_booking_ids(current_user, [b.id for b in bookings], clock.now())


@bp.app_context_processor
def _labels() -> dict:
    return {"review_rating_labels": RATING_LABELS, "review_report_labels": REPORT_LABELS}


def _back(default: str) -> str:
    return safe_next(request.form.get("next"), default)


def _form_page(booking, review, values: dict, errors: dict, status: int = 200):
    return render_template("trust/reviews_form.html", booking=booking, review=review, values=values, errors=errors,
                           max_photos=MAX_REVIEW_PHOTOS, text_limits=REVIEW_TEXT, now=clock.now(),
                           edit_until=review.created_at + services.EDIT_WINDOW if review else None), status


@bp.route("/bookings/<int:booking_id>/review", methods=["GET", "POST"])
@login_required
@posts_limit
def write(booking_id: int):
    """Write the visit's review, or edit it within 7 days."""
    booking = get_booking(current_user, booking_id)
    if booking.resident_id != current_user.id:
        raise NotFound(_("No such booking."))
    review = services.review_of_booking(booking.id)
    now = clock.now()
    if request.method == "GET":
        if review is None:
            refusal = services.why_not_reviewable(current_user, booking, now)
            if refusal is not None:
                flash(refusal.message, "error")
                return redirect(url_for("bookings.detail", booking_id=booking.id))
        values = {name: getattr(review, name) for name in ("rating", "rating_described", "rating_service",
                                                           "rating_value", "body")} if review else {}
        return _form_page(booking, review, values, {})
    photos = [upload.read() for upload in request.files.getlist("photos") if upload and upload.filename]
    try:
        if review is None:
            review = services.create_review(current_user, booking.id, request.form, photos, now)
        else:
            review = services.edit_review(current_user, review.id, request.form, now)
            if photos:
                services.add_review_photos(current_user, review.id, photos, now)
    except ValidationFailed as error:
        db.session.rollback()
        review = services.review_of_booking(booking.id)
        errors = {key: str(value) for key, value in error.details.items()}
        if error.code != "validation_failed":
            errors.setdefault("photos", error.message)
        return _form_page(booking, review, dict(request.form), errors, 422)
    except Conflict as error:
        db.session.rollback()
        flash(error.message, "error")
        return redirect(url_for("bookings.detail", booking_id=booking.id))
    db.session.commit()
    if review.status == "flagged":
        flash(_("Thank you! Your review will appear once we have checked it."), "info")
    else:
        flash(_("Thank you for your review!"), "success")
    return redirect(url_for("trust_reviews.offering_reviews", offering_id=review.offering_id,
                            _anchor=f"review-{review.id}"))


def _act(action, review_id: int, success: str):
    review = services.get_review(current_user, review_id)
    back = _back(url_for("trust_reviews.offering_reviews", offering_id=review.offering_id,
                         _anchor=f"review-{review.id}"))
    try:
        action(review)
    except (Conflict, ValidationFailed, PermissionDenied) as error:
        db.session.rollback()
        details = "; ".join(str(v) for v in error.details.values() if isinstance(v, str))
        flash(f"{error.message} {details}".strip(), "error")
        return redirect(back)
    db.session.commit()
    flash(success, "success")
    return redirect(back)


@bp.post("/reviews/<int:review_id>/helpful")
@login_required
def helpful(review_id: int):
    return _act(lambda review: services.mark_helpful(current_user, review.id, clock.now()), review_id,
                _("Thanks for your vote."))


@bp.post("/reviews/<int:review_id>/report")
@login_required
def report(review_id: int):
    return _act(lambda review: services.report_review(current_user, review.id, request.form.get("reason"),
                                                      request.form.get("note", ""), clock.now()),
                review_id, _("Thank you: the report goes to the Onsite team."))


@bp.post("/reviews/<int:review_id>/reply")
@login_required
def reply(review_id: int):
    def answer(review):
        services.reply_to_review(current_user, review.id, request.form.get("body"), clock.now(),
                                 edit=review.reply_body is not None)

    return _act(answer, review_id, _("Your reply is published."))


@bp.get("/experiences/<int:offering_id>/reviews")
def offering_reviews(offering_id: int):
    offering = get_offering(current_user if current_user.is_authenticated else None, offering_id)
    return render_template("trust/reviews_page.html", subject=offering, title=offering.title,
                           target={"offering_id": offering.id}, zone=offering.store.timezone,
                           back=url_for("offerings.detail", offering_id=offering.id))


@bp.get("/stores/<int:store_id>/reviews")
def store_reviews(store_id: int):
    store = get_store(current_user if current_user.is_authenticated else None, store_id)
    return render_template("trust/reviews_page.html", subject=store, title=store.name,
                           target={"store_id": store.id}, zone=store.timezone,
                           back=url_for("merchants.store_page", store_id=store.id))


@bp.get("/merchant/reviews")
@login_required
def merchant():
    """The reviews of the stores the merchant owns or works at; ``unreplied=1`` for those to answer."""
    unreplied = request.args.get("unreplied") == "1"
    page = services.reviews_for_merchant(current_user, unreplied=unreplied, rating=_int_arg("rating", 1, 5),
                                         page=_int_arg("page", 1, 10_000) or 1, per_page=20)
    return render_template("trust/reviews_merchant.html", page=page, unreplied=unreplied,
                           rating=_int_arg("rating", 1, 5))

