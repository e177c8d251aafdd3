"""Favourites pages: the heart and follow buttons as plain form POSTs (CSRF; anonymous users log in and come
back), and the resident's "Saved" page."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import login_required

from app import clock
from app.auth.security import actor
from app.extensions import db
from app.favourites import services
from app.redirects import safe_next

bp = Blueprint("favourites", __name__)


@bp.app_template_global()
def favourite_saved(offering_id: int) -> bool:
    """Whether the signed-in resident saved this experience (the heart's state)."""
    return services.is_saved(actor(), offering_id)


@bp.app_template_global()
def favourite_saved_ids() -> list[int]:
    """The signed-in resident's saved experiences' ids (the explore page's hearts); empty when anonymous."""
    user = actor()
    return [] if user is None else services.saved_ids(user)


@bp.app_template_global()
def favourite_follower_count(store_id: int) -> int:
    """How many residents follow the store (shown to its people)."""
    return services.follower_counts([store_id]).get(store_id, 0)


@bp.app_template_global()
def favourite_followed(store_id: int) -> bool:
    """Whether the signed-in resident follows this store."""
    return services.is_following(actor(), store_id)


def _toggle(default: str, is_on, turn_on, turn_off):
    """The heart and follow forms: anonymous visitors log in and come back; else flip the state and go back."""
    if actor() is None:
        return redirect(url_for("auth.login", next=safe_next(request.form.get("next"), default)))
    if is_on(actor()):
        turn_off(actor())
    else:
        turn_on(actor())
    db.session.commit()
    return redirect(safe_next(request.form.get("next"), default))


@bp.post("/experiences/<int:offering_id>/save")
def toggle_saved(offering_id: int):
    """Save the experience, or forget it when already saved."""
    return _toggle(url_for("offerings.detail", offering_id=offering_id),
                   lambda user: services.is_saved(user, offering_id),
                   lambda user: services.save_experience(user, offering_id, clock.now()),
                   lambda user: services.unsave_experience(user, offering_id))


@bp.post("/stores/<int:store_id>/follow")
def toggle_follow(store_id: int):
    """Follow the store, or stop following it when already followed."""
    return _toggle(url_for("merchants.store_page", store_id=store_id),
                   lambda user: services.is_following(user, store_id),
                   lambda user: services.follow_store(user, store_id, clock.now()),
                   lambda user: services.unfollow_store(user, store_id))


@bp.post("/experiences/<int:offering_id>/seat-request")
def toggle_seat_request(offering_id: int):
    """Ask to be told when a seat frees, or withdraw the request when already asked."""
    return _toggle(url_for("favourites.saved"),
                   lambda user: offering_id in services.seat_requests_of(user),
                   lambda user: services.ask_for_seat(user, offering_id, clock.now()),
                   lambda user: services.withdraw_seat_request(user, offering_id))


@bp.get("/saved")
@login_required
def saved():
    """The resident's saved experiences and followed stores."""
    return render_template("favourites/saved.html", saved=services.saved_with_slots(actor(), clock.now()),
                           follows=services.followed_stores(actor()))
