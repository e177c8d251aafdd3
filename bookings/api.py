"""Booking endpoints: availability, slots, bookings, waitlist, calendar files, inbox."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apiflask import APIBlueprint, Schema
from apiflask.fields import Boolean, Float, Integer, List, Nested, String
from apiflask.schemas import FileSchema
from apiflask.validators import Length, OneOf, Range, Regexp
from flask import Response, current_app, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import pre_load

from app import clock
from app.auth.security import actor, api_auth
from app.errors import NotFound
from app.extensions import db, limiter
from app.fields import AMOUNT_PATTERN, Day, Flag, Number, WholeNumber
from app.merchants.services import get_store
from app.offerings.services import get_offering
from app.web import json_response
from bookings import checkin, services
from bookings.calendar import ics_for
from bookings.errors import CheckInError, SlotNotFound
from bookings.models import Booking, Slot
from bookings.states import LABELS, WhyNotBookable

bp = APIBlueprint("bookings_api", __name__, url_prefix="/api/v1", tag="Bookings")

HHMM = Regexp(r"^([01][0-9]|2[0-3]):[0-5][0-9]$", error=_l("must be a time HH:MM, from 00:00 to 23:59."))
MAX_ID32 = 2**31 - 1


class WeeklyIn(Schema):
    weekday = WholeNumber(required=True, validate=Range(0, 6), metadata={"description": "0 = Monday"})
    times = List(String(validate=HHMM), required=True, metadata={"example": ["10:00", "14:00", "16:30"]})


class EveryIn(Schema):
    weekdays = List(WholeNumber(validate=Range(0, 6)), load_default=lambda: list(range(7)))
    from_ = String(data_key="from", required=True, validate=HHMM, metadata={"example": "10:00"})
    to = String(required=True, validate=HHMM, metadata={"example": "18:00", "description": "After `from`."})
    minutes = WholeNumber(required=True, validate=Range(5, 720))


class ExceptionIn(Schema):
    date = Day(text=True, required=True, metadata={"example": "2026-12-25"})
    kind = String(required=True, validate=OneOf(["day_off", "extra_slot"]))
    time = String(validate=HHMM, metadata={"description": "HH:MM, required for extra_slot"})

    # JSON Schema for "an extra slot needs a time" (apispec cannot derive it): see app/openapi.py.
    OPENAPI = {"if": {"properties": {"kind": {"const": "extra_slot"}}, "required": ["kind"]},
               "then": {"required": ["time"]}}


class ScheduleIn(Schema):
    weekly = List(Nested(WeeklyIn), load_default=list)
    every = Nested(EveryIn, allow_none=True)
    weeks_ahead = WholeNumber(load_default=8, validate=Range(1, 52))
    min_notice_minutes = WholeNumber(load_default=60, validate=Range(0, 43200))
    checkin_opens_minutes = WholeNumber(load_default=30, validate=Range(0, 1440),
                                        metadata={"description": "Check-in opens this long before the start."})
    requires_approval = Flag(load_default=False)
    exceptions = List(Nested(ExceptionIn), load_default=list)


class SyncOut(Schema):
    created = Integer()
    removed = Integer()
    kept_with_bookings = Integer(metadata={"description": "Slots no longer planned that hold bookings: "
                                                          "cancel them explicitly."})
    capacity_updated = Integer()


class SlotOut(Schema):
    id = Integer()
    starts_at = String(metadata={"description": "ISO 8601 in the store's time zone, with offset."})
    ends_at = String()
    capacity = Integer()
    remaining = Integer()


class SlotToBookOut(SlotOut):
    bookable = Boolean(metadata={"description": "Whether a resident can book a seat in it now."})
    why_not = String(allow_none=True, validate=OneOf(list(WhyNotBookable)), metadata={
        "description": "Null when bookable; else why not, at the moment of the request: `started` (it has "
                       "begun), `inside_notice` (it starts sooner than the experience's minimum notice), "
                       "`full` (no seat left: join its waitlist), `cancelled` (not open)."})


class SlotList(Schema):
    items = List(Nested(SlotToBookOut))


class SlotQuery(Schema):
    from_ = Day(data_key="from", metadata={"description": "Store-local date; default today."})
    to = Day(metadata={"description": "Store-local date (exclusive), after `from` and at most 62 days later "
                                      "(else 422 naming `to`); default from + 14 days."})


class BookingIn(Schema):
    # 1.5 people (or slot 7.9) is an error, not silently truncated to an int; 2.0 is 2.
    slot_id = WholeNumber(required=True, validate=Range(1, MAX_ID32))
    party_size = WholeNumber(load_default=1, validate=Range(1, services.MAX_PARTY))
    note = String(load_default="", validate=Length(max=500))


class RescheduleIn(Schema):
    slot_id = WholeNumber(required=True, validate=Range(1, MAX_ID32))


class ReasonIn(Schema):
    reason = String(load_default="", validate=Length(max=300))


class WaitlistIn(Schema):
    party_size = WholeNumber(load_default=1, validate=Range(1, services.MAX_PARTY))
    note = String(load_default="", validate=Length(max=500))


class WaitlistOut(Schema):
    id = Integer()
    slot_id = Integer()
    party_size = Integer()
    status = String()
    position = Integer(allow_none=True)
    booking_id = Integer(allow_none=True)


class MoneyOut(Schema):
    amount = String()
    currency = String()


class OfferingBrief(Schema):
    id = Integer()
    title = String()


class BookingStoreOut(Schema):
    id = Integer()
    name = String()
    address = String()
    lat = Float()
    lng = Float()
    timezone = String()


class SlotCancelOut(Schema):
    cancelled_bookings = Integer()


class BookingOut(Schema):
    id = Integer()
    status = String()
    status_label = String()
    payment_status = String()
    slot = Nested(SlotOut)
    offering = Nested(OfferingBrief)
    store = Nested(BookingStoreOut)
    party_size = Integer()
    note = String()
    unit_price = Nested(MoneyOut)
    price_due_at_store = Nested(MoneyOut)
    code = String()
    free_cancellation_until = String()
    is_late_cancel = Boolean()
    cancel_reason = String(allow_none=True)
    late_cancel_notice = String(allow_none=True)


class BookingList(Schema):
    items = List(Nested(BookingOut))


class BookingQuery(Schema):
    when = String(load_default="upcoming", validate=OneOf(["upcoming", "past"]))


class StoreDayQuery(Schema):
    day = Day(metadata={"description": "Store-local date; default today."})


class NotificationOut(Schema):
    id = Integer()
    kind = String()
    title = String()
    body = String()
    booking_id = Integer(allow_none=True)
    created_at = String()
    read = Boolean()


def slot_json(slot: Slot, tz: str) -> dict:
    return _slot_body(slot.id, slot.starts_at, slot.ends_at, slot.capacity, slot.remaining, ZoneInfo(tz))


def _slot_body(slot_id: int, starts_at: datetime, ends_at: datetime, capacity: int, remaining: int,
               zone: ZoneInfo) -> dict:
    return {"id": slot_id, "starts_at": starts_at.astimezone(zone).isoformat(),
            "ends_at": ends_at.astimezone(zone).isoformat(), "capacity": capacity, "remaining": remaining}


def booking_json(booking: Booking) -> dict:
    """A booking as the API shows it (and as an idempotent replay stores it)."""
    return view_json(services.view_of(booking))


def view_json(view: services.BookingView) -> dict:
    zone = ZoneInfo(view.timezone)
    return {
        "id": view.id, "status": view.status, "status_label": str(LABELS.get(view.status, view.status)),
        "payment_status": view.payment_status,
        "slot": _slot_body(view.slot_id, view.starts_at, view.ends_at, view.capacity, view.remaining, zone),
        "offering": {"id": view.offering_id, "title": view.title},
        "store": {"id": view.store_id, "name": view.store_name, "address": view.address, "lat": view.lat,
                  "lng": view.lng, "timezone": view.timezone},
        "party_size": view.party_size, "note": view.note,
        "unit_price": {"amount": f"{view.unit_price:.2f}", "currency": view.currency},
        "price_due_at_store": {"amount": f"{view.price_due:.2f}", "currency": view.currency},
        "code": view.code, "free_cancellation_until": view.free_cancellation_until.astimezone(zone).isoformat(),
        "is_late_cancel": view.is_late_cancel, "cancel_reason": view.cancel_reason,
        "late_cancel_notice": (_("Cancelled after the free-cancellation cut-off: this counts as a late cancel.")
                               if view.is_late_cancel else None),
    }



@bp.put("/offerings/<int:offering_id>/schedule")
@bp.auth_required(api_auth)
@bp.input(ScheduleIn, arg_name="body")
@bp.output(SyncOut)
@bp.doc(tags=["Availability"], responses={403: "forbidden", 404: "not_found"})
def put_schedule(offering_id: int, body):
    """Set weekly availability (store-local times) and keep the slots of the next weeks in step.

    One schedule plans at most 3,000 slots over `weeks_ahead` (start times a week x weeks, plus extra
    slots) and has at most 400 dated exceptions; beyond either, 422 `validation_failed` names the field
    (`weeks_ahead` or `exceptions`).
    """
    offering = get_offering(actor(), offering_id, manage=True)
    if body.get("every"):
        body["every"]["from"] = body["every"].pop("from_")
    result = services.set_schedule(actor(), offering, body, clock.now())
    db.session.commit()
    return result


@bp.get("/offerings/<int:offering_id>/slots")
@bp.input(SlotQuery, location="query", arg_name="query")
@bp.output(SlotList)
@bp.doc(tags=["Availability"], responses={404: "not_found"})
def get_slots(offering_id: int, query):
    """Open slots between two store-local dates, with the seats that remain and whether each can be
    booked now (`bookable`, and `why_not` when it cannot)."""
    offering = get_offering(actor(), offering_id)
    zone = ZoneInfo(offering.store.timezone)
    first = query.get("from_") or clock.today(zone)
    last = query.get("to") or first + timedelta(days=14)
    start = datetime.combine(first, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(last, datetime.min.time(), tzinfo=zone)
    slots = services.slots_to_book(offering, start, end, clock.now())
    return {"items": [{**slot_json(slot, offering.store.timezone), "bookable": why is None, "why_not": why}
                      for slot, why in slots]}


@bp.post("/bookings")
@bp.auth_required(api_auth)
@bp.input(BookingIn, arg_name="body")
@bp.output(BookingOut, status_code=201)
@bp.doc(responses={404: "slot_not_found", 409: "slot_full, slot_in_past, slot_closed or already_booked",
                   422: "validation_failed or idempotency_key_reused"},
        description="Send an `Idempotency-Key` header to make retries safe: the same key with the same "
                    "body replays the first answer for 24 hours; with another body it is a 422.")
def create_booking(body):
    """Book a slot for a party; the price is paid at the store."""
    key = request.headers.get("Idempotency-Key")
    if key is not None:
        replay = services.claim_idempotency_key(actor(), key.strip(), services.request_fingerprint(body), clock.now())
        if replay is not None:
            return replay[1], replay[0]
    result = view_json(services.place(actor(), body["slot_id"], body["party_size"], body["note"], clock.now()))
    if key is not None:
        services.remember_response(actor(), key.strip(), 201, result)
    db.session.commit()
    return json_response(result, 201)  # the body BookingOut documents, without a second pass through it


@bp.get("/bookings")
@bp.auth_required(api_auth)
@bp.input(BookingQuery, location="query", arg_name="query")
@bp.output(BookingList)
def list_my_bookings(query):
    """The caller's visits: upcoming (soonest first) or past."""
    items = services.bookings_of_resident(actor(), upcoming=query["when"] == "upcoming", now=clock.now())
    return {"items": [booking_json(b) for b in items]}


@bp.get("/bookings/<int:booking_id>")
@bp.auth_required(api_auth)
@bp.output(BookingOut)
@bp.doc(responses={404: "not_found"})
def get_booking(booking_id: int):
    """One booking, for its resident or the store's people."""
    return booking_json(services.get_booking(actor(), booking_id))


@bp.get("/bookings/<int:booking_id>.ics")
@bp.auth_required(api_auth)
@bp.output(FileSchema(type="string"), content_type="text/calendar", description="An iCalendar file (RFC 5545).")
@bp.doc(responses={404: "not_found"})
def booking_calendar(booking_id: int):
    """A calendar file for the visit, in the store's time zone, with its address and position."""
    booking = services.get_booking(actor(), booking_id)
    return Response(ics_for(booking), mimetype="text/calendar",
                    headers={"Content-Disposition": f'attachment; filename="onsite-{booking.code}.ics"'})


def _booking_action(verb, booking_id: int, *args):
    booking = verb(actor(), booking_id, *args)
    db.session.commit()
    return booking_json(booking)


@bp.post("/bookings/<int:booking_id>/cancel")
@bp.auth_required(api_auth)
@bp.input(ReasonIn, arg_name="body")
@bp.output(BookingOut)
@bp.doc(responses={403: "forbidden", 404: "not_found", 409: "invalid_transition"})
def cancel_booking(booking_id: int, body):
    """Cancel: free before the cut-off, a late cancel after; the store's owner must give a reason."""
    return _booking_action(services.cancel, booking_id, body["reason"], clock.now())


@bp.post("/bookings/<int:booking_id>/reschedule")
@bp.auth_required(api_auth)
@bp.input(RescheduleIn, arg_name="body")
@bp.output(BookingOut)
@bp.doc(responses={404: "not_found", 409: "slot_full, past_cutoff, already_booked or invalid_transition"})
def reschedule_booking(booking_id: int, body):
    """Move the booking to another slot of the same experience: one seat, never two, never none."""
    return _booking_action(services.reschedule, booking_id, body["slot_id"], clock.now())


@bp.post("/bookings/<int:booking_id>/confirm")
@bp.auth_required(api_auth)
@bp.output(BookingOut)
@bp.doc(tags=["Merchant"], responses={404: "not_found", 409: "invalid_transition"})
def confirm_booking(booking_id: int):
    """Approve a pending booking (store owner or staff)."""
    return _booking_action(services.confirm, booking_id)


@bp.post("/bookings/<int:booking_id>/reject")
@bp.auth_required(api_auth)
@bp.input(ReasonIn, arg_name="body")
@bp.output(BookingOut)
@bp.doc(tags=["Merchant"], responses={404: "not_found", 409: "invalid_transition"})
def reject_booking(booking_id: int, body):
    """Decline a pending booking (store owner or staff)."""
    return _booking_action(services.reject, booking_id, body["reason"], clock.now())


@bp.post("/bookings/<int:booking_id>/no-show")
@bp.auth_required(api_auth)
@bp.output(BookingOut)
@bp.doc(tags=["Merchant"], responses={404: "not_found", 409: "slot_not_over or invalid_transition"})
def no_show(booking_id: int):
    """Mark a confirmed visitor who did not come, once the slot is over (store owner or staff)."""
    return _booking_action(services.mark_no_show, booking_id, clock.now())


@bp.post("/slots/<int:slot_id>/cancel")
@bp.auth_required(api_auth)
@bp.input(ReasonIn, arg_name="body")
@bp.output(SlotCancelOut)
@bp.doc(tags=["Merchant"], responses={403: "forbidden", 404: "slot_not_found", 409: "slot_closed"})
def cancel_slot(slot_id: int, body):
    """Cancel a slot and all its bookings, telling each resident why (store owner)."""
    slot = db.session.get(Slot, slot_id)
    if slot is None:
        raise SlotNotFound()
    count = services.cancel_slot(actor(), slot, body["reason"], clock.now())
    db.session.commit()
    return {"cancelled_bookings": count}


@bp.post("/slots/<int:slot_id>/waitlist")
@bp.auth_required(api_auth)
@bp.input(WaitlistIn, arg_name="body")
@bp.output(WaitlistOut, status_code=201)
@bp.doc(tags=["Waitlist"], responses={404: "slot_not_found", 409: "slot_has_room, already_waiting, already_booked"})
def join_waitlist(slot_id: int, body):
    """Wait for a full slot: when seats free up, the first in line whose party fits is booked."""
    entry = services.join_waitlist(actor(), slot_id, body["party_size"], body["note"], clock.now())
    db.session.commit()
    return {"id": entry.id, "slot_id": entry.slot_id, "party_size": entry.party_size, "status": entry.status,
            "booking_id": None}


@bp.delete("/waitlist/<int:entry_id>")
@bp.auth_required(api_auth)
@bp.output({}, status_code=204)
@bp.doc(tags=["Waitlist"], responses={404: "not_found"})
def leave_waitlist(entry_id: int):
    """Leave a waitlist."""
    services.leave_waitlist(actor(), entry_id)
    db.session.commit()
    return ""


@bp.get("/stores/<int:store_id>/bookings")
@bp.auth_required(api_auth)
@bp.input(StoreDayQuery, location="query", arg_name="query")
@bp.output(BookingList)
@bp.doc(tags=["Merchant"], responses={404: "not_found"})
def store_bookings(store_id: int, query):
    """A store's bookings on one local day (store owner or staff)."""
    store = get_store(actor(), store_id)
    day = query.get("day") or clock.today(ZoneInfo(store.timezone))
    return {"items": [booking_json(b) for b in services.bookings_of_store_day(actor(), store, day)]}


@bp.get("/notifications")
@bp.auth_required(api_auth)
@bp.output(NotificationOut(many=True))
@bp.doc(tags=["Inbox"])
def notifications():
    """The caller's inbox, newest first."""
    return [{"id": n.id, "kind": n.kind, "title": n.title, "body": n.body, "booking_id": n.booking_id,
             "created_at": n.created_at.isoformat(), "read": n.read_at is not None}
            for n in services.notifications_of(actor())]



# -- check-in ------------------------------------------------------------------------------------

class CheckInIn(Schema):
    code = String(required=True, validate=Length(min=1, max=200),
                  metadata={"description": "The scanned QR payload (ONS1:…) or the 8-character code."})
    store_id = WholeNumber(required=True, validate=Range(1, MAX_ID32))
    nonce = String(validate=Length(min=1, max=64),
                   metadata={"description": "Send the same nonce when retrying a scan to get the first answer."})


class CheckInOut(Schema):
    method = String()
    verification = String()
    checked_in_at = String()
    checked_in_by = String(allow_none=True)
    distance_m = Float(allow_none=True)
    accuracy_m = Float(allow_none=True)


class CheckInResultOut(Schema):
    booking = Nested(BookingOut)
    resident = String()
    check_in = Nested(CheckInOut)
    collect = Nested(MoneyOut)


class SelfCheckInIn(Schema):
    lat = Number(required=True, validate=Range(-90, 90))
    lng = Number(required=True, validate=Range(-180, 180))
    accuracy = Number(required=True, validate=Range(0, 9_999_999), metadata={"description": "Metres."})
    store_code = String(required=True, validate=Length(max=12),
                        metadata={"description": "The 6-digit code shown at the counter now."})

    @pre_load
    def position_sent(self, data, **kwargs):
        # The page sends no position when the browser refuses one: say so with its own code, not a field error.
        if isinstance(data, dict) and (data.get("lat") is None or data.get("lng") is None):
            raise CheckInError(_("Allow location so we can see you are at the store."), code="missing_position")
        return data


class PaymentIn(Schema):
    amount = String(required=True, validate=Regexp(AMOUNT_PATTERN, error=_l("must be an amount from 0 with "
                                                                             "at most two decimals.")),
                    metadata={"example": "176.00", "description": "At most 99999999.99, two decimals."})
    method = String(required=True, validate=OneOf(["cash", "card_at_store", "mobile_wallet_at_store", "other"]))
    note = String(load_default="", validate=Length(max=300))
    supersedes_id = WholeNumber(validate=Range(1, MAX_ID32), metadata={"description": "Correct this earlier payment."})


class PaymentOut(Schema):
    id = Integer()
    amount = String()
    currency = String()
    method = String()
    note = String()
    recorded_by = String()
    recorded_at = String()
    supersedes_id = Integer(allow_none=True)


class QrOut(Schema):
    token = String()
    code = String()


class StoreCodeOut(Schema):
    code = String()
    seconds_left = Integer()


class RosterOut(Schema):
    day = String()
    expected = List(Nested(BookingOut))
    arrived = List(Nested(BookingOut))
    late = List(Nested(BookingOut))
    no_show = List(Nested(BookingOut))
    cancelled = List(Nested(BookingOut))
    takings = List(Nested(MoneyOut))


def check_in_json(check_in) -> dict:
    return {"method": check_in.method, "verification": check_in.verification,
            "checked_in_at": check_in.checked_in_at.isoformat(),
            "checked_in_by": check_in.actor.display_name if check_in.actor else None,
            "distance_m": round(check_in.distance_m, 1) if check_in.distance_m is not None else None,
            "accuracy_m": check_in.accuracy_m}


def check_in_result_json(result) -> dict:
    return {"booking": booking_json(result.booking), "resident": result.booking.resident.display_name,
            "check_in": check_in_json(result.check_in), "collect": result.collect}


def payment_json(payment) -> dict:
    return {"id": payment.id, "amount": f"{payment.amount:.2f}", "currency": payment.currency,
            "method": payment.method, "note": payment.note, "recorded_by": payment.recorded_by.display_name,
            "recorded_at": payment.recorded_at.isoformat(), "supersedes_id": payment.supersedes_id}


def _key() -> bytes:
    return current_app.config["SECRET_KEY"].encode()


def _guess_key() -> str:
    return f"checkin-user:{actor().id if actor() else request.remote_addr}"


def _store_key() -> str:
    body = request.get_json(silent=True)
    store = body.get("store_id") if isinstance(body, dict) else None
    return f"checkin-store:{store}"


def _counts_as_guess(response) -> bool:
    # Every refusal of the code or the counter: not valid (404), another store's booking or a store the
    # scanner does not work at (403). The 409s are this store's own bookings, which its roster shows anyway.
    return response.status_code in (403, 404)


@bp.post("/checkins")
@bp.auth_required(api_auth)
@bp.input(CheckInIn, arg_name="body")
@bp.output(CheckInResultOut)
@bp.doc(tags=["Check-in"], responses={
    403: "forbidden or wrong_store", 404: "invalid_code",
    409: "already_checked_in, not_confirmed, cancelled or outside_window", 429: "rate_limited"})
@limiter.limit(lambda: current_app.config["CHECKIN_GUESSES_PER_USER"], key_func=_guess_key,
               deduct_when=_counts_as_guess)
@limiter.limit(lambda: current_app.config["CHECKIN_GUESSES_PER_STORE"], key_func=_store_key,
               deduct_when=_counts_as_guess)
def check_in(body):
    """Check a visitor in at the counter (store owner or staff): scan the QR or type the code.

    A retry with the same `nonce` gets the first answer again; every refused scan is logged for the store.
    """
    answer = checkin.scan(actor(), body["store_id"], body["code"], body.get("nonce"), _key(), clock.now(),
                          render=check_in_result_json)
    db.session.commit()
    if answer.status == 200:
        return answer.body
    # A Response: @output would dump the error envelope through CheckInResultOut, leaving {}.
    response = current_app.json.response(answer.body)
    response.status_code = answer.status
    return response


@bp.post("/bookings/<int:booking_id>/self-checkin")
@bp.auth_required(api_auth)
@bp.input(SelfCheckInIn, arg_name="body")
@bp.output(CheckInResultOut)
@bp.doc(tags=["Check-in"], responses={
    404: "not_found", 409: "too_far, position_too_vague, stale_code, outside_window, …",
    422: "missing_position or validation_failed"})
@limiter.limit(lambda: current_app.config["CHECKIN_GUESSES_PER_USER"], key_func=_guess_key,
               deduct_when=lambda response: response.status_code == 409)
def self_check_in(booking_id: int, body):
    """"I'm here": the resident's position inside the store's geofence plus the counter's current code."""
    position = {key: body.get(key) for key in ("lat", "lng", "accuracy")}
    result = checkin.self_check_in(actor(), booking_id, position, body["store_code"], clock.now())
    db.session.commit()
    return check_in_result_json(result)


@bp.post("/bookings/<int:booking_id>/code")
@bp.auth_required(api_auth)
@bp.output(BookingOut)
@bp.doc(tags=["Check-in"], responses={404: "not_found", 409: "not_confirmed"})
def reissue_code(booking_id: int):
    """Issue a new code (and QR); the old ones stop working."""
    booking = checkin.reissue_code(actor(), booking_id)
    db.session.commit()
    return booking_json(booking)


@bp.get("/bookings/<int:booking_id>/qr")
@bp.auth_required(api_auth)
@bp.output(QrOut)
@bp.doc(tags=["Check-in"], responses={404: "not_found"})
def booking_qr(booking_id: int):
    """The signed payload the booking's QR code carries (for apps drawing their own QR)."""
    booking = services.get_booking(actor(), booking_id)
    if booking.resident_id != actor().id:
        raise NotFound(_("No such booking."))
    return {"token": checkin.issue_token(booking, _key()), "code": booking.code}


@bp.post("/bookings/<int:booking_id>/payments")
@bp.auth_required(api_auth)
@bp.input(PaymentIn, arg_name="body")
@bp.output(PaymentOut, status_code=201)
@bp.doc(tags=["Check-in"], responses={404: "not_found", 409: "not_checked_in"})
def record_payment(booking_id: int, body):
    """Record what was paid at the store (store owner or staff); corrections supersede, never edit."""
    payment = checkin.record_payment(actor(), booking_id, body["amount"], body["method"], body["note"],
                                     body.get("supersedes_id"))
    db.session.commit()
    return payment_json(payment)


@bp.get("/stores/<int:store_id>/checkin-code")
@bp.auth_required(api_auth)
@bp.output(StoreCodeOut)
@bp.doc(tags=["Check-in"], responses={404: "not_found"})
def store_checkin_code(store_id: int):
    """The store's current rotating code, for the counter screen (store owner or staff)."""
    store = get_store(actor(), store_id)
    if not services.can_work_store(actor(), store):
        raise NotFound(_("No such store."))
    now = clock.now()
    return {"code": checkin.store_code(store, now), "seconds_left": checkin.seconds_left(now)}


@bp.get("/stores/<int:store_id>/roster")
@bp.auth_required(api_auth)
@bp.input(StoreDayQuery, location="query", arg_name="query")
@bp.output(RosterOut)
@bp.doc(tags=["Check-in"], responses={404: "not_found"})
def store_roster(store_id: int, query):
    """The day's roster: expected, arrived, late, no-shows, cancelled, and the takings recorded."""
    day = checkin.roster(actor(), store_id, query.get("day"), clock.now())
    return {"day": day.day.isoformat(), **{name: [booking_json(b) for b in getattr(day, name)]
                                           for name in ("expected", "arrived", "late", "no_show", "cancelled")},
            "takings": [{"amount": f"{v:.2f}", "currency": c} for c, v in sorted(day.takings.items())]}
