"""Check-in: the code a resident shows, staff scans, the resident's own geofenced check-in,
offline payments and the day's roster.

A visit is checked in exactly once: the booking row is locked and ``check_ins.booking_id`` is
unique. Each refusal has a stable reason code (pretix ``perform_checkin``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError

from app.auth.models import User
from app.errors import DomainError, NotFound, PermissionDenied, ValidationFailed, error_body
from app.extensions import db
from app.merchants.hours import business_day, business_day_bounds
from app.merchants.models import Store
from app.merchants.services import can_view_store_private, get_store
from bookings.errors import CheckInError
from bookings.models import Booking, CheckIn, CheckInAttempt, CheckInFailure, OfflinePayment, Schedule
from bookings.services import CODE_ALPHABET, get_booking, new_code, record_event, transition
from bookings.states import BookingStatus, PaymentMethod
from geo.points import InvalidCoordinates, LngLat
from geo.queries import distance_m

S = BookingStatus
TOKEN_PREFIX = "ONS1:"  # noqa: S105 (a format marker, not a secret)
TOKEN_LIFETIME_AFTER_END = timedelta(hours=12)
STORE_CODE_STEP = 60  # seconds a rotating store code lasts
DEFAULT_OPENS_MINUTES = 30
LATE_AFTER = timedelta(minutes=10)


def refused(code: str, message: str, /, **details: Any) -> CheckInError:
    """A refusal with its reason code (its HTTP status is the code's, from app/error_codes.py)."""
    # Positional-only: a detail may be called ``status`` (the booking's).
    return CheckInError(message, code=code, details=details)


# -- the code a resident shows ------------------------------------------------------------

def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _signature(key: bytes, booking_id: int, secret: str, expires: int) -> str:
    message = f"onsite-checkin|{booking_id}|{secret}|{expires}".encode()
    return _b64(hmac.new(key, message, hashlib.sha256).digest())[:27]


def issue_token(booking: Booking, key: bytes) -> str:
    """The signed payload of the booking's QR code (valid until 12 h after the slot ends)."""
    expires = int((booking.slot.ends_at + TOKEN_LIFETIME_AFTER_END).timestamp())
    return f"{TOKEN_PREFIX}{booking.id}.{expires}.{_signature(key, booking.id, booking.qr_secret, expires)}"


def verify_token(token: str, key: bytes, now: datetime) -> Booking:
    """Return the booking a QR token stands for.

    :raises CheckInError: ``invalid_code`` when it is malformed, forged, edited, expired or revoked.
    """
    invalid = refused("invalid_code", _("This code is not valid."))
    try:
        booking_part, expires_part, signature = token[len(TOKEN_PREFIX):].split(".")
        booking_id, expires = int(booking_part), int(expires_part)
    except ValueError:
        raise invalid from None
    if not 0 < booking_id < 2**31 or expires < now.timestamp():
        raise invalid
    if token != f"{TOKEN_PREFIX}{booking_id}.{expires}.{signature}":
        raise invalid  # int() also reads "０", "٣", "_" and leading zeros: only the issued spelling is valid
    booking = db.session.get(Booking, booking_id)
    if booking is None:
        raise invalid
    expected = _signature(key, booking.id, booking.qr_secret, expires)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise invalid
    return booking


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def find_by_code(code: Any, key: bytes, now: datetime) -> tuple[Booking, str]:
    """Resolve a scanned QR token or a typed short code to (booking, method).

    :raises ValidationFailed: when no code is given.
    :raises CheckInError: ``invalid_code`` when nothing matches.
    """
    if not isinstance(code, str) or not code.strip() or len(code) > 200:
        raise ValidationFailed(details={"code": _("Scan the QR code or type the 8-character code.")})
    code = code.strip()
    if code.startswith(TOKEN_PREFIX):
        return verify_token(code, key, now), "staff_scan"
    short = normalise_code(code)
    if len(short) != 8 or any(ch not in CODE_ALPHABET for ch in short):
        raise refused("invalid_code", _("This code is not valid."))
    booking = db.session.scalar(select(Booking).where(Booking.code == short))
    if booking is None:
        raise refused("invalid_code", _("This code is not valid."))
    return booking, "staff_typed"


def reissue_code(actor: User, booking_id: int) -> Booking:
    """Give the booking a new short code and QR secret; the old ones stop working.

    :raises NotFound: unless it is the actor's own booking.
    :raises CheckInError: ``not_confirmed`` unless it is pending or confirmed.
    """
    booking = get_booking(actor, booking_id)
    if booking.resident_id != actor.id:
        raise NotFound(_("No such booking."))
    booking = db.session.scalar(select(Booking).where(Booking.id == booking.id).with_for_update()
                                .execution_options(populate_existing=True))
    if booking.status not in (S.PENDING, S.CONFIRMED):
        raise refused("not_confirmed", _("Only an upcoming booking gets a new code."))
    for _attempt in range(5):
        try:
            with db.session.begin_nested():
                booking.code, booking.qr_secret = new_code(), secrets.token_hex(16)
                db.session.flush()
            break
        except IntegrityError:
            continue
    record_event(booking, booking.status, booking.status, actor, "new code issued; the old one is revoked")
    return booking


# -- the check-in window ------------------------------------------------------------------------

def window_of(booking: Booking) -> tuple[datetime, datetime]:
    """From the experience's opening minutes before the start (default 30) to the slot's end."""
    opens = db.session.scalar(select(Schedule.checkin_opens_minutes).where(
        Schedule.offering_id == booking.offering_id))
    minutes = DEFAULT_OPENS_MINUTES if opens is None else opens
    return booking.slot.starts_at - timedelta(minutes=minutes), booking.slot.ends_at


def _check_state(booking: Booking, now: datetime) -> None:
    if booking.status in (S.CHECKED_IN, S.COMPLETED):
        existing = booking.check_in
        # Store-local, like every time the API shows (the counter reads HH:MM off it).
        raise refused("already_checked_in", _("Already checked in."),
                      checked_in_at=existing.checked_in_at.astimezone(ZoneInfo(booking.store.timezone)).isoformat()
                      if existing else None,
                      checked_in_by=existing.actor.display_name if existing and existing.actor else None,
                      method=existing.method if existing else None)
    if booking.status in (S.CANCELLED_BY_RESIDENT, S.CANCELLED_BY_MERCHANT, S.REJECTED):
        raise refused("cancelled", _("This booking was cancelled."), status=booking.status)
    if booking.status != S.CONFIRMED:
        raise refused("not_confirmed", _("This booking is not confirmed."), status=booking.status)
    opens, closes = window_of(booking)
    if not opens <= now <= closes:
        zone = ZoneInfo(booking.store.timezone)  # store-local, as the counter shows them; said by the server's clock
        raise refused("outside_window", _("Not the time for this visit."), too_early=now < opens,
                      opens_at=opens.astimezone(zone).isoformat(), closes_at=closes.astimezone(zone).isoformat(),
                      timezone=booking.store.timezone)


def _lock(booking: Booking) -> Booking:
    return db.session.scalar(select(Booking).where(Booking.id == booking.id).with_for_update()
                             .execution_options(populate_existing=True))


@dataclass
class CheckInResult:
    booking: Booking
    check_in: CheckIn
    collect: dict[str, str] = field(default_factory=dict)


@dataclass
class ScanAnswer:
    """What the counter is told: the HTTP status and the JSON body (a result, or the error envelope)."""

    status: int
    body: dict[str, Any]


def staff_check_in(actor: User, store_id: int, code: Any, key: bytes, now: datetime) -> CheckInResult:
    """Check a visitor in at the counter from a scanned or typed code.

    :raises PermissionDenied: unless the actor works at the store.
    :raises CheckInError: invalid_code, wrong_store, cancelled, not_confirmed, already_checked_in,
        outside_window.
    """
    store = _counter(actor, store_id)
    booking, method = find_by_code(code, key, now)
    return _admit(actor, store, booking, method, now)


def scan(actor: User, store_id: int, code: Any, nonce: str | None, key: bytes, now: datetime,
         render: Callable[[CheckInResult], dict[str, Any]]) -> ScanAnswer:
    """Answer a counter scan, once per nonce: ``render(result)`` on success, the error envelope on refusal.

    A retry carrying an earlier scan's nonce gets that scan's answer again, refusals included. Every
    refused scan at a store the actor works at is logged (``check_in_failures``) with its reason code.
    The caller commits either way: a refusal leaves its log row and its answer, nothing else.
    """
    previous = _replay(actor, nonce)
    if previous is not None:
        return ScanAnswer(*previous)
    counter_id = booking_id = None
    try:
        with db.session.begin_nested():
            store = _counter(actor, store_id)
            counter_id = store.id
            booking, method = find_by_code(code, key, now)
            booking_id = booking.id
            answer = ScanAnswer(200, render(_admit(actor, store, booking, method, now)))
    except DomainError as error:
        answer = ScanAnswer(error.http_status, error_body(error.code, str(error.message), error.details))
        if counter_id is not None:
            _log_failure(counter_id, actor, code, error.code, booking_id, now)
    _remember(actor, nonce, answer.status, answer.body)
    return answer


def _counter(actor: User, store_id: int) -> Store:
    store = get_store(actor, store_id)
    if not can_view_store_private(actor, store):
        raise PermissionDenied(_("Only the store's owner and staff check visitors in."))
    return store


def _admit(actor: User, store: Store, booking: Booking, method: str, now: datetime) -> CheckInResult:
    if booking.store_id != store.id:
        # Nothing about the other store: a code found elsewhere must not tell whose it is.
        raise refused("wrong_store", _("This booking is for another store."))
    booking = _lock(booking)
    _check_state(booking, now)
    check_in = CheckIn(booking_id=booking.id, store_id=store.id, method=method, verification="staff_verified",
                       actor_id=actor.id, checked_in_at=now)
    _save(check_in, booking)
    transition(booking, S.CHECKED_IN, actor, f"checked in at the counter ({method})")
    return CheckInResult(booking, check_in, {"amount": f"{booking.price_due:.2f}", "currency": booking.currency})


def _save(check_in: CheckIn, booking: Booking) -> None:
    try:
        with db.session.begin_nested():
            db.session.add(check_in)
            db.session.flush()
    except IntegrityError:
        raise refused("already_checked_in", _("Already checked in.")) from None


# -- the store's rotating code and the resident's own check-in ----------------------------------

def store_code(store: Store, at: datetime, step_offset: int = 0) -> str:
    """The 6-digit code shown at the counter at ``at`` (HOTP over 60-second steps)."""
    counter = int(at.timestamp()) // STORE_CODE_STEP + step_offset
    digest = hmac.new(bytes.fromhex(store.checkin_secret), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def seconds_left(at: datetime) -> int:
    return STORE_CODE_STEP - int(at.timestamp()) % STORE_CODE_STEP


def self_check_in(actor: User, booking_id: int, position: dict[str, Any], code: Any, now: datetime) -> CheckInResult:
    """The resident says "I'm here": a position inside the geofence plus the counter's current code.

    A check-in with both signals is ``verified``. When staff already checked the visit in, the
    resident's proof is added to it.

    :raises NotFound: unless it is the actor's own booking.
    :raises CheckInError: missing_position, position_too_vague, too_far, stale_code, and the state and
        window reasons of a staff check-in.
    """
    booking = get_booking(actor, booking_id)
    if booking.resident_id != actor.id:
        raise NotFound(_("No such booking."))
    point, accuracy = _position(position)
    store = booking.store
    if not isinstance(code, str) or normalise_code(code) not in (store_code(store, now), store_code(store, now, -1)):
        raise refused("stale_code", _("That is not the code shown at the counter right now."))
    if accuracy > store.geofence_m:
        raise refused("position_too_vague", _("Your position is too imprecise to prove you are here."),
                      accuracy_m=accuracy, needed_m=store.geofence_m)
    distance = db.session.scalar(select(distance_m(Store.location, point)).where(Store.id == store.id))
    if distance > store.geofence_m:
        raise refused("too_far", _("You are not at the store yet."), distance_m=round(distance),
                      geofence_m=store.geofence_m)
    booking = _lock(booking)
    if booking.status == S.CHECKED_IN and booking.check_in is not None and booking.check_in.lat is None:
        check_in = booking.check_in
        check_in.lat, check_in.lng, check_in.accuracy_m = point.lat, point.lng, accuracy
        check_in.distance_m, check_in.geofence_at, check_in.verification = distance, now, "verified"
        record_event(booking, booking.status, booking.status, actor, "resident confirmed their position",
                distance_m=round(distance))
        return CheckInResult(booking, check_in)
    _check_state(booking, now)
    check_in = CheckIn(booking_id=booking.id, store_id=store.id, method="self_geofence", verification="verified",
                       actor_id=actor.id, checked_in_at=now, lat=point.lat, lng=point.lng, accuracy_m=accuracy,
                       distance_m=distance, geofence_at=now)
    _save(check_in, booking)
    transition(booking, S.CHECKED_IN, actor, "checked in with position and the counter's code",
                distance_m=round(distance))
    return CheckInResult(booking, check_in, {"amount": f"{booking.price_due:.2f}", "currency": booking.currency})


def _position(position: dict[str, Any] | None) -> tuple[LngLat, float]:
    if not position or position.get("lat") is None or position.get("lng") is None:
        raise refused("missing_position", _("Allow location so we can see you are at the store."))
    try:
        point = LngLat.parse(position.get("lng"), position.get("lat"))
    except InvalidCoordinates as exc:
        raise ValidationFailed(details=exc.errors) from None
    accuracy = position.get("accuracy")
    if isinstance(accuracy, bool) or not isinstance(accuracy, (int, float)) or not 0 <= accuracy < 1e7:
        raise ValidationFailed(details={"accuracy": _("must be the position's accuracy in metres.")})
    return point, float(accuracy)


# -- nonces and failed scans ----------------------------------------------------------------------

def _replay(actor: User, nonce: str | None) -> tuple[int, dict] | None:
    if not nonce:
        return None
    row = db.session.get(CheckInAttempt, (actor.id, nonce))
    return (row.status_code, row.body) if row else None


def _remember(actor: User, nonce: str | None, status: int, body: dict) -> None:
    """Keep the answer to a scan (the first, if a twin raced it), so a retry gets it again."""
    if nonce:
        db.session.execute(pg_insert(CheckInAttempt).values(actor_id=actor.id, nonce=nonce, status_code=status,
                                                            body=body).on_conflict_do_nothing())


def _log_failure(store_id: int, actor: User, code: Any, reason: str, booking_id: int | None,
                 now: datetime) -> None:
    tried = "".join(ch for ch in code if ch.isprintable()).strip() if isinstance(code, str) else ""
    db.session.add(CheckInFailure(store_id=store_id, actor_id=actor.id, booking_id=booking_id,
                                  code_tried=tried[:CheckInFailure.CODE_KEPT], reason=reason, failed_at=now))
    db.session.flush()


# -- offline payments ----------------------------------------------------------------------------

def record_payment(actor: User, booking_id: int, amount: Any, method: Any, note: Any,
                   supersedes_id: int | None = None) -> OfflinePayment:
    """Record money taken at the store; a correction is a new row that supersedes an older one.

    :raises NotFound: unless the actor works at the booking's store.
    :raises ValidationFailed: on a bad amount, method, note or superseded payment.
    :raises CheckInError: ``not_checked_in`` before the visit is checked in.
    """
    booking = get_booking(actor, booking_id)
    if not can_view_store_private(actor, booking.store):
        raise NotFound(_("No such booking."))
    errors: dict[str, str] = {}
    try:
        value = Decimal(str(amount))
        if not value.is_finite() or value < 0 or value > Decimal("99999999.99") or value != value.quantize(
                Decimal("0.01")):
            raise ValueError
    except (ValueError, ArithmeticError):
        errors["amount"] = _("must be an amount from 0 with at most two decimals.")
        value = Decimal(0)
    if method not in set(PaymentMethod):
        errors["method"] = _("must be one of: %(choices)s.", choices=", ".join(PaymentMethod))
    if note is not None and (not isinstance(note, str) or len(note) > 300):
        errors["note"] = _("must be at most 300 characters.")
    # Lock, then read the payments: a concurrent correction of the same payment waits here, then sees
    # that this one no longer stands. Checked before the lock, both would pass and both would count.
    booking = _lock(booking)
    db.session.refresh(booking, ["payments"])
    # Only a payment that still stands: correcting one twice would leave both corrections in the takings.
    if supersedes_id is not None and not any(p.id == supersedes_id for p in effective_payments(booking)):
        errors["supersedes_id"] = _("must be an earlier payment of this booking that no later row corrects.")
    if errors:
        raise ValidationFailed(details=errors)
    if booking.status not in (S.CHECKED_IN, S.COMPLETED):
        raise refused("not_checked_in", _("Check the visit in before recording what was paid."))
    payment = OfflinePayment(booking_id=booking.id, amount=value, currency=booking.currency, method=method,
                             note=(note or "").strip(), recorded_by_id=actor.id, supersedes_id=supersedes_id)
    booking.payments.append(payment)  # the collection was read above: keep it whole
    booking.payment_status = "paid_at_store"
    db.session.flush()
    record_event(booking, booking.status, booking.status, actor, "correction recorded" if supersedes_id
            else "payment recorded", amount=f"{value:.2f}", method=method, payment_id=payment.id)
    return payment


def effective_payments(booking: Booking) -> list[OfflinePayment]:
    """The payments that stand: every row no later row corrects."""
    superseded = {p.supersedes_id for p in booking.payments if p.supersedes_id}
    return [p for p in booking.payments if p.id not in superseded]


# -- the day's roster -----------------------------------------------------------------------------

@dataclass
class Roster:
    store: Store
    day: date
    expected: list[Booking]
    arrived: list[Booking]
    late: list[Booking]
    no_show: list[Booking]
    cancelled: list[Booking]
    takings: dict[str, Decimal]


def roster(actor: User, store_id: int, day: date | None, now: datetime) -> Roster:
    """Who is expected, who arrived, who is late or a no-show, and what was taken, for a business day
    (``now``'s when not given).

    A business day runs from midnight to midnight, except that a visit after midnight belongs to the
    evening before while that night's opening lasts (app/merchants/hours.py).

    :raises NotFound: unless the actor works at the store.
    """
    from bookings.services import bookings_of_store_day

    store = get_store(actor, store_id)
    day = day or business_day(store, now)
    start, end = business_day_bounds(store, day)
    overnight = (end - timedelta(microseconds=1)).astimezone(ZoneInfo(store.timezone)).date() > day
    bookings = [booking for local_date in ((day, day + timedelta(days=1)) if overnight else (day,))
                for booking in bookings_of_store_day(actor, store, local_date, counter=True)
                if start <= booking.starts_at < end]
    out = Roster(store, day, [], [], [], [], [], {})
    for booking in bookings:
        if booking.status in (S.CHECKED_IN, S.COMPLETED):
            out.arrived.append(booking)
        elif booking.status == S.NO_SHOW:
            out.no_show.append(booking)
        elif booking.status in (S.CONFIRMED, S.PENDING):
            (out.late if now > booking.starts_at + LATE_AFTER else out.expected).append(booking)
        else:
            out.cancelled.append(booking)
        for payment in effective_payments(booking):
            out.takings[payment.currency] = out.takings.get(payment.currency, Decimal(0)) + payment.amount
    return out


