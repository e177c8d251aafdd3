"""A resident's booking from start to end: book, cancel, reschedule."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import exists, select
from sqlalchemy.orm import aliased

from app.auth.models import User
from app.errors import Conflict, PermissionDenied, ValidationFailed
from app.extensions import db
from app.i18n import in_locale_of
from app.merchants.models import Business, Store
from app.merchants.services import can_manage_store
from app.offerings.models import Offering
from app.offerings.services import is_publicly_visible
from bookings.errors import AlreadyBooked, InvalidTransition, SlotClosed, SlotNotFound
from bookings.models import Booking, Schedule, Slot
from bookings.services.availability import bookable_from
from bookings.services.notices import _local, _notify, _notify_all
from bookings.services.queries import get_booking
from bookings.services.records import (
    _check_party,
    _insert_booking_returning,
    _locked,
    _reason,
    event_values,
    record_event,
    transition,
)
from bookings.services.seats import (
    _bookable_slot,
    _has_active,
    _lock_slots,
    _release_seats,
    _take_seats,
    _why_not,
)
from bookings.services.waitlist import promote_waitlist
from bookings.states import ACTIVE, BookingStatus, SlotStatus, assert_transition

S = BookingStatus


def _load_for_booking(slot_id: Any, resident_id: int) -> tuple[Slot, Schedule | None, bool]:
    """One round trip for everything a booking needs: the slot with its experience, store, business,
    owner and schedule, and whether the resident already holds a booking there.

    :raises ValidationFailed, SlotNotFound, SlotClosed: as _bookable_slot.
    """
    if isinstance(slot_id, bool) or not isinstance(slot_id, int) or not 0 < slot_id < 2**31:
        raise ValidationFailed(details={"slot_id": _("must be a slot id.")})
    owner = aliased(User)
    holds = exists().where(Booking.slot_id == Slot.id, Booking.resident_id == resident_id,
                           Booking.status.in_(ACTIVE))
    row = db.session.execute(
        select(Slot, Offering, Store, Business, owner, Schedule, holds.label("holds"))
        .join(Offering, Slot.offering_id == Offering.id).join(Store, Offering.store_id == Store.id)
        .join(Business, Store.business_id == Business.id).join(owner, Business.owner_id == owner.id)
        .outerjoin(Schedule, Schedule.offering_id == Offering.id).where(Slot.id == slot_id)).first()
    if row is None:
        raise SlotNotFound()
    if not is_publicly_visible(row.Slot.offering):
        raise SlotClosed(_("This experience is not open for booking."))
    return row.Slot, row.Schedule, row.holds


def book(actor: User, slot_id: Any, party_size: Any, note: Any, now: datetime) -> Booking:
    """Book seats in a slot for the actor; pay at the store.

    Peak-day path: one read, the conditional seat update, the insert, and batched notices.

    :raises ValidationFailed: on a bad party size or note.
    :raises SlotNotFound: when the slot does not exist.
    :raises SlotFull, SlotInPast, SlotClosed: when it cannot seat the party.
    :raises AlreadyBooked: when the actor already holds a booking in this slot.
    """
    _check_party(party_size, None, None)  # a whole number, before the slot is read
    slot, schedule, holds = _load_for_booking(slot_id, actor.id)
    _check_party(party_size, note, slot.capacity)
    if holds:
        raise AlreadyBooked()
    offering = slot.offering
    earliest = now + timedelta(minutes=schedule.min_notice_minutes if schedule else 0)
    if slot.status != SlotStatus.OPEN or slot.starts_at <= earliest or slot.seats_taken + party_size > slot.capacity:
        # As read a moment ago: refused without the UPDATE and the re-read (a full slot's rush is mostly these);
        # a slot that looks bookable is checked again by the UPDATE under its row lock.
        raise _why_not(slot, party_size, earliest)
    _take_seats(slot, party_size, earliest)
    booking = _insert_booking_returning(dict(
        slot_id=slot.id, offering_id=offering.id, store_id=offering.store_id, resident_id=actor.id,
        starts_at=slot.starts_at, party_size=party_size, note=(note or "").strip(),
        status=S.PENDING if schedule and schedule.requires_approval else S.CONFIRMED,
        unit_price=offering.price_amount, currency=offering.currency,
        price_due=offering.price_amount * party_size))
    _announce_new(booking, event_values(booking, None, booking.status, actor, "booked", party_size=party_size))
    return booking


def _announce_new(booking: Booking, event: dict | None = None) -> None:
    pending = booking.status == S.PENDING
    resident, owner = booking.resident, booking.store.business.owner
    facts = {"party": booking.party_size, "title": booking.offering.title, "store": booking.store.name,
             "price": f"{booking.price_due} {booking.currency}", "code": booking.code,
             "name": resident.display_name}
    with in_locale_of(resident):
        facts["when"] = _local(booking)
        mine = (resident, "booked",
                _("Requested: %(title)s", **facts) if pending else _("Booked: %(title)s", **facts),
                _("%(party)s × %(title)s at %(store)s, %(when)s. The store will confirm it. Pay at the store: "
                  "%(price)s. Your code: %(code)s.", **facts) if pending else
                _("%(party)s × %(title)s at %(store)s, %(when)s. Pay at the store: %(price)s. "
                  "Your code: %(code)s.", **facts), booking)
    with in_locale_of(owner):
        facts["when"] = _local(booking)
        theirs = (owner, "new_booking", _("New booking: %(title)s", **facts),
                  _("%(name)s, party of %(party)s, %(when)s — waiting for your approval.", **facts) if pending
                  else _("%(name)s, party of %(party)s, %(when)s.", **facts), booking)
    _notify_all([mine, theirs], event)


def cutoff_of(booking: Booking) -> datetime:
    """Until when cancelling is free."""
    return booking.slot.starts_at - timedelta(hours=booking.offering.cancel_cutoff_hours)


def cancel(actor: User, booking_id: int, reason: Any, now: datetime) -> Booking:
    """Cancel a booking: the resident's own (late after the cut-off), or the store's with a reason.

    :raises NotFound: when the actor may not see it.
    :raises PermissionDenied: when staff try (owners cancel for the store).
    :raises InvalidTransition: when it is not pending or confirmed.
    """
    booking = get_booking(actor, booking_id)
    booking = _locked(booking.id)
    by_resident = booking.resident_id == actor.id
    if not by_resident and not can_manage_store(actor, booking.store):
        raise PermissionDenied(_("Only the store's owner can cancel a visit for the store."))
    reason = _reason(reason, required=not by_resident)
    target = S.CANCELLED_BY_RESIDENT if by_resident else S.CANCELLED_BY_MERCHANT
    assert_transition(booking.status, target)
    late = by_resident and now >= cutoff_of(booking)
    transition(booking, target, actor, reason, late=late)
    booking.is_late_cancel, booking.cancel_reason = late, reason or None
    _lock_slots(booking.slot_id)
    _release_seats(booking.slot_id, booking.party_size)
    if by_resident:
        owner = booking.store.business.owner
        with in_locale_of(owner):
            facts = {"name": booking.resident.display_name, "when": _local(booking)}
            _notify(owner, "cancelled", _("Cancelled: %(title)s", title=booking.offering.title),
                    _("%(name)s cancelled %(when)s (late).", **facts) if late
                    else _("%(name)s cancelled %(when)s.", **facts), booking)
    else:
        with in_locale_of(booking.resident):
            _notify(booking.resident, "cancelled", _("Cancelled by the store: %(title)s", title=booking.offering.title),
                    _("%(store)s cancelled your visit on %(when)s: %(reason)s", store=booking.store.name,
                      when=_local(booking), reason=reason), booking)
    promote_waitlist(booking.slot_id, now)
    return booking


def reschedule(actor: User, booking_id: int, new_slot_id: Any, now: datetime) -> Booking:
    """Move the resident's booking to another slot of the same experience, atomically.

    :raises NotFound: when the actor may not see the booking.
    :raises PermissionDenied: when the actor is not its resident.
    :raises InvalidTransition: unless it is pending or confirmed.
    :raises Conflict: ``past_cutoff`` after the cancellation cut-off; ``same_slot``.
    :raises SlotFull, SlotInPast, SlotClosed, AlreadyBooked: when the new slot cannot take it.
    """
    booking = get_booking(actor, booking_id)
    if booking.resident_id != actor.id:
        raise PermissionDenied(_("Only the resident can move their booking."))
    new_slot = _bookable_slot(new_slot_id)
    booking = _locked(booking.id)
    if booking.status not in (S.PENDING, S.CONFIRMED):
        raise InvalidTransition(_("A %(status)s booking cannot be moved.", status=booking.status),
                                details={"from": booking.status})
    if new_slot.offering_id != booking.offering_id:
        raise ValidationFailed(details={"slot_id": _("must be a slot of the same experience.")})
    if new_slot.id == booking.slot_id:
        raise Conflict(_("The booking is in that slot already."), code="same_slot")
    if now >= cutoff_of(booking):
        raise Conflict(_("Too late to move this booking: the free-change cut-off has passed."), code="past_cutoff",
                       details={"cutoff": cutoff_of(booking).isoformat()})
    old_slot_id = booking.slot_id
    slots = _lock_slots(old_slot_id, new_slot.id)
    if _has_active(actor.id, new_slot.id):
        raise AlreadyBooked()
    _take_seats(slots[new_slot.id], booking.party_size, bookable_from(booking.offering, now))
    _release_seats(old_slot_id, booking.party_size)
    booking.slot_id, booking.starts_at = new_slot.id, new_slot.starts_at
    booking.reminded_at = None  # the day-before reminder is for the new day
    db.session.flush()
    db.session.refresh(booking, ["slot"])
    record_event(booking, booking.status, booking.status, actor, "rescheduled", from_slot=old_slot_id,
            to_slot=new_slot.id)
    with in_locale_of(booking.resident):
        _notify(booking.resident, "rescheduled", _("Moved: %(title)s", title=booking.offering.title),
                _("Your visit is now on %(when)s. Your code stays %(code)s.", when=_local(booking),
                  code=booking.code), booking)
    owner = booking.store.business.owner
    with in_locale_of(owner):
        _notify(owner, "rescheduled", _("Moved: %(title)s", title=booking.offering.title),
                _("%(name)s moved their visit to %(when)s.", name=booking.resident.display_name,
                  when=_local(booking)), booking)
    promote_waitlist(old_slot_id, now)
    return booking
