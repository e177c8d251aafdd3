"""The operator's console in JSON (admins only; anyone else 403): merchants (search, one merchant's history,
verify, warn, suspend, reinstate), the queues with counts and age, reported reviews' decisions, the overview."""

from __future__ import annotations

from apiflask import APIBlueprint, Schema
from apiflask.fields import Boolean, Dict, Integer, List, Nested, String
from apiflask.validators import Length, OneOf

from app import clock
from app.auth.security import actor, api_auth
from app.extensions import db
from app.merchants.models import Business
from trust import services
from trust.services import audits as audit_service

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


class MysteryAuditOut(Schema):
    id = Integer()
    business_id = Integer()
    store_id = Integer()
    auditor_id = Integer()
    quarter = String()
    status = String(metadata={"description": "scheduled, visited, passed or failed."})
    checklist = Dict(metadata={"description": "Each question's answer (true = yes), once filled."})
    notes = String()
    created_at = String()
    decided_at = String(allow_none=True)
    case_closed_at = String(allow_none=True, metadata={"description": "A failed audit's case: null while open."})
    case_note = String()


class MysteryAuditItemOut(MysteryAuditOut):
    """An audit in a list (its own class: apispec registers a schema class once, as one name)."""


class MysteryAuditList(Schema):
    items = List(Nested(MysteryAuditItemOut))


class AdminAuditQuery(Schema):
    status = String(load_default=None, validate=OneOf(audit_service.STATUSES))


class AdminAuditScheduleIn(Schema):
    n = Integer(required=True, metadata={"description": "How many merchants to draw (1-50)."})
    quarter = String(required=True, validate=Length(max=6), metadata={"description": "e.g. 2026Q4."})


class AdminNoteIn(Schema):
    note = String(required=True, validate=Length(max=500))


class AdminMerchantHistoryOut(Schema):
    merchant = Nested(AdminMerchantItemOut)
    audit = List(Nested(AdminAuditOut))
    dispute_ids = List(Integer())
    report_ids = List(Integer())
    audits = List(Nested(MysteryAuditItemOut), metadata={"description": "Its mystery-shopper audits, newest first."})
    weeks = List(Nested(AdminWeekOut))


class AdminQueueOut(Schema):
    count = Integer()
    oldest = String(allow_none=True)


class AdminQueuesOut(Schema):
    disputes = Nested(AdminQueueOut)
    reports = Nested(AdminQueueOut)
    flagged = Nested(AdminQueueOut)
    audits_due = Nested(AdminQueueOut, metadata={"description": "Scheduled or visited audits not yet filled in."})
    failed_audits = Nested(AdminQueueOut, metadata={"description": "Failed audits whose case is open."})


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


def audit_json(entry) -> dict:
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
            "audits": [mystery_audit_json(a) for a in history["audits"]],
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


def mystery_audit_json(audit) -> dict:
    return {"id": audit.id, "business_id": audit.business_id, "store_id": audit.store_id,
            "auditor_id": audit.auditor_id, "quarter": audit.quarter, "status": audit.status,
            "checklist": audit.checklist, "notes": audit.notes, "created_at": _iso(audit.created_at),
            "decided_at": _iso(audit.decided_at), "case_closed_at": _iso(audit.case_closed_at),
            "case_note": audit.case_note}


@bp.get("/audits")
@bp.auth_required(api_auth)
@bp.input(AdminAuditQuery, location="query", arg_name="query")
@bp.output(MysteryAuditList)
@bp.doc(responses=READ_ERRORS)
def audits(query):
    """Mystery-shopper audits, newest first (optionally one status)."""
    return {"items": [mystery_audit_json(a) for a in audit_service.console_audit_list(actor(), query["status"])]}


@bp.post("/audits")
@bp.auth_required(api_auth)
@bp.input(AdminAuditScheduleIn, arg_name="body")
@bp.output(MysteryAuditList, status_code=201)
@bp.doc(responses={**WRITE_ERRORS, 409: "no_eligible_auditor"})
def schedule_audits(body):
    """Schedule `n` audits for a quarter: merchants drawn by risk-weighted sampling, each given to an auditor not
    linked to it (all or nothing)."""
    made = audit_service.schedule(actor(), body["n"], body["quarter"], clock.now())
    db.session.commit()
    return {"items": [mystery_audit_json(a) for a in made]}


@bp.post("/audits/<int:audit_id>/close")
@bp.auth_required(api_auth)
@bp.input(AdminNoteIn, arg_name="body")
@bp.output(MysteryAuditOut)
@bp.doc(responses={**WRITE_ERRORS, 409: "audit_case_closed"})
def close_audit_case(audit_id: int, body):
    """Close a failed audit's case with what was done (2-500 characters); logged in the merchant's history."""
    audit = audit_service.close_case(actor(), audit_id, body["note"], clock.now())
    db.session.commit()
    return mystery_audit_json(audit)


@bp.get("/queues")
@bp.auth_required(api_auth)
@bp.output(AdminQueuesOut)
@bp.doc(responses=READ_ERRORS)
def queues():
    """How many escalated disputes, open review reports, held (flagged) reviews, audits due and failed audits'
    open cases wait, and since when."""
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
