"""The public integrity score of a merchant (JSON): the score (or "new"), its parts with their weights and
one-line reasons, and its weekly history."""

from __future__ import annotations

from apiflask import APIBlueprint, Schema
from apiflask.fields import Date, DateTime, Dict, Float, Integer, List, Nested, String
from flask_babel import gettext as _

from app.auth.security import actor
from app.errors import NotFound
from app.merchants.models import BusinessStatus
from app.merchants.services import get_business, is_owner
from trust import services

bp = APIBlueprint("trust_integrity_api", __name__, url_prefix="/api/v1", tag="Integrity")


class PartOut(Schema):
    key = String(metadata={"description": "disputes, no_shows, cancellations, reviews, response_time, "
                                          "review_fraud or audits (trust/score.py)."})
    label = String(metadata={"description": "The part's name, in the request's language."})
    weight = Integer(metadata={"description": "Its weight: the most it adds to the score."})
    score = Float(metadata={"description": "The part itself, 0-100."})
    points = Float(metadata={"description": "What it adds to the score: weight x score / 100."})
    reason = String(metadata={"description": "One line, e.g. \"2 upheld disputes in 90 days (0.8% of visits)\"."})
    data = Dict(metadata={"description": "The figures the reason is written from."})


class MoveOut(Schema):
    key = String()
    label = String()
    delta = Float(metadata={"description": "Points the part gained (+) or lost (-) since the week before."})
    reason = String()


class WeekOut(Schema):
    week = Date(metadata={"description": "The Monday of the ISO week (UTC)."})
    score = Integer(allow_none=True)
    moves = List(Nested(MoveOut))


class IntegrityOut(Schema):
    business_id = Integer()
    score = Integer(allow_none=True, metadata={"description": "0-100; null while the merchant is new."})
    status = String(metadata={"description": "scored, or new (fewer than min_visits visits in the window)."})
    level = String(metadata={"description": "good, warned (below INTEGRITY_WARN_BELOW), low (below "
                                            "INTEGRITY_HIDE_BELOW: out of \"Best match\") or new."})
    visits = Integer(metadata={"description": "Checked-in visits in the window."})
    min_visits = Integer()
    window_days = Integer()
    computed_at = DateTime(allow_none=True)
    parts = List(Nested(PartOut))
    history = List(Nested(WeekOut))


@bp.get("/businesses/<int:business_id>/integrity")
@bp.output(IntegrityOut)
@bp.doc(responses={404: "not_found"})
def business_integrity(business_id: int):
    """A merchant's public integrity score: its parts with weights and reasons over the last 90 days, and the
    score per week (26 weeks). Anyone may read it; a suspended merchant's only its owner and admins."""
    business = get_business(actor(), business_id)
    if business.status != BusinessStatus.ACTIVE and not is_owner(actor(), business):
        raise NotFound(_("No such business."))
    data = services.integrity_of(business.id).as_json()
    data["history"] = services.integrity_history(business.id)
    return data
