"""Dispute states, and which dispute transitions are allowed (the plain-Python state machine).

    opened ──> merchant_accepted ──> closed          (the resident confirms the refund or voucher; at once
       │            │                                  when the store offered an apology only)
       │            └──> escalated                    (the resident: the store did not do what it said)
       ├──> merchant_contested ──> escalated          (at once: a contested dispute goes to the operator)
       ├──> escalated                                 (the store did not answer in 48 hours: the sweep)
       │         ├──> upheld ──> closed               (the resident confirms the compensation; at once when
       │         │                                      none was awarded)
       │         └──> rejected ──> closed             (at once)
       └──> withdrawn                                 (by the resident, from any open state)

Who may make each change is the services' business (trust/services/disputes.py); this table says only
which changes exist. Every change writes a ``dispute_events`` row.
"""

from __future__ import annotations

from enum import StrEnum

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from bookings.errors import InvalidTransition


class DisputeReason:
    NOT_AS_DESCRIBED = "not_as_described"
    CHARGED_MORE = "charged_more_than_listed"
    TURNED_AWAY = "turned_away"
    WRONGLY_MARKED_NO_SHOW = "wrongly_marked_no_show"
    MERCHANT_CANCELLED_LATE = "merchant_cancelled_late"
    SAFETY_OR_HYGIENE = "safety_or_hygiene"
    OTHER = "other"

    ALL = (NOT_AS_DESCRIBED, CHARGED_MORE, TURNED_AWAY, WRONGLY_MARKED_NO_SHOW, MERCHANT_CANCELLED_LATE,
           SAFETY_OR_HYGIENE, OTHER)


class DisputeAsk:
    APOLOGY = "apology"
    REFUND = "refund"  # a refund at the store, of ``asked_amount``
    COMPENSATION = "compensation"

    ALL = (APOLOGY, REFUND, COMPENSATION)


class DisputeStatus(StrEnum):
    OPENED = "opened"
    MERCHANT_ACCEPTED = "merchant_accepted"
    MERCHANT_CONTESTED = "merchant_contested"
    ESCALATED = "escalated"
    UPHELD = "upheld"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    CLOSED = "closed"


class MerchantOffer(StrEnum):
    """What a store that accepts a dispute says it will do."""

    REFUND_AT_STORE = "refund_at_store"  # the business owes the resident; settled when the resident confirms
    VOUCHER = "voucher"  # a goodwill voucher of an amount; settled when the resident confirms
    NONE = "none"  # an apology only: nothing to settle, the dispute closes at once


D = DisputeStatus
ALLOWED: dict[DisputeStatus, frozenset[DisputeStatus]] = {
    D.OPENED: frozenset({D.MERCHANT_ACCEPTED, D.MERCHANT_CONTESTED, D.ESCALATED, D.WITHDRAWN}),
    D.MERCHANT_ACCEPTED: frozenset({D.CLOSED, D.ESCALATED, D.WITHDRAWN}),
    D.MERCHANT_CONTESTED: frozenset({D.ESCALATED, D.WITHDRAWN}),
    D.ESCALATED: frozenset({D.UPHELD, D.REJECTED, D.WITHDRAWN}),
    D.UPHELD: frozenset({D.CLOSED}),
    D.REJECTED: frozenset({D.CLOSED}),
    D.WITHDRAWN: frozenset(),
    D.CLOSED: frozenset(),
}

# Still being worked on: the resident may withdraw it, and a booking has at most one dispute anyway.
OPEN = frozenset({D.OPENED, D.MERCHANT_ACCEPTED, D.MERCHANT_CONTESTED, D.ESCALATED})
TERMINAL = frozenset({D.WITHDRAWN, D.CLOSED})

LABELS = {
    D.OPENED: _l("Waiting for the store's answer"),
    D.MERCHANT_ACCEPTED: _l("Accepted by the store"),
    D.MERCHANT_CONTESTED: _l("Contested by the store"),
    D.ESCALATED: _l("With Onsite for a decision"),
    D.UPHELD: _l("Upheld by Onsite"),
    D.REJECTED: _l("Rejected by Onsite"),
    D.WITHDRAWN: _l("Withdrawn"),
    D.CLOSED: _l("Closed"),
}

REASON_LABELS = {
    DisputeReason.NOT_AS_DESCRIBED: _l("Not as described"),
    DisputeReason.CHARGED_MORE: _l("Charged more than listed"),
    DisputeReason.TURNED_AWAY: _l("I came but was not served"),
    DisputeReason.WRONGLY_MARKED_NO_SHOW: _l("Wrongly marked as a no-show"),
    DisputeReason.MERCHANT_CANCELLED_LATE: _l("The store cancelled late"),
    DisputeReason.SAFETY_OR_HYGIENE: _l("Safety or hygiene"),
    DisputeReason.OTHER: _l("Something else"),
}

ASK_LABELS = {
    DisputeAsk.APOLOGY: _l("An apology"),
    DisputeAsk.REFUND: _l("A refund at the store"),
    DisputeAsk.COMPENSATION: _l("Compensation"),
}

OFFER_LABELS = {
    MerchantOffer.REFUND_AT_STORE: _l("A refund at the store"),
    MerchantOffer.VOUCHER: _l("A goodwill voucher"),
    MerchantOffer.NONE: _l("An apology"),
}


def can_transition(src: str, dst: str) -> bool:
    """Tell whether a dispute may go from ``src`` to ``dst``."""
    try:
        return DisputeStatus(dst) in ALLOWED[DisputeStatus(src)]
    except ValueError:
        return False


def assert_transition(src: str, dst: str) -> None:
    """Refuse a transition the table does not allow.

    :raises InvalidTransition: when ``src`` may not become ``dst``.
    """
    if not can_transition(src, dst):
        raise InvalidTransition(_("A dispute that is %(src)s cannot become %(dst)s.", src=src, dst=dst),
                                details={"from": src, "to": dst})
