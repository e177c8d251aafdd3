"""The auditor's mystery-shopper audits (JSON): their own audits, and the checklist once they have visited.

Only the assigned auditor sees an audit; anyone else gets 404, as on the pages (trust/routes/audits.py).
"""

from __future__ import annotations

from apiflask import APIBlueprint, Schema
from apiflask.fields import Boolean, Dict, Integer, List, Nested, String
from apiflask.validators import Length

from app import clock
from app.auth.security import actor, api_auth
from app.extensions import db
from trust.services import audits as service

bp = APIBlueprint("trust_audits_api", __name__, url_prefix="/api/v1", tag="Audits")


class AuditOut(Schema):
    id = Integer()
    store_id = Integer()
    quarter = String()
    status = String(metadata={"description": "scheduled, visited (checked in at the merchant), passed or failed."})
    checklist = Dict(keys=String(), values=Boolean())
    notes = String()
    booking_id = Integer(allow_none=True, metadata={"description": "The visit the checklist was filed against."})
    visit_ids = List(Integer(), metadata={"description": "Your checked-in visits to the merchant since the audit "
                                                         "was scheduled: the checklist can be filed against one."})


class AuditItemOut(AuditOut):
    """An audit in a list (its own class: apispec registers a schema class once, as one name)."""


class AuditList(Schema):
    items = List(Nested(AuditItemOut))


class ChecklistAnswers(Schema):
    """true (yes) or false (no) for each question: all yes passes, any no fails."""

    price_as_listed = Boolean(required=True)
    as_described = Boolean(required=True)
    duration_kept = Boolean(required=True)
    hygiene = Boolean(required=True)
    staff_courtesy = Boolean(required=True)


assert tuple(ChecklistAnswers._declared_fields) == service.CHECKLIST  # noqa: S101 - one list of questions


class ChecklistIn(Schema):
    answers = Nested(ChecklistAnswers, required=True)
    notes = String(load_default="", validate=Length(max=service.NOTES_MAX))
    booking_id = Integer(load_default=None, allow_none=True, metadata={
        "description": "One of visit_ids (default: the latest)."})


def audit_json(audit) -> dict:
    return {"id": audit.id, "store_id": audit.store_id, "quarter": audit.quarter, "status": audit.status,
            "checklist": audit.checklist, "notes": audit.notes, "booking_id": audit.booking_id,
            "visit_ids": [b.id for b in service.visits_for(audit)] if audit.status in ("scheduled", "visited")
            else []}


@bp.get("/audits")
@bp.auth_required(api_auth)
@bp.output(AuditList)
@bp.doc(responses={401: "unauthenticated"})
def mine():
    """Your audits (auditors only; anyone else's list is empty), open ones first."""
    return {"items": [audit_json(a) for a in service.audits_of(actor())]}


@bp.get("/audits/<int:audit_id>")
@bp.auth_required(api_auth)
@bp.output(AuditOut)
@bp.doc(responses={401: "unauthenticated", 404: "not_found"})
def one(audit_id: int):
    """One of your audits."""
    return audit_json(service.get_audit(actor(), audit_id))


@bp.post("/audits/<int:audit_id>/checklist")
@bp.auth_required(api_auth)
@bp.input(ChecklistIn, arg_name="body")
@bp.output(AuditOut)
@bp.doc(responses={401: "unauthenticated", 404: "not_found", 409: "audit_not_visited", 422: "validation_failed"})
def checklist(audit_id: int, body):
    """File the checklist once your visit is checked in: all yes passes; any no fails and opens a case for the
    operator. Filed once (409 `audit_decided` after)."""
    audit = service.record_checklist(actor(), audit_id, body["answers"], body["notes"], clock.now(),
                                     booking_id=body["booking_id"])
    db.session.commit()
    return audit_json(audit)
