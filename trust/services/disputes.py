"""Disputes and the compensation ledger: a resident reports a problem with a visit, the store answers in
48 hours, the operator decides what the two sides do not settle, and what anyone owes is a ledger row.

Rules (the state table is trust/states.py):

- The resident opens a dispute on their own booking, once: from the slot's start until 7 days after its end
  for a visit that took place (confirmed, checked in, completed), or within 7 days after the store cancelled,
  declined or marked it a no-show. ``charged_more_than_listed`` needs a recorded payment above price x party.
- The store (its owner or staff; an admin is the judge, never a side) answers by ``respond_by``: accept,
  saying what it will do (a refund at the store or a goodwill voucher: the business owes the resident, settled
  when the resident confirms; or an apology only: closed at once), or contest, which sends the dispute to the
  operator at once. No answer in time: the sweep escalates it.
- The operator (an admin) rejects (closed at once) or upholds, optionally with compensation: the platform owes
  the resident (advance compensation) and the business owes the platform (recovery).
- A dispute closes when nothing remains owed to the resident in it: at once, or when the resident confirms
  what they received. A withdrawn or rejected dispute waives what was still owed to the resident in it.
- Balances are sums over ``compensation_entries``; nothing is stored twice. Every change appends a
  ``dispute_events`` row and tells the other side (inbox and e-mail, in their language).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, BinaryIO

from flask_babel import gettext as _
from sqlalchemy import case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from app.auth.models import Role, User
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from app.i18n import format_when, in_locale_of
from app.media.services import store_uploads
from app.merchants.models import Store, StoreStaff
from app.merchants.services import can_view_store_private
from bookings.checkin import effective_payments
from bookings.errors import InvalidTransition
from bookings.models import Booking, BookingEvent
from bookings.services import get_booking, notify_account, overturn_no_show
from bookings.states import BookingStatus
from trust.models import (
    DISPUTE_TEXT,
    MAX_DISPUTE_PHOTOS,
    CompensationEntry,
    Dispute,
    DisputeAsk,
    DisputeEvent,
    DisputePhoto,
    DisputeReason,
    EntryStatus,
    Party,
)
from trust.services.integrity import recompute_business
from trust.states import OPEN, REASON_LABELS, DisputeStatus, MerchantOffer, assert_transition

__all__ = [
    "ANSWER_WINDOW", "DISPUTE_WINDOW", "ESCALATE_WINDOW", "MAX_AMOUNT", "actions_for", "add_dispute_photos",
    "answer_dispute", "confirm_received", "dispute_entries", "escalate_by",
    "decide_dispute", "dispute_of_booking", "dispute_window", "disputes_of_resident", "disputes_of_store",
    "escalate_dispute", "escalated_disputes", "get_dispute", "is_merchant_side", "open_dispute", "sweep_disputes",
    "withdraw_dispute",
]

D = DisputeStatus
B = BookingStatus
DISPUTE_WINDOW = timedelta(days=7)
ANSWER_WINDOW = timedelta(hours=48)
ESCALATE_WINDOW = timedelta(days=14)  # after the store accepted: time to tell Onsite it did not do it
MAX_AMOUNT = Decimal("99999999.99")
NOTE_MAX = 2000
# Bookings where the store did something to the visit: the window runs from that change.
MERCHANT_ENDED = (B.CANCELLED_BY_MERCHANT, B.REJECTED, B.NO_SHOW)
# Bookings whose visit took place (or should have): the window runs from the slot.
VISITED = (B.CONFIRMED, B.CHECKED_IN, B.COMPLETED)


# -- reading and access ---------------------------------------------------------------------------------------

def is_merchant_side(actor: User | None, store: Store) -> bool:
    """The store's owner or staff answer for it (an admin only when they own it: the operator is the judge)."""
    if actor is None:
        return False
    if store.business.owner_id == actor.id:
        return True
    return db.session.scalar(select(StoreStaff.id).where(StoreStaff.store_id == store.id,
                                                         StoreStaff.user_id == actor.id)) is not None


def _may_see(actor: User | None, dispute: Dispute) -> bool:
    return actor is not None and (dispute.resident_id == actor.id or actor.is_admin
                                  or can_view_store_private(actor, dispute.store))


def get_dispute(actor: User | None, dispute_id: int) -> Dispute:
    """Return a dispute its resident, the store's people or an admin may see.

    :raises NotFound: for anyone else (whether or not it exists).
    """
    dispute = db.session.get(Dispute, dispute_id)
    if dispute is None or not _may_see(actor, dispute):
        raise NotFound(_("No such dispute."))
    return dispute


def dispute_of_booking(booking: Booking) -> Dispute | None:
    return db.session.scalar(select(Dispute).where(Dispute.booking_id == booking.id))


def _listed():
    return (joinedload(Dispute.booking, innerjoin=True).joinedload(Booking.offering, innerjoin=True),
            joinedload(Dispute.store, innerjoin=True), joinedload(Dispute.resident, innerjoin=True))


def disputes_of_resident(actor: User, limit: int = 100) -> list[Dispute]:
    """The actor's disputes, newest first."""
    return list(db.session.scalars(select(Dispute).where(Dispute.resident_id == actor.id).options(*_listed())
                                   .order_by(Dispute.opened_at.desc(), Dispute.id.desc()).limit(limit)))


def disputes_of_store(actor: User, store: Store, *, open_only: bool = False, limit: int = 200) -> list[Dispute]:
    """A store's disputes, those waiting for its answer first, then newest first.

    :raises NotFound: unless the actor works at the store (or is an admin).
    """
    if not can_view_store_private(actor, store):
        raise NotFound(_("No such store."))
    query = select(Dispute).where(Dispute.store_id == store.id).options(*_listed())
    if open_only:
        query = query.where(Dispute.status.in_(OPEN))
    waiting = case((Dispute.status == D.OPENED, 0), else_=1)
    return list(db.session.scalars(query.order_by(waiting, Dispute.opened_at.desc(), Dispute.id.desc()).limit(limit)))


def escalated_disputes(actor: User, limit: int = 200) -> list[Dispute]:
    """The operator's queue: escalated disputes, oldest escalation first.

    :raises PermissionDenied: unless the actor is an admin.
    """
    _require_admin(actor)
    return list(db.session.scalars(select(Dispute).where(Dispute.status == D.ESCALATED).options(*_listed())
                                   .order_by(Dispute.escalated_at, Dispute.id).limit(limit)))


def escalate_by(dispute: Dispute) -> datetime | None:
    """Until when the resident may ask Onsite to decide a dispute the store accepted (14 days from its answer);
    None in every other state (an unanswered dispute goes to Onsite by itself after the store's 48 hours)."""
    if dispute.status != D.MERCHANT_ACCEPTED or dispute.answered_at is None:
        return None
    return dispute.answered_at + ESCALATE_WINDOW


def actions_for(actor: User | None, dispute: Dispute, now: datetime) -> list[str]:
    """What the actor may do to the dispute now (answer, add_photos, withdraw, escalate, confirm, decide): what
    pages offer and the API tells clients. The verbs check again; this only saves a refused click."""
    if actor is None:
        return []
    actions = []
    status = dispute.status
    if dispute.resident_id == actor.id:
        if status in OPEN:
            actions += ["add_photos", "withdraw"]
        if (status == D.MERCHANT_ACCEPTED and now <= escalate_by(dispute)) or \
                (status == D.OPENED and now > dispute.respond_by):
            actions.append("escalate")
        if status in (D.MERCHANT_ACCEPTED, D.UPHELD) and db.session.scalar(select(func.count(CompensationEntry.id))
                                                                           .where(*_owed_to_resident_filter(dispute))):
            actions.append("confirm")
    elif is_merchant_side(actor, dispute.store):
        if status == D.OPENED and now <= dispute.respond_by:
            actions.append("answer")
        if status in OPEN:
            actions.append("add_photos")
    if actor.is_admin and status == D.ESCALATED:
        actions.append("decide")
    return actions


def dispute_entries(dispute: Dispute) -> list[CompensationEntry]:
    """The ledger rows a dispute made, oldest first."""
    return list(db.session.scalars(select(CompensationEntry).where(CompensationEntry.dispute_id == dispute.id)
                                   .order_by(CompensationEntry.id)))


def _require_admin(actor: User | None) -> None:
    if actor is None or not actor.is_admin:
        raise PermissionDenied(_("Only the Onsite operator can do that."))


def _locked(dispute_id: int) -> Dispute:
    dispute = db.session.scalar(select(Dispute).where(Dispute.id == dispute_id).with_for_update()
                                .execution_options(populate_existing=True))
    if dispute is None:
        raise NotFound(_("No such dispute."))
    return dispute


# -- the window -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Window:
    opens_at: datetime
    closes_at: datetime


def _changed_at(booking: Booking) -> datetime:
    """When the booking reached its current state (its latest audit row), else its last update."""
    return db.session.scalar(select(func.max(BookingEvent.created_at)).where(
        BookingEvent.booking_id == booking.id, BookingEvent.to_status == booking.status)) or booking.updated_at


def dispute_window(booking: Booking) -> Window | None:
    """When the resident may dispute this booking, or None when nothing happened that a dispute is about."""
    if booking.status in MERCHANT_ENDED:
        changed = _changed_at(booking)
        return Window(changed, max(changed, booking.slot.ends_at if booking.status == B.NO_SHOW else changed)
                      + DISPUTE_WINDOW)
    if booking.status in VISITED:
        return Window(booking.slot.starts_at, booking.slot.ends_at + DISPUTE_WINDOW)
    return None


# -- input checks -----------------------------------------------------------------------------------------------

def _text(value: Any, field: str, errors: dict, *, least: int, most: int, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[field] = _("must be text.")
        return ""
    value = value.strip()
    if not value and not required:
        return ""
    if not least <= len(value) <= most:
        errors[field] = _("must be %(least)d to %(most)d characters.", least=least, most=most)
    return value


def _amount(value: Any, field: str, errors: dict) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value).strip())
        if not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT or amount != amount.quantize(Decimal("0.01")):
            raise ValueError
    except (ValueError, ArithmeticError, InvalidOperation):
        errors[field] = _("must be an amount above 0 with at most two decimals.")
        return None
    return amount


def _choice(value: Any, field: str, choices: Sequence[str], errors: dict) -> str:
    if value not in choices:
        errors[field] = _("must be one of: %(choices)s.", choices=", ".join(choices))
        return ""
    return value


def _check_photos(uploads: Sequence, errors: dict, room: int = MAX_DISPUTE_PHOTOS) -> None:
    if len(uploads) > room:
        errors["photos"] = _("at most %(most)d photos.", most=room)


# -- notices ----------------------------------------------------------------------------------------------------

def _owner(dispute: Dispute) -> User:
    return dispute.store.business.owner


def _tell(user: User, dispute: Dispute, title: Any, body: Any, **facts: Any) -> None:
    """An inbox notice and an e-mail about ``dispute`` to ``user``, written in their language.

    ``title`` and ``body`` are functions of the facts (called inside the recipient's locale) so the reason,
    the experience and the deadline read as the recipient reads them; times are on the store's clock.
    """
    with in_locale_of(user):
        zone = dispute.store.timezone
        known = {"title": dispute.booking.offering.title, "store": dispute.store.name,
                 "name": dispute.resident.display_name, "reason": str(REASON_LABELS[dispute.reason]),
                 "visit": format_when(dispute.booking.starts_at, zone, "long"),
                 "deadline": format_when(dispute.respond_by, zone, "long"), **facts}
        notify_account(user, "dispute", title(known), body(known))


def _event(dispute: Dispute, dst: str, actor: User | None, note: str, now: datetime) -> None:
    """Move a (locked) dispute to ``dst`` and append its audit row.

    :raises InvalidTransition: when the state table does not allow it.
    """
    assert_transition(dispute.status, dst)
    db.session.add(DisputeEvent(dispute_id=dispute.id, actor_id=actor.id if actor else None,
                                from_status=dispute.status, to_status=dst, note=note, created_at=now))
    dispute.status = dst
    if dst in (D.CLOSED, D.WITHDRAWN):
        dispute.closed_at = now
    if dst == D.ESCALATED:
        dispute.escalated_at = now
    db.session.flush()
    if dst == D.ESCALATED:
        _tell_admins(dispute)


def _tell_admins(dispute: Dispute) -> None:
    """Every active admin hears of a dispute that now waits in the operator's queue."""
    for admin in db.session.scalars(select(User).where(User.role == Role.ADMIN, User.is_active_account)):
        _tell(admin, dispute, lambda f: _("Dispute to decide: %(title)s", **f),
              lambda f: _("%(name)s's dispute with %(store)s about the visit on %(visit)s waits for your decision.",
                          **f))


# -- the resident -----------------------------------------------------------------------------------------------

def open_dispute(actor: User, booking_id: int, data: Mapping[str, Any],
                 photos: Sequence[tuple[str, bytes | BinaryIO]], now: datetime) -> Dispute:
    """Open a dispute on the actor's own booking: a reason, a description, what they ask for, up to 4 photos.

    :raises NotFound: when the actor may not see the booking.
    :raises PermissionDenied: when the actor is not its resident.
    :raises ValidationFailed: on a bad field (``reason_not_applicable``, ``not_overcharged`` for reasons that
        do not fit; ``image_*`` for a refused photo).
    :raises Conflict: ``not_disputable``, ``dispute_window_closed``, ``already_disputed``.
    """
    booking = get_booking(actor, booking_id)
    if booking.resident_id != actor.id:
        raise PermissionDenied(_("Only the resident who booked can report a problem with this visit."))
    errors: dict[str, Any] = {}
    reason = _choice(data.get("reason"), "reason", DisputeReason.ALL, errors)
    description = _text(data.get("description"), "description", errors, least=DISPUTE_TEXT[0],
                        most=DISPUTE_TEXT[1], required=True)
    asks = _choice(data.get("asks"), "asks", DisputeAsk.ALL, errors)
    amount = _amount(data.get("asked_amount"), "asked_amount", errors)
    if asks == DisputeAsk.REFUND and amount is None and "asked_amount" not in errors:
        errors["asked_amount"] = _("say how much you ask to be refunded.")
    if asks == DisputeAsk.APOLOGY and amount is not None:
        errors["asked_amount"] = _("leave it empty when you ask for an apology.")
    _check_photos(photos, errors)
    if errors:
        raise ValidationFailed(details=errors)
    booking = db.session.scalar(select(Booking).where(Booking.id == booking.id).with_for_update()
                                .execution_options(populate_existing=True))  # one dispute at a time
    existing = dispute_of_booking(booking)
    if existing is not None:
        raise Conflict(_("You have already reported a problem with this visit."), code="already_disputed",
                       details={"dispute_id": existing.id})
    window = dispute_window(booking)
    if window is None or now < window.opens_at:
        raise Conflict(_("There is nothing to dispute yet: you can report a problem once the visit has started, "
                         "or when the store cancels, declines or marks it a no-show."), code="not_disputable",
                       details={"booking_status": booking.status,
                                "opens_at": window.opens_at.isoformat() if window else None})
    if now > window.closes_at:
        raise Conflict(_("The 7 days to report a problem with this visit are over."), code="dispute_window_closed",
                       details={"closed_at": window.closes_at.isoformat()})
    _check_reason(booking, reason)
    dispute = Dispute(booking_id=booking.id, store_id=booking.store_id, resident_id=actor.id, reason=reason,
                      description=description, asks=asks, asked_amount=amount, currency=booking.currency,
                      status=D.OPENED, opened_at=now, respond_by=now + ANSWER_WINDOW)
    try:
        with db.session.begin_nested():
            db.session.add(dispute)
            db.session.flush()
    except IntegrityError as exc:  # a twin request slipped past the lock (it cannot, but the constraint says so)
        if "booking_id" not in str(exc.orig):
            raise
        raise Conflict(_("You have already reported a problem with this visit."), code="already_disputed") from None
    db.session.add(DisputeEvent(dispute_id=dispute.id, actor_id=actor.id, from_status=None, to_status=D.OPENED,
                                note="", created_at=now))
    _store_photos(actor, dispute, "resident", photos)
    db.session.flush()
    db.session.refresh(dispute, ["booking", "store", "resident"])
    _tell(_owner(dispute), dispute,
          lambda f: _("Dispute: %(title)s", **f),
          lambda f: _("%(name)s reported a problem with the visit on %(visit)s: %(reason)s. Answer by %(deadline)s, "
                      "or Onsite's operator decides.", **f))
    return dispute


def _check_reason(booking: Booking, reason: str) -> None:
    """Refuse a reason that what happened to the booking rules out.

    :raises ValidationFailed: ``reason_not_applicable`` or ``not_overcharged``.
    """
    if reason == DisputeReason.WRONGLY_MARKED_NO_SHOW and booking.status != B.NO_SHOW:
        raise ValidationFailed(_("This visit was not marked as a no-show."), code="reason_not_applicable",
                               details={"reason": _("the store did not mark this visit as a no-show.")})
    if reason == DisputeReason.MERCHANT_CANCELLED_LATE and booking.status not in (B.CANCELLED_BY_MERCHANT,
                                                                                   B.REJECTED):
        raise ValidationFailed(_("The store did not cancel this visit."), code="reason_not_applicable",
                               details={"reason": _("the store did not cancel or decline this visit.")})
    if reason == DisputeReason.CHARGED_MORE:
        paid = sum((p.amount for p in effective_payments(booking)), Decimal(0))
        listed = booking.unit_price * booking.party_size
        if paid <= listed:
            raise ValidationFailed(
                _("The store recorded a payment of %(paid)s %(currency)s, not more than the listed %(listed)s "
                  "%(currency)s for your party. If you paid more than was recorded, choose another reason and "
                  "say so.", paid=f"{paid:.2f}", listed=f"{listed:.2f}", currency=booking.currency),
                code="not_overcharged",
                details={"reason": _("the payment recorded (%(paid)s %(currency)s) is not more than the listed price "
                                     "(%(listed)s %(currency)s).", paid=f"{paid:.2f}", listed=f"{listed:.2f}",
                                     currency=booking.currency)})


def _store_photos(actor: User, dispute: Dispute, side: str, photos: Sequence[tuple[str, bytes | BinaryIO]]) -> None:
    taken = db.session.scalar(select(func.count(DisputePhoto.id)).where(
        DisputePhoto.dispute_id == dispute.id, DisputePhoto.side == side)) or 0
    if taken + len(photos) > MAX_DISPUTE_PHOTOS:
        raise Conflict(_("Each side may add at most %(limit)d photos.", limit=MAX_DISPUTE_PHOTOS),
                       code="too_many_photos", details={"limit": MAX_DISPUTE_PHOTOS, "photos": taken})
    for index, image in enumerate(store_uploads(photos, uploaded_by=actor)):
        db.session.add(DisputePhoto(dispute_id=dispute.id, side=side, image_id=image.id, position=taken + index))
    db.session.flush()
    db.session.expire(dispute, ["photos"])


def add_dispute_photos(actor: User, dispute_id: int, photos: Sequence[tuple[str, bytes | BinaryIO]],
                       now: datetime) -> Dispute:
    """Add evidence photos to a dispute still open, on the actor's side (the resident's or the store's).

    :raises NotFound: when the actor may not see it.
    :raises PermissionDenied: unless the actor is its resident or works for the store.
    :raises InvalidTransition: once it is decided, withdrawn or closed.
    :raises Conflict: ``too_many_photos`` past 4 a side. :raises ValidationFailed: for a refused file.
    """
    dispute = get_dispute(actor, dispute_id)
    if dispute.resident_id == actor.id:
        side = "resident"
    elif is_merchant_side(actor, dispute.store):
        side = "merchant"
    else:
        raise PermissionDenied(_("Only the resident and the store add photos to a dispute."))
    if not photos:
        raise ValidationFailed(_("Choose at least one photo."), details={"photos": [_("is required: choose a photo.")]})
    dispute = _locked(dispute.id)
    if dispute.status not in OPEN:
        raise InvalidTransition(_("This dispute is settled: no more photos."), details={"from": dispute.status})
    _store_photos(actor, dispute, side, photos)
    return dispute


def _resident_action(actor: User, dispute_id: int) -> Dispute:
    dispute = get_dispute(actor, dispute_id)
    if dispute.resident_id != actor.id:
        raise PermissionDenied(_("Only the resident who opened the dispute can do that."))
    return _locked(dispute.id)


def _owed_to_resident_filter(dispute: Dispute) -> tuple:
    return (CompensationEntry.dispute_id == dispute.id, CompensationEntry.creditor_kind == Party.RESIDENT,
            CompensationEntry.status == EntryStatus.OWED)


def _owed_to_resident(dispute: Dispute) -> list[CompensationEntry]:
    return list(db.session.scalars(select(CompensationEntry).where(*_owed_to_resident_filter(dispute))
                                   .with_for_update()))


def _waive_owed_to_resident(dispute: Dispute, now: datetime) -> None:
    for entry in _owed_to_resident(dispute):
        entry.status, entry.settled_at = EntryStatus.WAIVED, now


def withdraw_dispute(actor: User, dispute_id: int, note: Any, now: datetime) -> Dispute:
    """The resident withdraws their dispute (from any open state); what was still owed to them in it is waived.

    :raises NotFound, PermissionDenied: unless the actor is its resident.
    :raises InvalidTransition: once it is decided or closed.
    """
    dispute = _resident_action(actor, dispute_id)
    errors: dict = {}
    note = _text(note, "note", errors, least=0, most=NOTE_MAX, required=False)
    if errors:
        raise ValidationFailed(details=errors)
    _event(dispute, D.WITHDRAWN, actor, note, now)
    _waive_owed_to_resident(dispute, now)
    _tell(_owner(dispute), dispute, lambda f: _("Dispute withdrawn: %(title)s", **f),
          lambda f: _("%(name)s withdrew their dispute about the visit on %(visit)s.", **f))
    return dispute


def escalate_dispute(actor: User, dispute_id: int, note: Any, now: datetime) -> Dispute:
    """The resident asks the operator to decide: the store accepted but did not do what it said, or its 48
    hours to answer are over (before the sweep got there).

    :raises NotFound, PermissionDenied: unless the actor is its resident.
    :raises InvalidTransition: from any other state, or before the store's deadline.
    :raises Conflict: ``escalation_window_closed`` more than 14 days after the store accepted (``escalate_by``).
    :raises ValidationFailed: without a note saying why (10 characters at least).
    """
    dispute = _resident_action(actor, dispute_id)
    errors: dict = {}
    note = _text(note, "note", errors, least=DISPUTE_TEXT[0], most=NOTE_MAX, required=True)
    if errors:
        raise ValidationFailed(details=errors)
    if dispute.status == D.OPENED and now <= dispute.respond_by:
        raise InvalidTransition(_("The store has until %(deadline)s to answer first.",
                                  deadline=format_when(dispute.respond_by, dispute.store.timezone, "long")),
                                details={"from": dispute.status, "to": D.ESCALATED,
                                         "respond_by": dispute.respond_by.isoformat()})
    if dispute.status not in (D.OPENED, D.MERCHANT_ACCEPTED):
        raise InvalidTransition(_("Only a dispute the store accepted (or left unanswered) can be sent to Onsite."),
                                details={"from": dispute.status, "to": D.ESCALATED})
    until = escalate_by(dispute)
    if until is not None and now > until:
        raise Conflict(_("The 14 days to ask Onsite to decide ended on %(deadline)s.",
                         deadline=format_when(until, dispute.store.timezone, "long")),
                       code="escalation_window_closed", details={"escalate_by": until.isoformat()})
    _event(dispute, D.ESCALATED, actor, note, now)
    _tell(_owner(dispute), dispute, lambda f: _("Dispute sent to Onsite: %(title)s", **f),
          lambda f: _("%(name)s asked Onsite's operator to decide their dispute about the visit on %(visit)s.", **f))
    return dispute


def confirm_received(actor: User, dispute_id: int, now: datetime) -> Dispute:
    """The resident confirms they received the refund, voucher or compensation: it is settled, the dispute closes.

    :raises NotFound, PermissionDenied: unless the actor is its resident.
    :raises Conflict: ``nothing_to_confirm`` when nothing is owed to them in it.
    """
    dispute = _resident_action(actor, dispute_id)
    owed = _owed_to_resident(dispute) if dispute.status in (D.MERCHANT_ACCEPTED, D.UPHELD) else []
    if not owed:
        raise Conflict(_("Nothing in this dispute is waiting for you to confirm."), code="nothing_to_confirm",
                       details={"status": dispute.status})
    for entry in owed:
        entry.status, entry.settled_at = EntryStatus.SETTLED, now
    _event(dispute, D.CLOSED, actor, "received", now)
    _tell(_owner(dispute), dispute, lambda f: _("Dispute closed: %(title)s", **f),
          lambda f: _("%(name)s confirmed they received what was owed. The dispute is closed.", **f))
    return dispute


# -- the store --------------------------------------------------------------------------------------------------

def answer_dispute(actor: User, dispute_id: int, data: Mapping[str, Any],
                   photos: Sequence[tuple[str, bytes | BinaryIO]], now: datetime) -> Dispute:
    """The store answers within 48 hours: ``accept`` (with ``offer``: refund_at_store or voucher of an
    ``amount``, or none for an apology) or ``contest`` with its side (``message``) and evidence photos.

    :raises NotFound: when the actor may not see the dispute.
    :raises PermissionDenied: unless the actor is the store's owner or staff.
    :raises ValidationFailed: on a bad field.
    :raises InvalidTransition: unless it waits for the store's answer.
    :raises Conflict: ``answer_window_closed`` after ``respond_by``.
    """
    dispute = get_dispute(actor, dispute_id)
    if not is_merchant_side(actor, dispute.store):
        raise PermissionDenied(_("Only the store's owner or staff answer a dispute."))
    errors: dict[str, Any] = {}
    action = _choice(data.get("action"), "action", ("accept", "contest"), errors)
    contest = action == "contest"
    message = _text(data.get("message"), "message", errors, least=DISPUTE_TEXT[0] if contest else 2,
                    most=NOTE_MAX, required=contest)
    offer, amount = None, None
    if action == "accept":
        offer = _choice(data.get("offer"), "offer", tuple(MerchantOffer), errors)
        amount = _amount(data.get("amount"), "amount", errors)
        if offer in (MerchantOffer.REFUND_AT_STORE, MerchantOffer.VOUCHER) and amount is None \
                and "amount" not in errors:
            errors["amount"] = _("say how much you will refund, or what the voucher is worth.")
        if offer == MerchantOffer.NONE and amount is not None:
            errors["amount"] = _("leave it empty when you offer an apology only.")
    _check_photos(photos, errors)
    if errors:
        raise ValidationFailed(details=errors)
    dispute = _locked(dispute.id)
    assert_transition(dispute.status, D.MERCHANT_CONTESTED if contest else D.MERCHANT_ACCEPTED)
    if now > dispute.respond_by:
        raise Conflict(_("The 48 hours to answer this dispute are over: Onsite's operator will decide it."),
                       code="answer_window_closed", details={"respond_by": dispute.respond_by.isoformat()})
    dispute.merchant_answer, dispute.answered_at, dispute.answered_by_id = message, now, actor.id
    if contest:
        _event(dispute, D.MERCHANT_CONTESTED, actor, message, now)
        _store_photos(actor, dispute, "merchant", photos)
        _event(dispute, D.ESCALATED, None, "contested disputes go to the operator", now)
        _tell(dispute.resident, dispute, lambda f: _("The store contested your dispute: %(title)s", **f),
              lambda f: _("%(store)s gave its side: “%(answer)s” Onsite's operator will decide and tell you both.",
                          answer=message, **f))
        return dispute
    dispute.merchant_offer, dispute.merchant_offer_amount = offer, amount
    _event(dispute, D.MERCHANT_ACCEPTED, actor, message, now)
    _store_photos(actor, dispute, "merchant", photos)
    if amount is not None:
        db.session.add(CompensationEntry(
            dispute_id=dispute.id, debtor_kind=Party.BUSINESS, debtor_id=dispute.store.business_id,
            creditor_kind=Party.RESIDENT, creditor_id=dispute.resident_id, amount=amount, currency=dispute.currency,
            reason=offer, status=EntryStatus.OWED, recorded_by_id=actor.id, created_at=now))
        db.session.flush()
        _tell(dispute.resident, dispute, lambda f: _("The store accepted your dispute: %(title)s", **f),
              lambda f: _("%(store)s accepted and offers %(offer)s of %(amount)s %(currency)s. Confirm on the "
                          "dispute's page once you have it, or send it to Onsite if it does not come.",
                          offer=_("a refund at the store") if offer == MerchantOffer.REFUND_AT_STORE
                          else _("a goodwill voucher"), amount=f"{amount:.2f}", currency=dispute.currency, **f))
    else:
        _event(dispute, D.CLOSED, actor, "apology", now)
        _tell(dispute.resident, dispute, lambda f: _("The store apologised: %(title)s", **f),
              lambda f: _("%(store)s accepted your dispute and apologises: “%(answer)s”", answer=message, **f))
    return dispute


# -- the operator -----------------------------------------------------------------------------------------------

def decide_dispute(actor: User, dispute_id: int, data: Mapping[str, Any], now: datetime) -> Dispute:
    """The operator decides an escalated dispute: ``rejected`` (closed at once) or ``upheld``, with an optional
    ``compensation`` the platform owes the resident at once and recovers from the business.

    :raises NotFound: when the actor may not see the dispute.
    :raises PermissionDenied: unless the actor is an admin.
    :raises ValidationFailed: on a bad field. :raises InvalidTransition: unless it is escalated.
    """
    dispute = get_dispute(actor, dispute_id)
    _require_admin(actor)
    errors: dict[str, Any] = {}
    outcome = _choice(data.get("outcome"), "outcome", (D.UPHELD.value, D.REJECTED.value), errors)
    note = _text(data.get("note"), "note", errors, least=2, most=NOTE_MAX, required=True)
    amount = _amount(data.get("compensation"), "compensation", errors)
    if outcome == D.REJECTED and amount is not None:
        errors["compensation"] = _("leave it empty when you reject the dispute.")
    if errors:
        raise ValidationFailed(details=errors)
    dispute = _locked(dispute.id)
    _event(dispute, outcome, actor, note, now)
    dispute.decided_at, dispute.decided_by_id, dispute.decision_note = now, actor.id, note
    if outcome == D.REJECTED:
        _waive_owed_to_resident(dispute, now)
        _event(dispute, D.CLOSED, actor, "rejected", now)
        for user in (dispute.resident, _owner(dispute)):
            _tell(user, dispute, lambda f: _("Dispute decided: %(title)s", **f),
                  lambda f: _("Onsite's operator did not uphold the dispute about the visit on %(visit)s: "
                              "“%(note)s”", note=note, **f))
        recompute_business(dispute.store.business_id, now)  # the merchant's score moves at once
        return dispute
    if dispute.reason == DisputeReason.WRONGLY_MARKED_NO_SHOW and dispute.booking.status == B.NO_SHOW:
        overturn_no_show(dispute.booking_id, actor, now, f"no-show mark overturned by Onsite: {note}")
    if amount is not None:
        common = {"dispute_id": dispute.id, "amount": amount, "currency": dispute.currency,
                  "status": EntryStatus.OWED, "recorded_by_id": actor.id, "created_at": now}
        db.session.add_all([
            CompensationEntry(debtor_kind=Party.PLATFORM, debtor_id=None, creditor_kind=Party.RESIDENT,
                              creditor_id=dispute.resident_id, reason="advance_compensation", **common),
            CompensationEntry(debtor_kind=Party.BUSINESS, debtor_id=dispute.store.business_id,
                              creditor_kind=Party.PLATFORM, creditor_id=None, reason="recovery", **common)])
        db.session.flush()
    if not _owed_to_resident(dispute):
        _event(dispute, D.CLOSED, actor, "upheld", now)
    money = {"amount": f"{amount:.2f}", "currency": dispute.currency} if amount is not None else None
    _tell(dispute.resident, dispute, lambda f: _("Dispute upheld: %(title)s", **f),
          lambda f: (_("Onsite's operator upheld your dispute: “%(note)s” Onsite compensates you %(amount)s "
                       "%(currency)s; confirm on the dispute's page once you have it.", note=note, **money, **f)
                     if money else _("Onsite's operator upheld your dispute: “%(note)s”", note=note, **f)))
    _tell(_owner(dispute), dispute, lambda f: _("Dispute upheld: %(title)s", **f),
          lambda f: (_("Onsite's operator upheld the dispute about the visit on %(visit)s: “%(note)s” Onsite "
                       "compensated the resident %(amount)s %(currency)s, which your business owes Onsite.",
                       note=note, **money, **f)
                     if money else _("Onsite's operator upheld the dispute about the visit on %(visit)s: "
                                     "“%(note)s”", note=note, **f)))
    recompute_business(dispute.store.business_id, now)  # the merchant's score moves at once
    return dispute


def sweep_disputes(now: datetime) -> int:
    """Escalate every dispute whose store did not answer by ``respond_by``; return how many.

    Safe from cron and from several hosts at once: rows are claimed with ``FOR UPDATE SKIP LOCKED`` and only
    disputes still ``opened`` match, so each is escalated once.
    """
    due = db.session.scalars(select(Dispute).where(Dispute.status == D.OPENED, Dispute.respond_by <= now)
                             .order_by(Dispute.respond_by).limit(500)
                             .with_for_update(skip_locked=True).execution_options(populate_existing=True)).all()
    for dispute in due:
        _event(dispute, D.ESCALATED, None, "no answer from the store in 48 hours", now)
        _tell(dispute.resident, dispute, lambda f: _("Your dispute went to Onsite: %(title)s", **f),
              lambda f: _("%(store)s did not answer in 48 hours. Onsite's operator will decide and tell you.", **f))
        _tell(_owner(dispute), dispute, lambda f: _("Dispute sent to Onsite: %(title)s", **f),
              lambda f: _("You did not answer %(name)s's dispute by %(deadline)s. Onsite's operator will decide.",
                          **f))
    return len(due)
