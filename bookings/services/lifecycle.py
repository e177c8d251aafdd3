"""A resident's booking from start to end: book, cancel, reschedule."""

from __future__ import annotations

from collections import namedtuple
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from psycopg.errors import UniqueViolation
from sqlalchemy import ARRAY, Integer, String, any_, bindparam, cast, exists, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from app import statements
from app.auth.models import User
from app.errors import Conflict, PermissionDenied, ValidationFailed
from app.extensions import db
from app.i18n import format_when, in_locale_of
from app.merchants.models import Business, Store
from app.merchants.services import can_manage_store
from app.offerings.models import Offering
from app.offerings.services import publicly_visible
from app.statements import Numbered, numbered, typed
from bookings.errors import AlreadyBooked, InvalidTransition, SlotClosed, SlotNotFound
from bookings.models import Booking, Schedule, Slot, random_hex
from bookings.services import records
from bookings.services.availability import bookable_from
from bookings.services.notices import _local, _notify, queue_parts, queue_values
from bookings.services.queries import BookingView, cutoff_at, get_booking
from bookings.services.records import (
    _check_party,
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
    check_slot_id,
    why_refused,
)
from bookings.services.waitlist import promote_waitlist
from bookings.states import ACTIVE, BookingStatus, PaymentStatus, SlotStatus, assert_transition
from geo.queries import lat_of, lng_of

S = BookingStatus


# -- booking: the peak-day path -------------------------------------------------------------------------------
# A booking is two statements, each compiled once per process and run on the driver (app.statements): one read of
# everything the checks, the notices and the answer need, then one statement that takes the seats with the
# conditional UPDATE and, only when it did, inserts the booking, the two notices, their e-mails and the audit event
# as data-modifying CTEs. Built through the ORM they cost about five times what PostgreSQL spends on them.
# The write is whole in one statement, so a request that has nothing else open (an API booking without an
# Idempotency-Key) runs both on their own, in autocommit (statements.alone): no BEGIN and COMMIT round trips.

Recipient = namedtuple("Recipient", "id email locale")
_Read = namedtuple("_Read", "slot_id slot_status starts_at ends_at capacity seats_taken offering_id title price_amount "
                            "currency cutoff_hours store_id store_name address lat lng timezone visible owner_id "
                            "owner_email owner_locale min_notice requires_approval holds")
_BOOKING_COLUMNS = ("offering_id", "store_id", "resident_id", "starts_at", "party_size", "note", "status",
                    "payment_status", "unit_price", "currency", "price_due", "code", "qr_secret", "is_late_cancel",
                    "created_at", "updated_at")
_PLACE: list[Numbered] = []


def _place_statements() -> tuple[Numbered, Numbered]:
    """The booking's read and its write, compiled once."""
    if not _PLACE:
        owner = aliased(User)
        active = bindparam("active", sorted(ACTIVE), type_=ARRAY(String))  # = ANY: IN would expand per execution
        holds = exists().where(Booking.slot_id == Slot.id, Booking.resident_id == bindparam("resident_id"),
                               Booking.status == any_(active))
        read = (select(Slot.id, Slot.status, Slot.starts_at, Slot.ends_at, Slot.capacity, Slot.seats_taken,
                       Offering.id, Offering.title, Offering.price_amount, Offering.currency,
                       Offering.cancel_cutoff_hours, Store.id, Store.name, Store.address, lat_of(Store.location),
                       lng_of(Store.location), Store.timezone, publicly_visible(), owner.id, owner.email,
                       owner.locale, Schedule.min_notice_minutes, Schedule.requires_approval, holds)
                .join(Offering, Slot.offering_id == Offering.id).join(Store, Offering.store_id == Store.id)
                .join(Business, Store.business_id == Business.id).join(owner, Business.owner_id == owner.id)
                .outerjoin(Schedule, Schedule.offering_id == Offering.id).where(Slot.id == bindparam("slot_id")))
        party = cast(bindparam("party_size"), Integer)
        taken = (update(Slot).where(Slot.id == bindparam("slot_id"), Slot.status == SlotStatus.OPEN,
                                    Slot.starts_at > bindparam("earliest"), Slot.seats_taken + party <= Slot.capacity)
                 .values(seats_taken=Slot.seats_taken + party).returning(Slot.id, Slot.seats_taken).cte("taken"))
        columns = Booking.__table__.c
        values = [taken.c.id, *(typed(f"new_{name}", columns[name]) for name in _BOOKING_COLUMNS)]
        booked = (pg_insert(Booking).from_select(("slot_id", *_BOOKING_COLUMNS), select(*values).select_from(taken))
                  .on_conflict_do_nothing(index_elements=[Booking.code]).returning(Booking.id).cte("booked"))
        ctes, outbox = queue_parts(2, True, booked)
        write = (select(taken.c.seats_taken, booked.c.id).select_from(taken.outerjoin(booked, true()))
                 .add_cte(*ctes, outbox.cte("queued_emails")))
        _PLACE[:] = [numbered(read), numbered(write)]
    return _PLACE[0], _PLACE[1]


def place(actor: User, slot_id: Any, party_size: Any, note: Any, now: datetime) -> BookingView:
    """Book seats in a slot for the actor (pay at the store) and return what the booking shows.

    :raises ValidationFailed: on a bad slot id, party size or note.
    :raises SlotNotFound: when the slot does not exist.
    :raises SlotFull, SlotInPast, SlotClosed: when it cannot seat the party.
    :raises AlreadyBooked: when the actor already holds a booking in this slot.
    """
    _check_party(party_size, None, None)  # a whole number, before the slot is read
    check_slot_id(slot_id)
    db.session.flush()  # the statements run on the driver: the ORM's pending rows go first
    read, write = _place_statements()
    rows = statements.alone(read.sql, read.values({"slot_id": slot_id, "resident_id": actor.id}))
    if not rows:
        raise SlotNotFound()
    row = _Read(*rows[0])
    if not row.visible:
        raise SlotClosed(_("This experience is not open for booking."))
    _check_party(party_size, note, row.capacity)
    if row.holds:
        raise AlreadyBooked()
    earliest = now + timedelta(minutes=row.min_notice if row.min_notice is not None else 0)
    if row.slot_status != SlotStatus.OPEN or row.starts_at <= earliest or row.seats_taken + party_size > row.capacity:
        # As read a moment ago: refused without the UPDATE (a full slot's rush is mostly these); a slot that
        # looks bookable is checked again by the UPDATE under its row lock.
        raise why_refused(row.slot_status, row.starts_at, row.capacity - row.seats_taken, party_size, earliest)
    status = S.PENDING if row.requires_approval else S.CONFIRMED
    booking = {"offering_id": row.offering_id, "store_id": row.store_id, "resident_id": actor.id,
               "starts_at": row.starts_at, "party_size": party_size, "note": (note or "").strip(), "status": status,
               "payment_status": PaymentStatus.UNPAID.value, "unit_price": row.price_amount, "currency": row.currency,
               "price_due": row.price_amount * party_size, "is_late_cancel": False, "created_at": now,
               "updated_at": now}
    owner = Recipient(row.owner_id, row.owner_email, row.owner_locale)
    for _attempt in range(5):
        booking.update(code=records.new_code(), qr_secret=random_hex())
        view = BookingView(
            id=0, status=status, payment_status=booking["payment_status"], slot_id=row.slot_id,
            starts_at=row.starts_at, ends_at=row.ends_at, capacity=row.capacity,
            remaining=row.capacity - row.seats_taken - party_size, offering_id=row.offering_id, title=row.title,
            store_id=row.store_id, store_name=row.store_name, address=row.address, lat=row.lat, lng=row.lng,
            timezone=row.timezone, party_size=party_size, note=booking["note"], unit_price=row.price_amount,
            currency=row.currency, price_due=booking["price_due"], code=booking["code"],
            free_cancellation_until=cutoff_at(row.starts_at, row.cutoff_hours))
        params = {**queue_values(_new_booking_notices(actor, owner, view),
                                 event_values(view, None, status, actor, "booked", party_size=party_size)),
                  **{f"new_{name}": value for name, value in booking.items()},
                  "slot_id": row.slot_id, "earliest": earliest, "party_size": party_size}
        try:
            result = statements.alone(write.sql, write.values(params))
        except UniqueViolation as exc:
            if exc.diag.constraint_name == "ux_bookings_active_per_resident":  # a racing twin booked it first
                raise AlreadyBooked() from None
            raise
        if not result:  # the slot changed since the read: say how
            now_status, starts_at, remaining = db.session.execute(
                select(Slot.status, Slot.starts_at, Slot.capacity - Slot.seats_taken).where(Slot.id == row.slot_id)
            ).one()
            raise why_refused(now_status, starts_at, remaining, party_size, earliest)
        seats_taken, booking_id = result[0]
        if booking_id is not None:
            return replace(view, id=booking_id, remaining=row.capacity - seats_taken)
        _release_seats(row.slot_id, party_size)  # the code was taken: give the seats back, try another code
    raise Conflict(_("Could not issue a booking code; try again."), code="code_collision")


def book(actor: User, slot_id: Any, party_size: Any, note: Any, now: datetime) -> Booking:
    """``place``, returning the booking itself (the pages and other verbs work with it)."""
    view = place(actor, slot_id, party_size, note, now)
    slot = db.session.identity_map.get(db.session.identity_key(Slot, view.slot_id))
    if slot is not None:  # loaded before: keep it true to the seats just taken
        set_committed_value(slot, "seats_taken", view.capacity - view.remaining)
    return db.session.get(Booking, view.id)


def _new_booking_notices(resident: User, owner: Recipient, view: BookingView) -> list[tuple]:
    """The resident's and the owner's notices of a new booking, each in its reader's language."""
    pending = view.status == S.PENDING
    facts = {"party": view.party_size, "title": view.title, "store": view.store_name,
             "price": f"{view.price_due} {view.currency}", "code": view.code, "name": resident.display_name}
    with in_locale_of(resident):
        facts["when"] = format_when(view.starts_at, view.timezone, "long")
        mine = (resident, "booked",
                _("Requested: %(title)s", **facts) if pending else _("Booked: %(title)s", **facts),
                _("%(party)s × %(title)s at %(store)s, %(when)s. The store will confirm it. Pay at the store: "
                  "%(price)s. Your code: %(code)s.", **facts) if pending else
                _("%(party)s × %(title)s at %(store)s, %(when)s. Pay at the store: %(price)s. "
                  "Your code: %(code)s.", **facts), None)
    with in_locale_of(owner):
        facts["when"] = format_when(view.starts_at, view.timezone, "long")
        theirs = (owner, "new_booking", _("New booking: %(title)s", **facts),
                  _("%(name)s, party of %(party)s, %(when)s — waiting for your approval.", **facts) if pending
                  else _("%(name)s, party of %(party)s, %(when)s.", **facts), None)
    return [mine, theirs]


def cutoff_of(booking: Booking) -> datetime:
    """Until when cancelling is free."""
    return cutoff_at(booking.slot.starts_at, booking.offering.cancel_cutoff_hours)


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
