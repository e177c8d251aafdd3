"""Booking errors: stable codes the API and pages show (statuses and meanings in app/error_codes.py)."""

from flask_babel import lazy_gettext as _l

from app.errors import Conflict, DomainError, NotFound


class SlotNotFound(NotFound):
    code = "slot_not_found"
    message = _l("No such slot.")


class SlotFull(Conflict):
    code = "slot_full"
    message = _l("This slot has no room left for your party.")


class SlotInPast(Conflict):
    code = "slot_in_past"
    message = _l("This slot has started already or is too soon to book.")


class SlotClosed(Conflict):
    code = "slot_closed"
    message = _l("This slot is not open for booking.")


class AlreadyBooked(Conflict):
    code = "already_booked"
    message = _l("You already have a booking for this slot.")


class AlreadyWaiting(Conflict):
    code = "already_waiting"
    message = _l("You are already on this slot's waitlist.")


class SlotHasRoom(Conflict):
    code = "slot_has_room"
    message = _l("This slot still has room: book it instead of waiting.")


class InvalidTransition(Conflict):
    code = "invalid_transition"
    message = _l("A booking in this state cannot do that.")


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"
    message = _l("This Idempotency-Key was used with a different request.")


class CheckInError(Conflict):
    """A refused check-in; ``code`` says why (already_checked_in, wrong_store, …)."""

    code = "check_in_refused"
    message = _l("This visit cannot be checked in.")
