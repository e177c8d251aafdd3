"""The operator's console in JSON (admins only; anyone else 403): merchants (search, one merchant's history,
verify, warn, suspend, reinstate), the queues with counts and age, reported reviews' decisions, the overview."""

from __future__ import annotations

from apiflask import APIBlueprint, Schema
from apiflask.fields import Boolean, Integer, List, Nested, String
from apiflask.validators import Length, OneOf

from app import clock
from app.auth.security import actor, api_auth
from app.extensions import db
from app.merchants.models import Business
from trust import services
from trust.models_admin import AdminAuditEntry

bp = APIBlueprint("admin_api", __name__, url_prefix="/api/v1/admin", tag="Operator")

READ_ERRORS = {401: "unauthenticated", 403: "forbidden"}
WRITE_ERRORS = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 422: "validation_failed"}


class AdminMerchantQuery(Schema):
    q = String(load_default="", validate=Length(max=120), metadata={"description": "Part of the business's name."})
    status = String(load_default=None, validate=OneOf(["active", "suspended"]))


class AdminReasonIn(Schema):
    reason = String(required=True, validate=Length(max=600), metadata={
        "description": "Why (2-500 characters): the merchant's owner is told it."})


class AdminVerifyIn(Schema):
    note = String(required=True, validate=Length(max=600), metadata={
        "description": "The verification note shown with the badge (2-500 characters)."})
    verified = Boolean(load_default=True, metadata={"description": "false takes the badge away."})


class AdminReportDecisionIn(Schema):
    decision = String(required=True, validate=OneOf(list(services.REPORT_DECISIONS)), metadata={"description": (
        "`hide` the review, `keep` it, or hide it as a strike on its author or on its merchant (a merchant "
        "strike counts as a review-fraud strike in the integrity score).")})
    note = String(load_default="", validate=Length(max=600))


class AdminMerchantOut(Schema):
    id = Integer()
    name = String()
    status = String()
    is_verified = Boolean()
    verified_at = String(allow_none=True)
    verification_note = String()
    suspended_at = String(allow_none=True)
    suspension_reason = String()
    score = Integer(allow_none=True)


class AdminMerchantItemOut(AdminMerchantOut):
    """A merchant inside a list or a history (its own schema so the document names each once)."""


class AdminMerchantList(Schema):
    items = List(Nested(AdminMerchantItemOut))


class AdminAuditOut(Schema):
    id = Integer()
    action = String()
    actor_id = Integer(allow_none=True)
    business_id = Integer(allow_none=True)
    review_id = Integer(allow_none=True)
    dispute_id = Integer(allow_none=True)
    reason = String()
    details = String(metadata={"description": "The action's facts as JSON text."})
    created_at = String()


class AdminWeekOut(Schema):
    week = String()
    score = Integer(allow_none=True)


class AdminMerchantHistoryOut(Schema):
    merchant = Nested(AdminMerchantItemOut)
    audit = List(Nested(AdminAuditOut))
    dispute_ids = List(Integer())
    report_ids = List(Integer())
    weeks = List(Nested(AdminWeekOut))


class AdminQueueOut(Schema):
    count = Integer()
    oldest = String(allow_none=True)


class AdminQueuesOut(Schema):
    disputes = Nested(AdminQueueOut)
    reports = Nested(AdminQueueOut)
    flagged = Nested(AdminQueueOut)


class AdminFiguresOut(Schema):
    bookings = Integer()
    visits = Integer()
    disputes = Integer()
    decided = Integer()
    upheld = Integer()
    upheld_rate = String(allow_none=True, metadata={"description": "Percent of decisions that upheld, or null."})


class AdminLowestOut(Schema):
    id = Integer()
    name = String()
    score = Integer()


class AdminOverviewOut(Schema):
    today = Nested(AdminFiguresOut)
    days30 = Nested(AdminFiguresOut)
    lowest = List(Nested(AdminLowestOut))


class AdminReportOut(Schema):
    id = Integer()
    review_id = Integer()
    status = String()


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def merchant_json(business: Business, score: int | None = None) -> dict:
    return {"id": business.id, "name": business.name, "status": business.status, "is_verified": business.is_verified,
            "verified_at": _iso(business.verified_at), "verification_note": business.verification_note,
            "suspended_at": _iso(business.suspended_at), "suspension_reason": business.suspension_reason,
            "score": score}


def audit_json(entry: AdminAuditEntry) -> dict:
    import json

    return {"id": entry.id, "action": entry.action, "actor_id": entry.actor_id, "business_id": entry.business_id,
            "review_id": entry.review_id, "dispute_id": entry.dispute_id, "reason": entry.reason,
            "details": json.dumps(entry.details or {}), "created_at": entry.created_at.isoformat()}


def _merchant(business_id: int) -> dict:
    db.session.commit()
    return merchant_json(db.session.get(Business, business_id))


@bp.get("/merchants")
@bp.auth_required(api_auth)
@bp.input(AdminMerchantQuery, location="query", arg_name="query")
@bp.output(AdminMerchantList)
@bp.doc(responses=READ_ERRORS)
def merchants(query):
    """Search merchants (businesses) by name, with their integrity score (null while new)."""
    rows = services.search_merchants(actor(), query["q"], status=query["status"])
    return {"items": [merchant_json(row.business, row.score) for row in rows]}


@bp.get("/merchants/<int:business_id>")
@bp.auth_required(api_auth)
@bp.output(AdminMerchantHistoryOut)
@bp.doc(responses={**READ_ERRORS, 404: "not_found"})
def merchant(business_id: int):
    """One merchant's whole history: console actions (warnings among them), disputes, reported reviews,
    the score per week."""
    history = services.merchant_history(actor(), business_id)
    integrity = history["integrity"]
    return {"merchant": merchant_json(history["business"], integrity.score if integrity else None),
            "audit": [audit_json(entry) for entry in history["audit"]],
            "dispute_ids": [d.id for d in history["disputes"]], "report_ids": [r.id for r in history["reports"]],
            "weeks": [{"week": w.week.isoformat(), "score": w.score} for w in history["weeks"]]}


@bp.post("/merchants/<int:business_id>/verify")
@bp.auth_required(api_auth)
@bp.input(AdminVerifyIn, arg_name="body")
@bp.output(AdminMerchantOut)
@bp.doc(responses=WRITE_ERRORS)
def verify(business_id: int, body):
    """Give the merchant the public verified badge with a note (or take it away with `verified: false`)."""
    services.verify_merchant(actor(), business_id, body["note"], clock.now(), verified=body["verified"])
    return _merchant(business_id)


@bp.post("/merchants/<int:business_id>/warn")
@bp.auth_required(api_auth)
@bp.input(AdminReasonIn, arg_name="body")
@bp.output(AdminMerchantOut)
@bp.doc(responses=WRITE_ERRORS)
def warn(business_id: int, body):
    """Warn the merchant: its owner gets the reason in the inbox and by e-mail."""
    services.warn_merchant(actor(), business_id, body["reason"], clock.now())
    return _merchant(business_id)


@bp.post("/merchants/<int:business_id>/suspend")
@bp.auth_required(api_auth)
@bp.input(AdminReasonIn, arg_name="body")
@bp.output(AdminMerchantOut)
@bp.doc(responses={**WRITE_ERRORS, 409: "already_suspended"})
def suspend(business_id: int, body):
    """Suspend the merchant: its stores and experiences leave every listing and page, booking them answers
    409 `slot_closed`, and its future bookings are cancelled, each resident told the reason."""
    services.suspend_merchant(actor(), business_id, body["reason"], clock.now())
    return _merchant(business_id)


@bp.post("/merchants/<int:business_id>/reinstate")
@bp.auth_required(api_auth)
@bp.input(AdminReasonIn, arg_name="body")
@bp.output(AdminMerchantOut)
@bp.doc(responses={**WRITE_ERRORS, 409: "not_suspended"})
def reinstate(business_id: int, body):
    """List a suspended merchant again. Bookings its suspension cancelled stay cancelled."""
    services.reinstate_merchant(actor(), business_id, body["reason"], clock.now())
    return _merchant(business_id)


@bp.get("/queues")
@bp.auth_required(api_auth)
@bp.output(AdminQueuesOut)
@bp.doc(responses=READ_ERRORS)
def queues():
    """How many escalated disputes, open review reports and held (flagged) reviews wait, and since when."""
    return {key: {"count": queue.count, "oldest": _iso(queue.oldest)}
            for key, queue in services.queues(actor()).items()}


@bp.post("/review-reports/<int:report_id>/decide")
@bp.auth_required(api_auth)
@bp.input(AdminReportDecisionIn, arg_name="body")
@bp.output(AdminReportOut)
@bp.doc(responses={**WRITE_ERRORS, 409: "report_decided"})
def decide_report(report_id: int, body):
    """Decide a reported review (every open report of the same review is decided with it)."""
    report = services.decide_report(actor(), report_id, body["decision"], body["note"], clock.now())
    db.session.commit()
    return {"id": report.id, "review_id": report.review_id, "status": report.status}


@bp.get("/overview")
@bp.auth_required(api_auth)
@bp.output(AdminOverviewOut)
@bp.doc(responses=READ_ERRORS)
def overview():
    """Bookings, visits, disputes and the upheld rate today (Asia/Shanghai) and over 30 days; the lowest
    scores."""
    figures = services.overview(actor(), clock.now())
    for key in ("today", "days30"):
        rate = figures[key]["upheld_rate"]
        figures[key] = {**figures[key], "upheld_rate": None if rate is None else str(rate)}
    return {"today": figures["today"], "days30": figures["days30"],
            "lowest": [{"id": row["business"].id, "name": row["business"].name, "score": row["score"]}
                       for row in figures["lowest"]]}
