"""The operator's console pages (/admin, admins only): the overview, merchants (search, one merchant's
history with verify / warn / suspend / reinstate), and the queues (escalated disputes, reported reviews,
held review bursts). Each page parses, calls one verb of trust.services, commits and renders."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from app import clock
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from trust import services
from trust.routes.audits import QUESTIONS
from trust.routes.disputes import _fail  # roll back, flash the refusal, go back: as the dispute pages do
from trust.services.moderation import flagged_reviews

bp = Blueprint("admin", __name__, url_prefix="/admin")


def admin_page(view):
    """Log in first (anonymous: the login page), then admins only (anyone else: 403). Not a before_request:
    APIFlask reads every blueprint's before_request functions when it builds /openapi.json."""

    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        services.require_admin(current_user)
        return view(*args, **kwargs)

    return wrapped


@bp.get("")
@admin_page
def overview():
    return render_template("admin/overview.html", admin_section="overview", now=clock.now(),
                           figures=services.overview(current_user, clock.now()),
                           queues=services.queues(current_user))


@bp.get("/merchants")
@admin_page
def merchants():
    q, status = request.args.get("q", ""), request.args.get("status") or None
    return render_template("admin/merchants.html", admin_section="merchants", q=q, status=status,
                           rows=services.search_merchants(current_user, q, status=status))


@bp.get("/merchants/<int:business_id>")
@admin_page
def merchant(business_id: int):
    return render_template("admin/merchant.html", admin_section="merchants", now=clock.now(),
                           history=services.merchant_history(current_user, business_id))


@bp.post("/merchants/<int:business_id>/<any(verify, unverify, warn, suspend, reinstate):action>")
@admin_page
def merchant_action(business_id: int, action: str):
    back = url_for("admin.merchant", business_id=business_id)
    reason, now = request.form.get("reason", ""), clock.now()
    try:
        if action in ("verify", "unverify"):
            services.verify_merchant(current_user, business_id, reason, now, verified=action == "verify")
        else:
            verb = {"warn": services.warn_merchant, "suspend": services.suspend_merchant,
                    "reinstate": services.reinstate_merchant}[action]
            verb(current_user, business_id, reason, now)
    except (ValidationFailed, Conflict) as error:
        return _fail(error, back)
    db.session.commit()
    flash({"verify": _("Verified."), "unverify": _("Verification removed."), "warn": _("Warning sent."),
           "suspend": _("Suspended: its stores and experiences are hidden and its future bookings cancelled."),
           "reinstate": _("Reinstated: listed again. Bookings cancelled by the suspension stay cancelled.")}[action],
          "success")
    return redirect(back)


@bp.get("/queues")
@admin_page
def queues():
    return render_template("admin/queues.html", admin_section="queues", now=clock.now(),
                           queues=services.queues(current_user),
                           disputes=services.escalated_disputes(current_user, limit=50),
                           reports=services.open_reports(limit=100), flagged=flagged_reviews(current_user))


@bp.get("/audits")
@admin_page
def audits():
    from trust.services import audits as audit_service  # mystery-shopper audits (issue 14)

    return render_template("admin/audits.html", admin_section="audits", now=clock.now(),
                           rows=audit_service.console_audits(current_user), questions=QUESTIONS,
                           quarter=audit_service.quarter_of(clock.now()))


@bp.post("/audits")
@admin_page
def schedule_audits():
    from trust.services import audits as audit_service

    back = url_for("admin.audits")
    raw = request.form.get("n", "")
    try:
        made = audit_service.schedule(current_user, int(raw) if raw.isdigit() and len(raw) < 4 else raw,
                                      request.form.get("quarter", ""), clock.now())
    except (ValidationFailed, Conflict, audit_service.NoEligibleAuditor) as error:
        return _fail(error, back)
    db.session.commit()
    flash(ngettext("%(num)d audit scheduled.", "%(num)d audits scheduled.", len(made)), "success")
    return redirect(back)


@bp.post("/audits/<int:audit_id>/close")
@admin_page
def close_audit_case(audit_id: int):
    from trust.services import audits as audit_service

    back = url_for("admin.audits")
    try:
        audit_service.close_case(current_user, audit_id, request.form.get("note", ""), clock.now())
    except (ValidationFailed, Conflict, NotFound) as error:
        return _fail(error, back)
    db.session.commit()
    flash(_("Case closed."), "success")
    return redirect(back)


@bp.post("/review-reports/<int:report_id>")
@admin_page
def decide_report(report_id: int):
    back = url_for("admin.queues")
    try:
        services.decide_report(current_user, report_id, request.form.get("decision"), request.form.get("note", ""),
                               clock.now())
    except (ValidationFailed, Conflict) as error:
        return _fail(error, back)
    db.session.commit()
    flash(_("Report decided."), "success")
    return redirect(back)
