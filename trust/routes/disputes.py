"""Dispute pages: "Report a problem" with a visit, the dispute's page for each side (the store's answer form,
the resident's withdraw / escalate / confirm, the operator's decision), the store's disputes, the operator's
queue, and the ledgers: "My compensation" for a resident and a business's ledger for its owner."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import clock
from app.errors import Conflict, PermissionDenied, ValidationFailed
from app.extensions import db
from app.merchants.services import get_store
from bookings.services import get_booking
from trust import services
from trust.api.disputes import opens_limit
from trust.models import DISPUTE_TEXT, MAX_DISPUTE_PHOTOS, CompensationEntry, DisputeAsk, DisputeReason
from trust.states import ASK_LABELS, LABELS, OFFER_LABELS, REASON_LABELS, MerchantOffer

bp = Blueprint("trust_disputes", __name__)


@bp.app_context_processor
def _labels() -> dict:
    return {"dispute_labels": LABELS, "dispute_reason_labels": REASON_LABELS, "dispute_ask_labels": ASK_LABELS,
            "dispute_offer_labels": OFFER_LABELS}


@bp.app_template_global()
def dispute_link(booking) -> dict | None:
    """For a booking's page: its dispute, or whether its resident may report a problem now (None: neither)."""
    if not current_user.is_authenticated:
        return None
    dispute = services.dispute_of_booking(booking)
    if dispute is not None:  # whoever sees the booking's page (its resident, the store's people) sees its dispute
        return {"dispute": dispute}
    window = services.dispute_window(booking) if booking.resident_id == current_user.id else None
    if window is not None and window.opens_at <= clock.now() <= window.closes_at:
        return {"dispute": None, "closes_at": window.closes_at}
    return None


def _uploads() -> list[tuple[str, bytes]]:
    return [(upload.filename or "", upload.read()) for upload in request.files.getlist("photos") if upload.filename]


def _problem(error: ValidationFailed) -> dict[str, str]:
    """Per-field messages for a form, from a refusal's details (a list or a sentence each)."""
    said = {key: (value if isinstance(value, str) else "; ".join(map(str, value)))
            for key, value in (error.details or {}).items() if isinstance(value, (str, list))}
    if not said or error.code != "validation_failed":  # not_overcharged, image_unreadable…: the sentence says it
        said["form"] = error.message
    return said


def _fail(error: Conflict | ValidationFailed, back: str):
    db.session.rollback()
    details = "; ".join(v for v in (error.details or {}).values() if isinstance(v, str))
    flash(f"{error.message} {details}".strip(), "error")
    return redirect(back)


# -- the resident opens a dispute ------------------------------------------------------------------------------

@bp.route("/bookings/<int:booking_id>/dispute", methods=["GET", "POST"])
@login_required
@opens_limit
def open_form(booking_id: int):
    booking = get_booking(current_user, booking_id)
    if booking.resident_id != current_user.id:
        raise PermissionDenied(_("Only the resident who booked can report a problem with this visit."))
    existing = services.dispute_of_booking(booking)
    if existing is not None:
        return redirect(url_for("trust_disputes.detail", dispute_id=existing.id))
    errors: dict[str, str] = {}
    values = request.form if request.method == "POST" else {}
    if request.method == "POST":
        data = {key: request.form.get(key, "") for key in ("reason", "description", "asks", "asked_amount")}
        try:
            dispute = services.open_dispute(current_user, booking.id, data, _uploads(), clock.now())
        except ValidationFailed as error:
            db.session.rollback()
            booking = get_booking(current_user, booking_id)
            errors = _problem(error)
        except Conflict as error:
            return _fail(error, url_for("bookings.detail", booking_id=booking_id))
        else:
            db.session.commit()
            flash(_("Your dispute is open. The store has 48 hours to answer; then Onsite decides."), "success")
            return redirect(url_for("trust_disputes.detail", dispute_id=dispute.id))
    window = services.dispute_window(booking)
    return render_template("trust/disputes_form.html", booking=booking, window=window, now=clock.now(),
                           zone=ZoneInfo(booking.store.timezone), errors=errors, values=values,
                           reasons=DisputeReason.ALL, asks=DisputeAsk.ALL, max_photos=MAX_DISPUTE_PHOTOS,
                           text_limits=DISPUTE_TEXT), 422 if errors else 200


# -- a dispute's page and its actions ----------------------------------------------------------------------------

def _detail_page(dispute, errors: dict | None = None, values=None, status: int = 200):
    now = clock.now()
    return render_template("trust/disputes_detail.html", dispute=dispute, zone=ZoneInfo(dispute.store.timezone),
                           now=now, actions=services.actions_for(current_user, dispute, now),
                           entries=services.dispute_entries(dispute), errors=errors or {}, values=values or {},
                           escalate_by=services.escalate_by(dispute),
                           offers=list(MerchantOffer), max_photos=MAX_DISPUTE_PHOTOS,
                           is_resident=dispute.resident_id == current_user.id,
                           is_store=services.is_merchant_side(current_user, dispute.store)), status


@bp.get("/disputes/<int:dispute_id>")
@login_required
def detail(dispute_id: int):
    return _detail_page(services.get_dispute(current_user, dispute_id))


@bp.post("/disputes/<int:dispute_id>/answer")
@login_required
def answer(dispute_id: int):
    data = {key: request.form.get(key, "") for key in ("action", "message", "offer", "amount")}
    try:
        services.answer_dispute(current_user, dispute_id, data, _uploads(), clock.now())
    except ValidationFailed as error:
        db.session.rollback()
        return _detail_page(services.get_dispute(current_user, dispute_id), _problem(error), request.form, 422)
    except Conflict as error:
        return _fail(error, url_for("trust_disputes.detail", dispute_id=dispute_id))
    db.session.commit()
    flash(_("Your answer is sent.") if data["action"] == "accept"
          else _("Your side is sent: Onsite's operator will decide."), "success")
    return redirect(url_for("trust_disputes.detail", dispute_id=dispute_id))


@bp.post("/disputes/<int:dispute_id>/photos")
@login_required
def add_photos(dispute_id: int):
    back = url_for("trust_disputes.detail", dispute_id=dispute_id)
    try:
        services.add_dispute_photos(current_user, dispute_id, _uploads(), clock.now())
    except (Conflict, ValidationFailed) as error:
        return _fail(error, back)
    db.session.commit()
    flash(_("Photos added."), "success")
    return redirect(back)


@bp.post("/disputes/<int:dispute_id>/<any(withdraw, escalate, confirm):action>")
@login_required
def resident_action(dispute_id: int, action: str):
    back = url_for("trust_disputes.detail", dispute_id=dispute_id)
    note, now = request.form.get("note", ""), clock.now()
    try:
        if action == "withdraw":
            services.withdraw_dispute(current_user, dispute_id, note, now)
        elif action == "escalate":
            services.escalate_dispute(current_user, dispute_id, note, now)
        else:
            services.confirm_received(current_user, dispute_id, now)
    except (Conflict, ValidationFailed) as error:
        return _fail(error, back)
    db.session.commit()
    flash({"withdraw": _("Dispute withdrawn."), "escalate": _("Sent to Onsite: the operator will decide."),
           "confirm": _("Thank you: the dispute is closed.")}[action], "success")
    return redirect(back)


@bp.post("/disputes/<int:dispute_id>/decide")
@login_required
def decide(dispute_id: int):
    data = {key: request.form.get(key, "") for key in ("outcome", "note", "compensation")}
    try:
        services.decide_dispute(current_user, dispute_id, data, clock.now())
    except ValidationFailed as error:
        db.session.rollback()
        return _detail_page(services.get_dispute(current_user, dispute_id), _problem(error), request.form, 422)
    except Conflict as error:
        return _fail(error, url_for("trust_disputes.detail", dispute_id=dispute_id))
    db.session.commit()
    flash(_("Decision recorded; both sides are told."), "success")
    return redirect(url_for("trust_disputes.operator"))



@bp.post("/operator/compensation/<int:compensation_id>/close")
@login_required
def close_compensation(compensation_id: int):
    """The operator settles or waives an owed ledger entry from its dispute's page (admins)."""
    try:
        entry = services.close_entry(current_user, compensation_id, request.form.get("action", ""),
                                     request.form.get("note", ""), clock.now())
    except (ValidationFailed, Conflict) as error:
        db.session.rollback()
        entry = db.session.get(CompensationEntry, compensation_id)
        back = url_for("trust_disputes.detail", dispute_id=entry.dispute_id) if entry and entry.dispute_id \
            else url_for("trust_disputes.operator")
        return _fail(error, back)
    db.session.commit()
    flash(_("Ledger entry marked %(status)s.", status=services.ENTRY_STATUS_LABELS[entry.status]), "success")
    return redirect(url_for("trust_disputes.detail", dispute_id=entry.dispute_id) if entry.dispute_id
                    else url_for("trust_disputes.operator"))

# -- lists and ledgers ------------------------------------------------------------------------------------------

@bp.get("/merchant/stores/<int:store_id>/disputes")
@login_required
def store_disputes(store_id: int):
    store = get_store(current_user, store_id)
    disputes = services.disputes_of_store(current_user, store)
    return render_template("trust/disputes_store.html", store=store, disputes=disputes,
                           zone=ZoneInfo(store.timezone), now=clock.now())


@bp.get("/operator/disputes")
@login_required
def operator():
    return render_template("trust/disputes_operator.html", disputes=services.escalated_disputes(current_user),
                           now=clock.now())


@bp.get("/me/compensation")
@login_required
def my_compensation():
    entries, balances = services.resident_ledger(current_user)
    return render_template("trust/disputes_ledger.html", entries=entries, balances=balances, business=None,
                           disputes=services.disputes_of_resident(current_user))


@bp.get("/merchant/businesses/<int:business_id>/ledger")
@login_required
def business_ledger(business_id: int):
    business, entries, balances = services.business_ledger(current_user, business_id)
    return render_template("trust/disputes_ledger.html", entries=entries, balances=balances, business=business,
                           disputes=None)
