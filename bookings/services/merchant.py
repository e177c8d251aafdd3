"""What the store does to a booking: confirm, reject, mark a no-show."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from app.auth.models import User
from app.errors import Conflict, NotFound
from app.i18n import in_locale_of
from bookings.models import Booking
from bookings.services.notices import _local, _notify
from bookings.services.queries import can_work_store, get_booking
from bookings.services.records import _locked, _reason, transition
from bookings.services.seats import _lock_slots, _release_seats
from bookings.services.waitlist import promote_waitlist
from bookings.states import BookingStatus

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
