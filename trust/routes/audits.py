"""The auditor's pages (issue 14): their mystery-shopper audits and each audit's checklist.

Only the assigned auditor sees an audit (anyone else gets 404). The auditor books like any resident; nothing
on the booking marks the audit, and these pages are the only place the two meet.
"""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required

from app import clock
from app.errors import Conflict, ValidationFailed
from app.extensions import db
from trust.routes.disputes import _problem, _uploads  # the form's photos and refusals, as the dispute forms'
from trust.services import audits as service

bp = Blueprint("trust_audits", __name__)

QUESTIONS = {"price_as_listed": _l("Price charged as listed"), "as_described": _l("Experience as described"),
             "duration_kept": _l("Duration kept"), "hygiene": _l("Hygiene"), "staff_courtesy": _l("Staff courtesy")}
STATUS_LABELS = {"scheduled": _l("scheduled"), "visited": _l("visited"), "passed": _l("passed"),
                 "failed": _l("failed")}


@bp.app_template_global()
def passed_audit_of(business_id: int):
    """The merchant's latest passed audit, for the public line on the store page."""
    return service.last_passed(business_id)


@bp.route("/audits")
@login_required
def mine():
    return render_template("trust/audits_list.html", audits=service.audits_of(current_user), labels=STATUS_LABELS)


def _answer(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


@bp.route("/audits/<int:audit_id>", methods=["GET", "POST"])
@login_required
def checklist(audit_id: int):
    audit = service.get_audit(current_user, audit_id)
    errors: dict[str, str] = {}
    values = request.form if request.method == "POST" else {}
    if request.method == "POST":
        answers = {key: _answer(request.form.get(key)) for key in service.CHECKLIST}
        raw_booking = request.form.get("booking_id", "")
        booking_id = int(raw_booking) if raw_booking.isdigit() and len(raw_booking) < 10 else None
        try:
            service.record_checklist(current_user, audit.id, answers, request.form.get("notes", ""), clock.now(),
                                     booking_id=booking_id, photos=_uploads())
        except ValidationFailed as error:
            db.session.rollback()
            audit = service.get_audit(current_user, audit_id)
            errors = _problem(error)
        except Conflict as error:
            db.session.rollback()
            flash(error.message, "error")
            return redirect(url_for("trust_audits.checklist", audit_id=audit_id))
        else:
            db.session.commit()
            flash(_("Checklist saved."), "success")
            return redirect(url_for("trust_audits.checklist", audit_id=audit_id))
    bookings = service.visits_for(audit)
    return render_template("trust/audits_checklist.html", audit=audit, questions=QUESTIONS, labels=STATUS_LABELS,
                           errors=errors, values=values, bookings=bookings), 422 if errors else 200
