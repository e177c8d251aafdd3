"""A booking's rows, shared by every family: its code, its insertion, its row lock, its state
changes and their audit trail, and the checks on what a resident or owner typed."""

from __future__ import annotations

import secrets
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.auth.models import User
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from bookings.errors import AlreadyBooked
from bookings.models import Booking, BookingEvent
from bookings.states import BookingStatus, assert_transition

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to read out at a counter
MAX_PARTY = 50


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


def _reason(reason: Any, required: bool = False) -> str:
    if reason is None:
        reason = ""
    if not isinstance(reason, str) or len(reason) > 300:
        raise ValidationFailed(details={"reason": _("must be text of at most 300 characters.")})
    if required and not reason.strip():
        raise ValidationFailed(details={"reason": _("Tell the residents why.")})
    return reason.strip()


def _check_party(party_size: Any, note: Any, most: int | None = MAX_PARTY) -> None:
    """Check a party size against the real bounds (``most``: the slot's capacity once it is known; None
    checks only that it is a whole number, before the slot is read).

    :raises ValidationFailed: with a sentence a resident can act on.
    """
    errors = {}
    if isinstance(party_size, bool) or not isinstance(party_size, int):
        errors["party_size"] = _("Enter the number of people as a whole number.")
    elif most is not None and not 1 <= party_size <= most:
        errors["party_size"] = (_("Choose a party of 1 to %(most)d people.", most=min(most, MAX_PARTY)) if most > 1
                                else _("This experience takes one person at a time."))
    if note is not None and (not isinstance(note, str) or len(note) > 500):
        errors["note"] = _("must be text of at most 500 characters.")
    if errors:
        raise ValidationFailed(details=errors)


def _locked(booking_id: int) -> Booking:
    booking = db.session.scalar(
        select(Booking).where(Booking.id == booking_id).with_for_update().execution_options(populate_existing=True))
    if booking is None:
        raise NotFound(_("No such booking."))
    return booking


def event_values(booking: Booking, src: str | None, dst: str, actor: User | None, reason: str,
                 **data: Any) -> dict[str, Any]:
    """``record_event``'s row as values, for ``notices._notify_all`` to write with the notices."""
    return {"booking": booking.id, "actor": actor.id if actor else None, "from": src, "to": dst, "reason": reason,
            "data": data}


def record_event(booking: Booking, src: str | None, dst: str, actor: User | None, reason: str, **data: Any) -> None:
    db.session.add(BookingEvent(booking_id=booking.id, actor_id=actor.id if actor else None, from_status=src,
                                to_status=dst, reason=reason, data=data))


def transition(booking: Booking, dst: BookingStatus, actor: User | None, reason: str = "", **data: Any) -> None:
    """Move a (locked) booking to ``dst`` and append the audit row.

    :raises InvalidTransition: when the state table does not allow it.
    """
    assert_transition(booking.status, dst)
    record_event(booking, booking.status, dst, actor, reason, **data)
    booking.status = dst
    db.session.flush()


def _insert_booking(booking: Booking) -> None:
    """Insert with a fresh short code inside a savepoint, so a caller's other work survives a clash.

    :raises AlreadyBooked: when another request booked the same slot for the resident first.
    """
    for _attempt in range(5):
        booking.code = new_code()
        try:
            with db.session.begin_nested():
                db.session.add(booking)
                db.session.flush()
            return
        except IntegrityError as exc:
            name = getattr(getattr(exc.orig, "diag", None), "constraint_name", "")
            if name == "ux_bookings_active_per_resident":
                raise AlreadyBooked() from None
            if name != "uq_bookings_code":
                raise
    raise Conflict(_("Could not issue a booking code; try again."), code="code_collision")
