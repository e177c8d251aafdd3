"""Booking verbs, by family: availability, lifecycle, merchant, waitlist, housekeeping, idempotency,
notices, queries.

Capacity lives in the database: seats are taken with a conditional UPDATE on the slot row
(``seats_taken + n <= capacity``) and a CHECK makes an overbooked slot impossible; a booking
row is locked (``FOR UPDATE``) before its state changes, and several slots are locked in id
order, so concurrent requests in any number of processes can neither overbook nor deadlock.

The families import downwards only: ``notices``, ``seats``, ``queries``, ``idempotency`` and
``records`` (a booking's rows and transitions) at the bottom; ``availability`` on them; ``waitlist``
on availability; ``lifecycle`` and ``merchant`` on the waitlist (a freed seat promotes the queue);
``housekeeping`` on top. Callers use the names below, never a family module.
"""

from bookings.services.availability import (
    MAX_SLOT_RANGE,
    SyncResult,
    bookable_from,
    cancel_slot,
    change_offering,
    get_schedule,
    list_slots,
    offerings_without_schedule,
    set_schedule,
    slots_to_book,
    sync_slots,
    why_not_bookable,
)
from bookings.services.housekeeping import NO_SHOW_GRACE, SWEEP_LOCK, deliver_outbox, roll_horizons, sweep
from bookings.services.idempotency import (
    IDEMPOTENCY_TTL,
    claim_idempotency_key,
    remember_response,
    request_fingerprint,
)
from bookings.services.lifecycle import book, cancel, cutoff_of, place, reschedule
from bookings.services.merchant import confirm, mark_no_show, overturn_no_show, reject
from bookings.services.notices import (
    inbox_notice,
    mark_notifications_read,
    notifications_of,
    notify_account,
    queue_notice,
    unread_count,
    zones_of,
)
from bookings.services.queries import (
    BookingView,
    bookings_of_resident,
    bookings_of_store_day,
    can_work_store,
    get_booking,
    has_room_on,
    view_of,
    waiting_of,
    waitlist_of,
)
from bookings.services.records import CODE_ALPHABET, MAX_PARTY, new_code, record_event, transition
from bookings.services.waitlist import join_waitlist, leave_waitlist, promote_waitlist

__all__ = [
    # availability
    "MAX_SLOT_RANGE", "SyncResult", "bookable_from", "cancel_slot", "change_offering", "get_schedule",
    "list_slots", "offerings_without_schedule", "set_schedule", "slots_to_book", "sync_slots", "why_not_bookable",
    # lifecycle, and the rows every family shares
    "CODE_ALPHABET", "MAX_PARTY", "book", "cancel", "cutoff_of", "new_code", "place", "record_event", "reschedule",
    "transition",
    # merchant
    "confirm", "mark_no_show", "overturn_no_show", "reject",
    # waitlist
    "join_waitlist", "leave_waitlist", "promote_waitlist",
    # housekeeping
    "NO_SHOW_GRACE", "SWEEP_LOCK", "deliver_outbox", "roll_horizons", "sweep",
    # idempotency
    "IDEMPOTENCY_TTL", "claim_idempotency_key", "remember_response", "request_fingerprint",
    # notices
    "inbox_notice", "mark_notifications_read", "notifications_of", "notify_account", "queue_notice", "unread_count",
    "zones_of",
    # queries
    "BookingView", "bookings_of_resident", "bookings_of_store_day", "can_work_store", "get_booking", "has_room_on",
    "view_of", "waiting_of", "waitlist_of",
]
