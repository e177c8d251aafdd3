"""Favourites endpoints: save/unsave an experience, follow/unfollow a store (PUT/DELETE, idempotent), and a
resident's own lists (private: anyone else gets 404), and "tell me when a seat frees" requests (PUT/DELETE)."""

from __future__ import annotations

from apiflask import APIBlueprint, Schema
from apiflask.fields import DateTime, Integer, List, Nested, String

from app import clock
from app.auth.security import actor, api_auth
from app.errors import NotFound
from app.extensions import db
from app.favourites import services

bp = APIBlueprint("favourites_api", __name__, url_prefix="/api/v1", tag="Favourites")

ERRORS = {401: "unauthenticated", 404: "not_found"}


class SavedOut(Schema):
    offering_id = Integer()
    title = String()
    store_id = Integer()
    saved_at = DateTime()


class FollowOut(Schema):
    store_id = Integer()
    name = String()
    followed_at = DateTime()


class FavouritesOut(Schema):
    saved_experiences = List(Nested(SavedOut))
    followed_stores = List(Nested(FollowOut))


def favourites_json(user) -> dict:
    return {
        "saved_experiences": [{"offering_id": s.offering_id, "title": s.offering.title,
                               "store_id": s.offering.store_id, "saved_at": s.created_at}
                              for s in services.saved_experiences(user)],
        "followed_stores": [{"store_id": f.store_id, "name": f.store.name, "followed_at": f.created_at}
                            for f in services.followed_stores(user)],
    }


@bp.get("/residents/<int:resident_id>/favourites")
@bp.auth_required(api_auth)
@bp.output(FavouritesOut)
@bp.doc(responses=ERRORS)
def favourites(resident_id: int):
    """Your saved experiences and followed stores (private: another resident's answer 404)."""
    if actor().id != resident_id:
        raise NotFound()
    return favourites_json(actor())


@bp.put("/saved-experiences/<int:offering_id>")
@bp.auth_required(api_auth)
@bp.output({}, status_code=204)
@bp.doc(responses=ERRORS)
def save(offering_id: int):
    """Save an experience (saving again changes nothing)."""
    services.save_experience(actor(), offering_id, clock.now())
    db.session.commit()
    return ""


@bp.delete("/saved-experiences/<int:offering_id>")
@bp.auth_required(api_auth)
@bp.output({}, status_code=204)
@bp.doc(responses={401: "unauthenticated"})
def unsave(offering_id: int):
    """Forget a saved experience (idempotent)."""
    services.unsave_experience(actor(), offering_id)
    db.session.commit()
    return ""


@bp.put("/followed-stores/<int:store_id>")
@bp.auth_required(api_auth)
@bp.output({}, status_code=204)
@bp.doc(responses=ERRORS)
def follow(store_id: int):
    """Follow a store (following again changes nothing)."""
    services.follow_store(actor(), store_id, clock.now())
    db.session.commit()
    return ""


@bp.delete("/followed-stores/<int:store_id>")
@bp.auth_required(api_auth)
@bp.output({}, status_code=204)
@bp.doc(responses={401: "unauthenticated"})
def unfollow(store_id: int):
    """Stop following a store (idempotent)."""
    services.unfollow_store(actor(), store_id)
    db.session.commit()
    return ""


class SeatRequestOut(Schema):
    offering_id = Integer()
    asked_at = DateTime()


@bp.put("/seat-requests/<int:offering_id>")
@bp.auth_required(api_auth)
@bp.output(SeatRequestOut)
@bp.doc(responses={**ERRORS, 409: "seats_free"})
def ask_for_seat(offering_id: int):
    """"Tell me when a seat frees": for an experience with nothing to book in the next 14 days. One inbox notice
    (and e-mail) arrives when a seat can be booked; asking again keeps one request. 409 ``seats_free`` when a seat
    is free now."""
    interest = services.ask_for_seat(actor(), offering_id, clock.now())
    db.session.commit()
    return {"offering_id": interest.offering_id, "asked_at": interest.created_at}


@bp.delete("/seat-requests/<int:offering_id>")
@bp.auth_required(api_auth)
@bp.output({}, status_code=204)
@bp.doc(responses={401: "unauthenticated"})
def withdraw_seat_request(offering_id: int):
    """Withdraw a seat request (idempotent)."""
    services.withdraw_seat_request(actor(), offering_id)
    db.session.commit()
    return ""
