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
def favourite_follower_count(store_id: int) -> int:
    """How many residents follow the store (shown to its people)."""
    return services.follower_counts([store_id]).get(store_id, 0)


@bp.app_template_global()
def favourite_followed(store_id: int) -> bool:
    """Whether the signed-in resident follows this store."""
    return services.is_following(actor(), store_id)


def _back(default: str):
    return redirect(safe_next(request.form.get("next"), default))


def _login(default: str):
    return redirect(url_for("auth.login", next=safe_next(request.form.get("next"), default)))


@bp.post("/experiences/<int:offering_id>/save")
def toggle_saved(offering_id: int):
    """Save the experience, or forget it when already saved."""
    default = url_for("offerings.detail", offering_id=offering_id)
    if actor() is None:
        return _login(default)
    if services.is_saved(actor(), offering_id):
        services.unsave_experience(actor(), offering_id)
    else:
        services.save_experience(actor(), offering_id, clock.now())
    db.session.commit()
    return _back(default)


@bp.post("/stores/<int:store_id>/follow")
def toggle_follow(store_id: int):
    """Follow the store, or stop following it when already followed."""
    default = url_for("merchants.store_page", store_id=store_id)
    if actor() is None:
        return _login(default)
    if services.is_following(actor(), store_id):
        services.unfollow_store(actor(), store_id)
    else:
        services.follow_store(actor(), store_id, clock.now())
    db.session.commit()
    return _back(default)


@bp.get("/saved")
@login_required
def saved():
    """The resident's saved experiences and followed stores."""
    return render_template("favourites/saved.html", saved=services.saved_with_slots(actor(), clock.now()),
                           follows=services.followed_stores(actor()))
