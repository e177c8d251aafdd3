"""The waitlist: queue for a full slot; freed seats go to the first in line whose party fits."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.auth.models import User
from app.errors import NotFound
from app.extensions import db
from app.i18n import in_locale_of
from bookings.errors import AlreadyBooked, AlreadyWaiting, SlotClosed, SlotHasRoom, SlotInPast
from bookings.models import Booking, WaitlistEntry
from bookings.services.availability import bookable_from, get_schedule
from bookings.services.notices import _local, _notify
from bookings.services.records import _check_party, _insert_booking, record_event
from bookings.services.seats import _bookable_slot, _has_active, _lock_slots, _take_seats
from bookings.states import BookingStatus, SlotStatus, WaitlistStatus

S = BookingStatus


def join_waitlist(actor: User, slot_id: Any, party_size: Any, note: Any, now: datetime) -> WaitlistEntry:
    """Queue for a full slot; the first in line whose party fits gets freed seats.

    :raises SlotHasRoom: when the slot can seat the party now.
    :raises AlreadyBooked, AlreadyWaiting, SlotInPast, SlotClosed: as the names say.
    """
    _check_party(party_size, note, None)
    slot = _bookable_slot(slot_id)
    # Lock the slot as cancel/promote do: a seat freed meanwhile is seen here, or this entry is
    # seen by that promotion, never neither (which would leave a free seat beside the queue).
    slot = _lock_slots(slot.id)[slot.id]
    if slot.status != SlotStatus.OPEN:
        raise SlotClosed()
    if slot.starts_at <= bookable_from(slot.offering, now):
        raise SlotInPast()
    if _has_active(actor.id, slot.id):
        raise AlreadyBooked()
    _check_party(party_size, note, slot.capacity)
    if slot.capacity - slot.seats_taken >= party_size:
        raise SlotHasRoom(details={"remaining": slot.remaining})
    entry = WaitlistEntry(slot_id=slot.id, resident_id=actor.id, party_size=party_size, note=(note or "").strip())
    try:
        with db.session.begin_nested():
            db.session.add(entry)
            db.session.flush()
    except IntegrityError:
        raise AlreadyWaiting() from None
    return entry


def leave_waitlist(actor: User, entry_id: int) -> WaitlistEntry:
    """Leave a waitlist.

    :raises NotFound: unless it is the actor's own waiting entry.
    """
    entry = db.session.scalar(select(WaitlistEntry).where(WaitlistEntry.id == entry_id).with_for_update())
    if entry is None or entry.resident_id != actor.id or entry.status != WaitlistStatus.WAITING:
        raise NotFound(_("No such waitlist entry."))
    entry.status = WaitlistStatus.LEFT
    db.session.flush()
    return entry


def promote_waitlist(slot_id: int, now: datetime) -> list[Booking]:
    """Seat waiting residents, first in line first, while their parties fit."""
    slot = _lock_slots(slot_id).get(slot_id)
    if slot is None or slot.status != SlotStatus.OPEN or slot.starts_at <= now:
        return []
    promoted = []
    schedule = get_schedule(slot.offering)
    entries = db.session.scalars(
        select(WaitlistEntry).where(WaitlistEntry.slot_id == slot_id, WaitlistEntry.status == WaitlistStatus.WAITING)
        .order_by(WaitlistEntry.id).with_for_update(skip_locked=True)).all()
    for entry in entries:
        if slot.capacity - slot.seats_taken <= 0:
            break
        if _has_active(entry.resident_id, slot_id):
            entry.status = WaitlistStatus.EXPIRED
            continue
        if slot.seats_taken + entry.party_size > slot.capacity:
            continue
        _take_seats(slot, entry.party_size, now)
        offering = slot.offering
        # The same rules as booking: a store that approves its bookings approves promotions too.
        pending = bool(schedule and schedule.requires_approval)
        booking = Booking(
            slot_id=slot.id, offering_id=offering.id, store_id=offering.store_id, resident_id=entry.resident_id,
            starts_at=slot.starts_at, party_size=entry.party_size, note=entry.note,
            status=S.PENDING if pending else S.CONFIRMED, unit_price=offering.price_amount,
            currency=offering.currency, price_due=offering.price_amount * entry.party_size)
        _insert_booking(booking)
        entry.status, entry.booking_id = WaitlistStatus.PROMOTED, booking.id
        record_event(booking, None, booking.status, None, "promoted from the waitlist", waitlist_entry=entry.id)
        facts = {"title": offering.title, "store": booking.store.name, "code": booking.code,
                 "price": f"{booking.price_due} {booking.currency}", "name": entry.resident.display_name,
                 "party": booking.party_size}
        with in_locale_of(entry.resident):
            facts["when"] = _local(booking)
            _notify(entry.resident, "promoted", _("A seat opened up: %(title)s", **facts),
                    _("Your request for %(when)s at %(store)s is waiting for the store's approval. Pay at the "
                      "store: %(price)s. Your code: %(code)s.", **facts) if pending else
                    _("You are booked for %(when)s at %(store)s. Pay at the store: %(price)s. Your code: %(code)s.",
                      **facts), booking)
        if pending:
            owner = booking.store.business.owner
            with in_locale_of(owner):
                facts["when"] = _local(booking)
                _notify(owner, "new_booking", _("New booking: %(title)s", **facts),
                        _("%(name)s, party of %(party)s, %(when)s, from the waitlist — waiting for your approval.",
                          **facts), booking)
        promoted.append(booking)
    return promoted
