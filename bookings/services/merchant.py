"""What the store does to a booking: confirm, reject, mark a no-show (and Onsite overturning that mark)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from app.auth.models import User
from app.errors import Conflict, NotFound, PermissionDenied
from app.extensions import db
from app.i18n import in_locale_of
from bookings.errors import InvalidTransition
from bookings.models import Booking
from bookings.services.notices import _local, _notify
from bookings.services.queries import can_work_store, get_booking
from bookings.services.records import _locked, _reason, record_event, transition
from bookings.services.seats import _lock_slots, _release_seats
from bookings.services.waitlist import promote_waitlist
from bookings.states import OVERTURNED, BookingStatus

S = BookingStatus


def _merchant_action(actor: User, booking_id: int) -> Booking:
    booking = get_booking(actor, booking_id)
    if not can_work_store(actor, booking.store):
        raise NotFound(_("No such booking."))
    return _locked(booking.id)


def confirm(actor: User, booking_id: int) -> Booking:
    """Approve a pending booking.

    :raises NotFound: unless the actor works at the store.
    :raises InvalidTransition: unless it is pending.
    """
    booking = _merchant_action(actor, booking_id)
    transition(booking, S.CONFIRMED, actor, "approved")
    with in_locale_of(booking.resident):
        _notify(booking.resident, "confirmed", _("Confirmed: %(title)s", title=booking.offering.title),
                _("%(store)s confirmed your visit on %(when)s. Your code: %(code)s.", store=booking.store.name,
                  when=_local(booking), code=booking.code), booking)
    return booking


def reject(actor: User, booking_id: int, reason: Any, now: datetime) -> Booking:
    """Decline a pending booking and give its seats back.

    :raises NotFound: unless the actor works at the store.
    :raises InvalidTransition: unless it is pending.
    """
    booking = _merchant_action(actor, booking_id)
    reason = _reason(reason)
    transition(booking, S.REJECTED, actor, reason)
    booking.cancel_reason = reason or None
    _lock_slots(booking.slot_id)
    _release_seats(booking.slot_id, booking.party_size)
    with in_locale_of(booking.resident):
        said = _("%(store)s could not take your visit on %(when)s.", store=booking.store.name, when=_local(booking))
        _notify(booking.resident, "rejected", _("Declined: %(title)s", title=booking.offering.title),
                f"{said} {reason}", booking)
    promote_waitlist(booking.slot_id, now)
    return booking


def mark_no_show(actor: User | None, booking_id: int, now: datetime) -> Booking:
    """Record that a confirmed visitor did not come (only once the slot has ended).

    :raises NotFound: unless the actor works at the store.
    :raises Conflict: ``slot_not_over`` before the slot ends.
    :raises InvalidTransition: unless it is confirmed.
    """
    booking = _merchant_action(actor, booking_id)
    if now < booking.slot.ends_at:
        raise Conflict(_("Wait until the slot is over to mark a no-show."), code="slot_not_over")
    transition(booking, S.NO_SHOW, actor, "marked by the store")
    return booking


def overturn_no_show(booking_id: int, actor: User, now: datetime, reason: str) -> Booking:
    """Onsite's operator overturns a store's no-show mark (an upheld ``wrongly_marked_no_show`` dispute):
    the booking becomes completed (the resident came; ``states.OVERTURNED``), with an audit row saying who
    overturned it and why.

    :raises PermissionDenied: unless the actor is an admin.
    :raises InvalidTransition: unless the booking is a no-show.
    """
    if actor is None or not actor.is_admin:
        raise PermissionDenied(_("Only the Onsite operator can do that."))
    booking = _locked(booking_id)
    if booking.status not in OVERTURNED:
        raise InvalidTransition(_("Only a no-show mark can be overturned."),
                                details={"from": booking.status, "to": S.COMPLETED})
    reason = (str(reason or "").strip() or "no-show mark overturned by Onsite")[:300]
    dst = OVERTURNED[S(booking.status)]
    record_event(booking, booking.status, dst, actor, reason, overturned_no_show=True, at=now.isoformat())
    booking.status = dst
    db.session.flush()
    return booking
