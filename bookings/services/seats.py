"""Seats: slot row locks (always in id order, so nobody deadlocks) and the conditional UPDATE that takes
seats (``seats_taken + n <= capacity``; a CHECK makes an overbooked slot impossible)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import exists, select, update
from sqlalchemy.orm.attributes import set_committed_value

from app.errors import ValidationFailed
from app.extensions import db
from app.offerings.services import is_publicly_visible
from bookings.errors import SlotClosed, SlotFull, SlotInPast, SlotNotFound
from bookings.models import Booking, Slot
from bookings.states import ACTIVE, SlotStatus


def _lock_slots(*slot_ids: int) -> dict[int, Slot]:
    """Lock slot rows in id order (the one order every verb uses, so nobody deadlocks)."""
    rows = db.session.scalars(
        select(Slot).where(Slot.id.in_(sorted(set(slot_ids)))).order_by(Slot.id).with_for_update()
        .execution_options(populate_existing=True)).all()
    return {slot.id: slot for slot in rows}


def why_refused(status: str, starts_at: datetime, remaining: int, party_size: int, earliest: datetime) -> Exception:
    """The refusal for a party a slot in this state cannot seat."""
    if status != SlotStatus.OPEN:
        return SlotClosed()
    if starts_at <= earliest:
        return SlotInPast()
    return SlotFull(details={"remaining": remaining, "party_size": party_size})


def _take_seats(slot: Slot, party_size: int, earliest: datetime) -> None:
    """Take seats with one conditional UPDATE; the row lock it takes serialises racers.

    :raises SlotFull, SlotInPast, SlotClosed: when the slot cannot seat the party.
    """
    taken = db.session.execute(
        update(Slot).where(Slot.id == slot.id, Slot.status == SlotStatus.OPEN, Slot.starts_at > earliest,
                           Slot.seats_taken + party_size <= Slot.capacity)
        .values(seats_taken=Slot.seats_taken + party_size).returning(Slot.seats_taken)
        .execution_options(synchronize_session=False)).scalar()
    if taken is None:
        db.session.refresh(slot)
        raise why_refused(slot.status, slot.starts_at, slot.remaining, party_size, earliest)
    set_committed_value(slot, "seats_taken", taken)


def _release_seats(slot_id: int, party_size: int) -> None:
    db.session.execute(update(Slot).where(Slot.id == slot_id).values(seats_taken=Slot.seats_taken - party_size)
                       .execution_options(synchronize_session=False))


def _has_active(resident_id: int, slot_id: int) -> bool:
    return bool(db.session.scalar(select(exists().where(
        Booking.slot_id == slot_id, Booking.resident_id == resident_id, Booking.status.in_(ACTIVE)))))


def check_slot_id(slot_id: Any) -> None:
    """:raises ValidationFailed: unless ``slot_id`` could name a slot."""
    if isinstance(slot_id, bool) or not isinstance(slot_id, int) or not 0 < slot_id < 2**31:
        raise ValidationFailed(details={"slot_id": _("must be a slot id.")})


def _bookable_slot(slot_id: Any) -> Slot:
    check_slot_id(slot_id)
    slot = db.session.get(Slot, slot_id)
    if slot is None:
        raise SlotNotFound()
    if not is_publicly_visible(slot.offering):
        raise SlotClosed(_("This experience is not open for booking."))
    return slot
