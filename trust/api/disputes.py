"""Dispute endpoints: open a dispute on a visit (JSON) and add its photos (multipart), read one, the
resident's and the store's lists, the store's answer, the resident's withdrawal, escalation and
confirmation, the operator's queue and decision, and the compensation ledger of a resident or a business."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from apiflask import APIBlueprint, Schema
from apiflask.fields import File, Integer, List, Nested, String
from apiflask.validators import Length, OneOf
from flask import current_app, request

from app import clock
from app.auth.security import actor, api_auth
from app.extensions import db, limiter
from app.fields import Amount, Flag, amount_schema
from app.media.routes import allow_photo_uploads
from app.media.services import picture
from app.merchants.services import get_store
from trust import services
from trust.models import DISPUTE_TEXT, MAX_DISPUTE_PHOTOS, CompensationEntry, Dispute, DisputeAsk, DisputeReason
from trust.states import LABELS, REASON_LABELS, MerchantOffer

bp = APIBlueprint("trust_disputes_api", __name__, url_prefix="/api/v1", tag="Disputes")

WRITE_ERRORS = {401: "unauthenticated", 403: "forbidden", 404: "not_found", 422: "validation_failed"}


class DisputeIn(Schema):
    reason = String(required=True, validate=OneOf(list(DisputeReason.ALL)), metadata={"description": (
        "`charged_more_than_listed` needs a payment recorded at the store above price x party "
        "(else 422 `not_overcharged`); `wrongly_marked_no_show` a booking the store marked a no-show, "
        "`merchant_cancelled_late` one it cancelled or declined (else 422 `reason_not_applicable`).")})
    description = String(required=True, validate=Length(max=DISPUTE_TEXT[1] + 200), metadata={
        "description": f"What happened: {DISPUTE_TEXT[0]}-{DISPUTE_TEXT[1]} characters once trimmed."})
    asks = String(required=True, validate=OneOf(list(DisputeAsk.ALL)), metadata={
        "description": "What the resident asks for: an apology, a refund at the store (of asked_amount), "
                       "or compensation (asked_amount optional)."})
    asked_amount = Amount(allow_none=True, metadata=amount_schema(
        "Required with `refund`, optional with `compensation`, absent with `apology`; above 0."))


class DisputePhotosIn(Schema):
    photos = List(File(), required=True, validate=Length(min=1, max=MAX_DISPUTE_PHOTOS), metadata={"description": (
        "One to four JPEG, PNG or WebP images (decided by decoding, whatever the name says), each at most "
        "MAX_PHOTO_BYTES; turned upright and stripped of all metadata (EXIF, GPS). Each side of a dispute "
        "holds at most 4.")})


class DisputeAnswerIn(Schema):
    action = String(required=True, validate=OneOf(["accept", "contest"]))
    message = String(load_default="", validate=Length(max=2200), metadata={
        "description": "Your side: required to contest (10-2000 characters), optional to accept."})
    offer = String(validate=OneOf(list(MerchantOffer)), metadata={
        "description": "With accept: `refund_at_store` or `voucher` (of `amount`), or `none` (an apology only; "
                       "the dispute closes)."})
    amount = Amount(allow_none=True, metadata=amount_schema("With refund_at_store or voucher; above 0."))


class DisputeNoteIn(Schema):
    note = String(load_default="", validate=Length(max=2200), metadata={
        "description": "Why (to escalate: 10-2000 characters, required)."})


class LedgerCloseIn(Schema):
    action = String(required=True, validate=OneOf(["settle", "waive"]), metadata={
        "description": "settle (paid outside Onsite) or waive"})
    note = String(required=True, validate=Length(min=2, max=500), metadata={"description": "Why (2-500 characters)."})


class DisputeDecisionIn(Schema):
    outcome = String(required=True, validate=OneOf(["upheld", "rejected"]))
    note = String(required=True, validate=Length(max=2200), metadata={"description": "The decision's reasons."})
    compensation = Amount(allow_none=True, metadata=amount_schema(
        "With upheld: what Onsite owes the resident now (advance compensation) and recovers from the business."))


class StoreDisputesQuery(Schema):
    open = Flag(load_default=False, metadata={"description": "Only disputes still open (true/false)."})


class DisputeMoneyOut(Schema):
    amount = String()
    currency = String()


class DisputePhotoOut(Schema):
    side = String(metadata={"description": "resident or merchant"})
    url = String()
    srcset = String()
    width = Integer()
    height = Integer()


class DisputeEventOut(Schema):
    from_status = String(allow_none=True)
    to_status = String()
    by = String(metadata={"description": "resident, store, operator or system (the sweep)."})
    note = String()
    at = String()


class LedgerEntryOut(Schema):
    id = Integer()
    dispute_id = Integer(allow_none=True)
    debtor = String(metadata={"description": "platform, business or resident"})
    debtor_id = Integer(allow_none=True)
    creditor = String()
    creditor_id = Integer(allow_none=True)
    amount = String()
    currency = String()
    reason = String(metadata={"description": "refund_at_store, voucher, advance_compensation or recovery"})
    status = String(metadata={"description": "owed, settled or waived"})
    created_at = String()
    settled_at = String(allow_none=True)


class DisputeStoreOut(Schema):
    id = Integer()
    name = String()
    timezone = String()


class DisputeOfferingOut(Schema):
    id = Integer()
    title = String()


class DisputeOut(Schema):
    id = Integer()
    booking_id = Integer()
    status = String()
    status_label = String()
    reason = String()
    reason_label = String()
    description = String()
    asks = String()
    asked_amount = Nested(DisputeMoneyOut, allow_none=True)
    store = Nested(DisputeStoreOut)
    offering = Nested(DisputeOfferingOut)
    resident = String(metadata={"description": "The resident's display name."})
    opened_at = String(metadata={"description": "ISO 8601 in the store's time zone."})
    respond_by = String(metadata={"description": "The store's 48-hour deadline to answer."})
    merchant_answer = String(allow_none=True)
    merchant_offer = String(allow_none=True)
    merchant_offer_amount = Nested(DisputeMoneyOut, allow_none=True)
    answered_at = String(allow_none=True)
    escalated_at = String(allow_none=True)
    escalate_by = String(allow_none=True, metadata={
        "description": "Until when the resident may ask Onsite to decide a dispute the store accepted (else null)."})
    decided_at = String(allow_none=True)
    decision_note = String(allow_none=True)
    closed_at = String(allow_none=True)
    photos = List(Nested(DisputePhotoOut))
    events = List(Nested(DisputeEventOut))
    entries = List(Nested(LedgerEntryOut))
    actions = List(String(), metadata={"description": "What the caller may do now: answer, add_photos, withdraw, "
                                                      "escalate, confirm, decide."})


class DisputeItemOut(DisputeOut):
    """A dispute in a list (the same fields; its own schema so the document names each once)."""


class DisputeList(Schema):
    items = List(Nested(DisputeItemOut))


class LedgerBalanceOut(Schema):
    currency = String()
    owed_to = String(metadata={"description": "Open amounts others owe this party."})
    owes = String(metadata={"description": "Open amounts this party owes."})


class LedgerOut(Schema):
    party = String(metadata={"description": "resident or business"})
    party_id = Integer()
    balances = List(Nested(LedgerBalanceOut), metadata={"description": "Sums of the entries still owed, per currency."})
    entries = List(Nested(LedgerEntryOut))


def _opener() -> str:
    return f"dispute-opens:{actor().id if actor() else request.remote_addr}"


# Opening disputes: one budget per resident, pages and API alike (DISPUTE_OPENS_PER_USER); only opened disputes
# (201 from the API, the page's redirect) spend it, so refusals and form errors can be corrected and resent.
opens_limit = limiter.shared_limit(lambda: current_app.config["DISPUTE_OPENS_PER_USER"], scope="dispute-opens",
                                   key_func=_opener, methods=["POST"],
                                   deduct_when=lambda response: response.status_code in (201, 302))


def _iso(moment, zone) -> str | None:
    return moment.astimezone(zone).isoformat() if moment is not None else None


def _money(amount, currency) -> dict | None:
    return {"amount": f"{amount:.2f}", "currency": currency} if amount is not None else None


def entry_json(entry: CompensationEntry) -> dict:
    return {"id": entry.id, "dispute_id": entry.dispute_id, "debtor": entry.debtor_kind, "debtor_id": entry.debtor_id,
            "creditor": entry.creditor_kind, "creditor_id": entry.creditor_id, "amount": f"{entry.amount:.2f}",
            "currency": entry.currency, "reason": entry.reason, "status": entry.status,
            "created_at": entry.created_at.isoformat(),
            "settled_at": entry.settled_at.isoformat() if entry.settled_at else None}


def _by(dispute: Dispute, event) -> str:
    if event.actor_id is None:
        return "system"
    if event.actor_id == dispute.resident_id:
        return "resident"
    return "operator" if event.to_status in ("upheld", "rejected") or (
        event.from_status in ("upheld", "rejected")) else "store"


def dispute_json(dispute: Dispute) -> dict:
    """A dispute as the API shows it to the caller (who sees it whole: its resident, the store, an admin)."""
    zone = ZoneInfo(dispute.store.timezone)
    return {
        "id": dispute.id, "booking_id": dispute.booking_id, "status": dispute.status,
        "status_label": str(LABELS[dispute.status]), "reason": dispute.reason,
        "reason_label": str(REASON_LABELS[dispute.reason]), "description": dispute.description,
        "asks": dispute.asks, "asked_amount": _money(dispute.asked_amount, dispute.currency),
        "store": {"id": dispute.store_id, "name": dispute.store.name, "timezone": dispute.store.timezone},
        "offering": {"id": dispute.booking.offering_id, "title": dispute.booking.offering.title},
        "resident": dispute.resident.display_name,
        "opened_at": _iso(dispute.opened_at, zone), "respond_by": _iso(dispute.respond_by, zone),
        "merchant_answer": dispute.merchant_answer, "merchant_offer": dispute.merchant_offer,
        "merchant_offer_amount": _money(dispute.merchant_offer_amount, dispute.currency),
        "answered_at": _iso(dispute.answered_at, zone), "escalated_at": _iso(dispute.escalated_at, zone),
        "escalate_by": _iso(services.escalate_by(dispute), zone),
        "decided_at": _iso(dispute.decided_at, zone), "decision_note": dispute.decision_note,
        "closed_at": _iso(dispute.closed_at, zone),
        "photos": [{"side": p.side, **{k: v for k, v in picture(p.image.digest, p.image.widths, p.image.width,
                                                                 p.image.height).items() if k != "alt"}}
                   for p in dispute.photos],
        "events": [{"from_status": e.from_status, "to_status": e.to_status, "by": _by(dispute, e), "note": e.note,
                    "at": _iso(e.created_at, zone)} for e in dispute.events],
        "entries": [entry_json(e) for e in services.dispute_entries(dispute)],
        "actions": services.actions_for(actor(), dispute, clock.now()),
    }


def _answer(dispute: Dispute) -> dict:
    db.session.commit()
    return dispute_json(dispute)


@bp.post("/bookings/<int:booking_id>/dispute")
@bp.auth_required(api_auth)
@bp.input(DisputeIn, arg_name="body")
@bp.output(DisputeOut, status_code=201)
@bp.doc(responses={**WRITE_ERRORS, 409: "not_disputable, dispute_window_closed or already_disputed",
                   422: "validation_failed, reason_not_applicable or not_overcharged", 429: "rate_limited"})
@opens_limit
def open_dispute(booking_id: int, body):
    """Report a problem with your visit: from the slot's start until 7 days after its end, or within 7 days
    after the store cancelled, declined or marked it a no-show; once per booking.

    The store has 48 hours (`respond_by`) to answer; then Onsite's operator decides. Add photos with
    `POST /api/v1/disputes/{dispute_id}/photos`.
    """
    dispute = services.open_dispute(actor(), booking_id, body, [], clock.now())
    return _answer(dispute), 201


@bp.post("/disputes/<int:dispute_id>/photos")
@bp.auth_required(api_auth)
@bp.input(DisputePhotosIn, location="form_and_files", arg_name="body")
@bp.output(DisputeOut, status_code=201)
@bp.doc(responses={**WRITE_ERRORS, 409: "too_many_photos or invalid_transition", 413: "image_too_large",
                   422: "image_unreadable, image_too_many_pixels or validation_failed"})
def add_photos(dispute_id: int, body):
    """Add evidence photos (multipart/form-data, field `photos`, repeatable) to your side of an open dispute:
    the resident's, or the store's (owner or staff)."""
    uploads = [(upload.filename or "", upload.stream.read()) for upload in body["photos"]]
    return _answer(services.add_dispute_photos(actor(), dispute_id, uploads, clock.now())), 201


@bp.get("/disputes/<int:dispute_id>")
@bp.auth_required(api_auth)
@bp.output(DisputeOut)
@bp.doc(responses={401: "unauthenticated", 404: "not_found"})
def get_dispute(dispute_id: int):
    """One dispute, for its resident, the store's people or the operator, with its history and ledger rows."""
    return dispute_json(services.get_dispute(actor(), dispute_id))


@bp.get("/disputes")
@bp.auth_required(api_auth)
@bp.output(DisputeList)
def my_disputes():
    """Your disputes, newest first."""
    return {"items": [dispute_json(d) for d in services.disputes_of_resident(actor())]}


@bp.get("/stores/<int:store_id>/disputes")
@bp.auth_required(api_auth)
@bp.input(StoreDisputesQuery, location="query", arg_name="query")
@bp.output(DisputeList)
@bp.doc(tags=["Merchant"], responses={401: "unauthenticated", 404: "not_found"})
def store_disputes(store_id: int, query):
    """A store's disputes, those waiting for its answer first (store owner or staff)."""
    store = get_store(actor(), store_id)
    return {"items": [dispute_json(d) for d in services.disputes_of_store(actor(), store, open_only=query["open"])]}


@bp.get("/disputes/escalated")
@bp.auth_required(api_auth)
@bp.output(DisputeList)
@bp.doc(tags=["Operator"], responses={401: "unauthenticated", 403: "forbidden"})
def escalated():
    """The operator's queue: escalated disputes, longest waiting first (admins)."""
    return {"items": [dispute_json(d) for d in services.escalated_disputes(actor())]}


@bp.post("/disputes/<int:dispute_id>/answer")
@bp.auth_required(api_auth)
@bp.input(DisputeAnswerIn, arg_name="body")
@bp.output(DisputeOut)
@bp.doc(tags=["Merchant"], responses={**WRITE_ERRORS, 409: "answer_window_closed or invalid_transition"})
def answer(dispute_id: int, body):
    """The store's answer within 48 hours (owner or staff): accept with what you will do, or contest with your
    side (the dispute then goes to Onsite's operator). Add evidence photos with the photos endpoint."""
    return _answer(services.answer_dispute(actor(), dispute_id, body, [], clock.now()))


@bp.post("/disputes/<int:dispute_id>/withdraw")
@bp.auth_required(api_auth)
@bp.input(DisputeNoteIn, arg_name="body")
@bp.output(DisputeOut)
@bp.doc(responses={**WRITE_ERRORS, 409: "invalid_transition"})
def withdraw(dispute_id: int, body):
    """Withdraw your dispute while it is open; what the store still owed you in it is waived."""
    return _answer(services.withdraw_dispute(actor(), dispute_id, body["note"], clock.now()))


@bp.post("/disputes/<int:dispute_id>/escalate")
@bp.auth_required(api_auth)
@bp.input(DisputeNoteIn, arg_name="body")
@bp.output(DisputeOut)
@bp.doc(responses={**WRITE_ERRORS, 409: "invalid_transition or escalation_window_closed"})
def escalate(dispute_id: int, body):
    """Ask Onsite's operator to decide: the store accepted but did not do what it said, or it did not answer
    by `respond_by`. Say why in `note`; an accepted dispute until `escalate_by` (14 days after the answer)."""
    return _answer(services.escalate_dispute(actor(), dispute_id, body["note"], clock.now()))


@bp.post("/disputes/<int:dispute_id>/confirm-received")
@bp.auth_required(api_auth)
@bp.output(DisputeOut)
@bp.doc(responses={401: "unauthenticated", 403: "forbidden", 404: "not_found", 409: "nothing_to_confirm"})
def confirm_received(dispute_id: int):
    """Confirm you received the refund, voucher or compensation owed to you in this dispute; it closes."""
    return _answer(services.confirm_received(actor(), dispute_id, clock.now()))


@bp.post("/disputes/<int:dispute_id>/decide")
@bp.auth_required(api_auth)
@bp.input(DisputeDecisionIn, arg_name="body")
@bp.output(DisputeOut)
@bp.doc(tags=["Operator"], responses={**WRITE_ERRORS, 409: "invalid_transition"})
def decide(dispute_id: int, body):
    """Decide an escalated dispute (admins): reject it, or uphold it, optionally with compensation that Onsite
    owes the resident at once and records as owed by the business (advance compensation)."""
    return _answer(services.decide_dispute(actor(), dispute_id, body, clock.now()))


def _ledger(party: str, party_id: int, entries, balances) -> dict:
    return {"party": party, "party_id": party_id, "entries": [entry_json(e) for e in entries],
            "balances": [{"currency": b.currency, "owed_to": f"{b.owed_to:.2f}", "owes": f"{b.owes:.2f}"}
                         for b in balances]}


@bp.get("/me/compensation")
@bp.auth_required(api_auth)
@bp.output(LedgerOut)
@bp.doc(tags=["Compensation"])
def my_compensation():
    """What is owed to you (refunds, vouchers, Onsite's compensation) and what was settled, newest first."""
    entries, balances = services.resident_ledger(actor())
    return _ledger("resident", actor().id, entries, balances)


@bp.get("/businesses/<int:business_id>/ledger")
@bp.auth_required(api_auth)
@bp.output(LedgerOut)
@bp.doc(tags=["Compensation", "Merchant"], responses={401: "unauthenticated", 403: "forbidden", 404: "not_found"})
def business_ledger(business_id: int):
    """What your business owes residents and Onsite, and is owed, newest first (the owner)."""
    business, entries, balances = services.business_ledger(actor(), business_id)
    return _ledger("business", business.id, entries, balances)



class ClosedEntryOut(LedgerEntryOut):
    """A compensation entry just settled or waived (the ledger's entry, as its own schema in /docs)."""


@bp.post("/compensation/<int:compensation_id>/close")
@bp.auth_required(api_auth)
@bp.input(LedgerCloseIn, arg_name="body")
@bp.output(ClosedEntryOut)
@bp.doc(tags=["Compensation"], responses={**WRITE_ERRORS, 409: "entry_not_owed"})
def close_compensation(compensation_id: int, body):
    """Mark an owed compensation entry settled or waived, saying why (admins; written to the admin audit log)."""
    entry = services.close_entry(actor(), compensation_id, body["action"], body["note"], clock.now())
    db.session.commit()
    return entry_json(entry)


UPLOAD_ENDPOINTS = {"trust_disputes_api.add_photos", "trust_disputes.open_form", "trust_disputes.answer"}


@bp.record_once
def _allow_photo_uploads(state) -> None:
    """A dispute's photo uploads may carry MAX_DISPUTE_PHOTOS photos (the media pipeline checks each one's size)."""
    allow_photo_uploads(state.app, UPLOAD_ENDPOINTS, MAX_DISPUTE_PHOTOS)
