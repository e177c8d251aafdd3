"""Booking, payment, slot and waitlist states, and which booking transitions are allowed."""

from __future__ import annotations

from enum import StrEnum

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from bookings.errors import InvalidTransition


class BookingStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    REJECTED = "rejected"
    CANCELLED_BY_RESIDENT = "cancelled_by_resident"
    CANCELLED_BY_MERCHANT = "cancelled_by_merchant"
    NO_SHOW = "no_show"


class PaymentStatus(StrEnum):
    UNPAID = "unpaid"
    PAID_AT_STORE = "paid_at_store"


class PaymentMethod(StrEnum):
    CASH = "cash"
    CARD_AT_STORE = "card_at_store"
    MOBILE_WALLET_AT_STORE = "mobile_wallet_at_store"
    OTHER = "other"


class SlotStatus(StrEnum):
    OPEN = "open"
    CANCELLED = "cancelled"  # by the store's owner, with a reason; stays cancelled
    UNPLANNED = "unplanned"  # closed by a schedule change (its bookings had gone); reopens if planned again


class WhyNotBookable(StrEnum):
    """Why a listed slot cannot be booked now (stable codes the slots API shows)."""

    CANCELLED = "cancelled"  # not open: the store cancelled it, or the schedule no longer plans it
    STARTED = "started"  # it has begun (or is over)
    INSIDE_NOTICE = "inside_notice"  # it starts sooner than the experience's minimum notice
    FULL = "full"  # no seat left: join its waitlist instead


class WaitlistStatus(StrEnum):
    WAITING = "waiting"
    PROMOTED = "promoted"  # seated: ``booking_id`` is the booking it became
    LEFT = "left"
    EXPIRED = "expired"  # the slot was cancelled, or the resident booked it another way


S = BookingStatus
ALLOWED: dict[BookingStatus, frozenset[BookingStatus]] = {
    S.PENDING: frozenset({S.CONFIRMED, S.REJECTED, S.CANCELLED_BY_RESIDENT, S.CANCELLED_BY_MERCHANT}),
    S.CONFIRMED: frozenset({S.CHECKED_IN, S.CANCELLED_BY_RESIDENT, S.CANCELLED_BY_MERCHANT, S.NO_SHOW}),
    S.CHECKED_IN: frozenset({S.COMPLETED}),
    S.COMPLETED: frozenset(),
    S.REJECTED: frozenset(),
    S.CANCELLED_BY_RESIDENT: frozenset(),
    S.CANCELLED_BY_MERCHANT: frozenset(),
    S.NO_SHOW: frozenset(),
}

# Not an ordinary transition (a no-show stays terminal for the store, the resident and the sweep): the one
# correction Onsite's operator makes when it upholds a "wrongly marked as a no-show" dispute
# (services.overturn_no_show) — the resident came, so the booking is completed.
OVERTURNED = {S.NO_SHOW: S.COMPLETED}

# A booking in one of these holds its seats in the slot; the others gave them back.
SEAT_HOLDING = frozenset({S.PENDING, S.CONFIRMED, S.CHECKED_IN, S.COMPLETED, S.NO_SHOW})
# A resident may hold one of these per slot at a time.
ACTIVE = frozenset({S.PENDING, S.CONFIRMED, S.CHECKED_IN})
CANCELLED = frozenset({S.REJECTED, S.CANCELLED_BY_RESIDENT, S.CANCELLED_BY_MERCHANT})

LABELS = {
    S.PENDING: _l("Waiting for the store to confirm"),
    S.CONFIRMED: _l("Confirmed"),
    S.CHECKED_IN: _l("Checked in"),
    S.COMPLETED: _l("Completed"),
    S.REJECTED: _l("Declined by the store"),
    S.CANCELLED_BY_RESIDENT: _l("Cancelled by you"),
    S.CANCELLED_BY_MERCHANT: _l("Cancelled by the store"),
    S.NO_SHOW: _l("No-show"),
}


def can_transition(src: str, dst: str) -> bool:
    """Tell whether a booking may go from ``src`` to ``dst``."""
    try:
        return BookingStatus(dst) in ALLOWED[BookingStatus(src)]
    except ValueError:
        return False


def assert_transition(src: str, dst: str) -> None:
    """Refuse a transition the table does not allow.

    :raises InvalidTransition: when ``src`` may not become ``dst``.
    """
    if not can_transition(src, dst):
        raise InvalidTransition(_("A %(src)s booking cannot become %(dst)s.", src=src, dst=dst),
                                details={"from": src, "to": dst})
