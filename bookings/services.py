"""Booking verbs: schedules and slots, book, cancel, reschedule, waitlist, merchant actions, sweep.

Capacity lives in the database: seats are taken with a conditional UPDATE on the slot row
(``seats_taken + n <= capacity``) and a CHECK makes an overbooked slot impossible; a booking
row is locked (``FOR UPDATE``) before its state changes, and several slots are locked in id
order, so concurrent requests in any number of processes can neither overbook nor deadlock.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, exists, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlalchemy.orm.attributes import set_committed_value

from app import clock
from app.auth.models import User
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from app.merchants.models import Business, Store
from app.merchants.services import can_manage_store, can_view_store_private
from app.offerings.models import Offering
from app.offerings.services import is_publicly_visible
from bookings.errors import (
    AlreadyBooked,
    AlreadyWaiting,
    IdempotencyKeyReused,
    SlotClosed,
    SlotFull,
    SlotHasRoom,
    SlotInPast,
    SlotNotFound,
)
from bookings.models import (
    Booking,
    BookingEvent,
    IdempotencyKey,
    Notification,
    OutboxEmail,
    Schedule,
    ScheduleException,
    ScheduleTime,
    Slot,
    WaitlistEntry,
)
from bookings.schedule import parse_hhmm, parse_weekly, planned_starts
from bookings.states import ACTIVE, BookingStatus, assert_transition

S = BookingStatus
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: easy to read out at a counter
MAX_PARTY = 50
IDEMPOTENCY_TTL = timedelta(hours=24)
NO_SHOW_GRACE = timedelta(hours=2)
MAX_SLOT_RANGE = timedelta(days=62)
UNPLANNED = "No longer in the schedule."  # why sync_slots closed a slot (and may reopen it)


# -- access -------------------------------------------------------------------------

def can_work_store(actor: User | None, store: Store) -> bool:
    """Owners, admins and the store's staff act on its bookings."""
    return can_view_store_private(actor, store)


def get_booking(actor: User | None, booking_id: int) -> Booking:
    """Return a booking its resident, the store's people or an admin may see.

    :raises NotFound: for anyone else (whether or not it exists).
    """
    booking = db.session.get(Booking, booking_id)
    if booking is None or actor is None:
        raise NotFound("No such booking.")
    if booking.resident_id != actor.id and not can_work_store(actor, booking.store):
        raise NotFound("No such booking.")
    return booking


def _locked(booking_id: int) -> Booking:
    booking = db.session.scalar(
        select(Booking).where(Booking.id == booking_id).with_for_update().execution_options(populate_existing=True))
    if booking is None:
        raise NotFound("No such booking.")
    return booking


def _lock_slots(*slot_ids: int) -> dict[int, Slot]:
    """Lock slot rows in id order (the one order every verb uses, so nobody deadlocks)."""
    rows = db.session.scalars(
        select(Slot).where(Slot.id.in_(sorted(set(slot_ids)))).order_by(Slot.id).with_for_update()
        .execution_options(populate_existing=True)).all()
    return {slot.id: slot for slot in rows}


# -- schedules and slots --------------------------------------------------------------

def get_schedule(offering: Offering) -> Schedule | None:
    return db.session.scalar(select(Schedule).where(Schedule.offering_id == offering.id))


def _int_in(data: Mapping[str, Any], key: str, low: int, high: int, default: int, errors: dict) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[key] = f"must be a whole number from {low} to {high}."
        return default
    return value


def set_schedule(actor: User, offering: Offering, data: Mapping[str, Any], now: datetime) -> SyncResult:
    """Replace an experience's weekly availability and keep its slots in step.

    :raises PermissionDenied: when the actor does not own the store.
    :raises ValidationFailed: on bad times, ranges or exceptions.
    """
    if not can_manage_store(actor, offering.store):
        raise PermissionDenied("Only the store's owner can set availability.")
    plan = parse_weekly(data)
    errors: dict[str, str] = {}
    weeks = _int_in(data, "weeks_ahead", 1, 52, 8, errors)
    notice = _int_in(data, "min_notice_minutes", 0, 43200, 60, errors)
    checkin = _int_in(data, "checkin_opens_minutes", 0, 1440, 30, errors)
    approval = data.get("requires_approval", False)
    if not isinstance(approval, bool):
        errors["requires_approval"] = "must be true or false."
    exceptions = _parse_exceptions(data.get("exceptions") or [], errors)
    if errors:
        raise ValidationFailed(details=errors)
    schedule = get_schedule(offering)
    if schedule is None:
        schedule = Schedule(offering_id=offering.id)
        db.session.add(schedule)
    schedule.weeks_ahead, schedule.min_notice_minutes = weeks, notice
    schedule.checkin_opens_minutes, schedule.requires_approval = checkin, approval
    schedule.times.clear()
    schedule.exceptions.clear()
    db.session.flush()
    schedule.times.extend(ScheduleTime(weekday=w, starts_at=t) for w, ts in plan.times.items() for t in ts)
    schedule.exceptions.extend(exceptions)
    db.session.flush()
    return sync_slots(offering, now)


def _parse_exceptions(items: Any, errors: dict) -> list[ScheduleException]:
    if not isinstance(items, list):
        errors["exceptions"] = "must be a list of {date, kind, time}."
        return []
    out = []
    for index, item in enumerate(items):
        field = f"exceptions[{index}]"
        try:
            day = date.fromisoformat(item["date"])
            kind = item.get("kind", "day_off")
            if kind == "day_off":
                out.append(ScheduleException(day=day, kind=kind))
            elif kind == "extra_slot":
                out.append(ScheduleException(day=day, kind=kind, starts_at=parse_hhmm(item.get("time"), field)))
            else:
                errors[field] = "kind must be day_off or extra_slot."
        except (KeyError, TypeError, ValueError):
            errors[field] = "needs a date YYYY-MM-DD, a kind (day_off or extra_slot) and, for extra slots, a time."
        except ValidationFailed:
            errors[field] = "an extra slot needs a time HH:MM."
    return out


@dataclass
class SyncResult:
    created: int = 0
    removed: int = 0
    kept_with_bookings: int = 0
    capacity_updated: int = 0


def sync_slots(offering: Offering, now: datetime) -> SyncResult:
    """Create the schedule's future slots and drop planned-away ones that nobody booked.

    A slot that holds bookings is never removed here: its owner cancels it explicitly.
    """
    result = SyncResult()
    schedule = get_schedule(offering)
    tz = ZoneInfo(offering.store.timezone)
    first_day = now.astimezone(tz).date()
    desired: set[datetime] = set()
    if schedule is not None and offering.status == "active":
        times: dict[int, list] = {}
        for item in schedule.times:
            times.setdefault(item.weekday, []).append(item.starts_at)
        days_off = {e.day for e in schedule.exceptions if e.kind == "day_off"}
        extras: dict[date, list] = {}
        for e in schedule.exceptions:
            if e.kind == "extra_slot":
                extras.setdefault(e.day, []).append(e.starts_at)
        desired = {start for start in planned_starts(times, days_off, extras, offering.store.timezone, first_day,
                                                     schedule.weeks_ahead * 7) if start > now}
    duration = timedelta(minutes=offering.duration_min)
    existing = {slot.starts_at: slot for slot in db.session.scalars(
        select(Slot).where(Slot.offering_id == offering.id, Slot.starts_at > now))}
    missing = sorted(desired - set(existing))
    if missing:
        inserted = db.session.execute(
            pg_insert(Slot).values([{"offering_id": offering.id, "starts_at": start, "ends_at": start + duration,
                                     "capacity": offering.capacity, "seats_taken": 0, "status": "open",
                                     "is_extra": False} for start in missing])
            .on_conflict_do_nothing(constraint="uq_slots_offering_start").returning(Slot.id)).all()
        result.created = len(inserted)
    for start, slot in existing.items():
        if start in desired:
            # Reopen only what this sync closed; a slot the owner cancelled stays cancelled.
            if slot.status == "cancelled" and slot.cancel_reason == UNPLANNED and slot.seats_taken == 0:
                slot.status, slot.cancel_reason = "open", None
            continue
        if slot.status != "open":
            continue
        if slot.seats_taken > 0 or db.session.scalar(select(exists().where(Booking.slot_id == slot.id))):
            if slot.seats_taken > 0:
                result.kept_with_bookings += 1
            else:
                slot.status, slot.cancel_reason = "cancelled", UNPLANNED
            continue
        db.session.execute(delete(WaitlistEntry).where(WaitlistEntry.slot_id == slot.id))
        db.session.delete(slot)
        result.removed += 1
    result.capacity_updated = db.session.execute(
        update(Slot).where(Slot.offering_id == offering.id, Slot.starts_at > now, Slot.status == "open",
                           Slot.capacity != offering.capacity, Slot.seats_taken <= offering.capacity)
        .values(capacity=offering.capacity, ends_at=Slot.starts_at + duration)
        .execution_options(synchronize_session=False)).rowcount
    db.session.flush()
    return result


def list_slots(offering: Offering, start: datetime, end: datetime) -> list[Slot]:
    """The experience's slots that start in [start, end), cancelled ones left out.

    :raises ValidationFailed: when the range is inverted or longer than 62 days.
    """
    if end <= start:
        raise ValidationFailed(details={"to": ["must be after from."]})
    if end - start > MAX_SLOT_RANGE:
        raise ValidationFailed(details={"to": ["the range may span at most 62 days."]})
    return list(db.session.scalars(
        select(Slot).where(Slot.offering_id == offering.id, Slot.status == "open", Slot.starts_at >= start,
                           Slot.starts_at < end).order_by(Slot.starts_at)))


def bookable_from(offering: Offering, now: datetime) -> datetime:
    """The earliest start a resident may still book (the experience's minimum notice)."""
    schedule = get_schedule(offering)
    return now + timedelta(minutes=schedule.min_notice_minutes if schedule else 0)


def cancel_slot(actor: User, slot: Slot, reason: str, now: datetime) -> int:
    """Cancel a slot and every booking in it; return how many bookings were cancelled.

    :raises PermissionDenied: when the actor does not own the store.
    :raises SlotClosed: when the slot is cancelled already.
    """
    if not can_manage_store(actor, slot.offering.store):
        raise PermissionDenied("Only the store's owner can cancel a slot.")
    reason = _reason(reason, required=True)
    # Bookings first, then the slot: the order cancel() takes them in.
    bookings = db.session.scalars(
        select(Booking).where(Booking.slot_id == slot.id, Booking.status.in_(ACTIVE)).order_by(Booking.id)
        .with_for_update().execution_options(populate_existing=True)).all()
    slot = _lock_slots(slot.id)[slot.id]
    if slot.status != "open":
        raise SlotClosed("This slot is cancelled already.")
    for booking in bookings:
        transition(booking, S.CANCELLED_BY_MERCHANT, actor, reason)
        booking.cancel_reason = reason
        _notify(booking.resident, "cancelled", f"Cancelled by the store: {booking.offering.title}",
                f"{booking.store.name} cancelled your visit on {_local(booking)}: {reason}", booking)
    for entry in db.session.scalars(select(WaitlistEntry).where(WaitlistEntry.slot_id == slot.id,
                                                                WaitlistEntry.status == "waiting")):
        entry.status = "expired"
        _notify(entry.resident, "waitlist_closed", f"Slot cancelled: {slot.offering.title}",
                f"The slot you were waiting for on {_local_slot(slot)} was cancelled by the store.", None)
    for booking in bookings:
        _release_seats(slot.id, booking.party_size)
    db.session.refresh(slot)
    slot.status, slot.cancel_reason = "cancelled", reason
    db.session.flush()
    return len(bookings)


# -- booking --------------------------------------------------------------------------

def _reason(reason: Any, required: bool = False) -> str:
    if reason is None:
        reason = ""
    if not isinstance(reason, str) or len(reason) > 300:
        raise ValidationFailed(details={"reason": "must be text of at most 300 characters."})
    if required and not reason.strip():
        raise ValidationFailed(details={"reason": "Tell the residents why."})
    return reason.strip()


def _check_party(party_size: Any, note: Any) -> None:
    errors = {}
    if isinstance(party_size, bool) or not isinstance(party_size, int) or not 1 <= party_size <= MAX_PARTY:
        errors["party_size"] = f"must be a whole number from 1 to {MAX_PARTY}."
    if note is not None and (not isinstance(note, str) or len(note) > 500):
        errors["note"] = "must be text of at most 500 characters."
    if errors:
        raise ValidationFailed(details=errors)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


def _why_not(slot: Slot, party_size: int, earliest: datetime) -> Exception:
    if slot.status != "open":
        return SlotClosed()
    if slot.starts_at <= earliest:
        return SlotInPast()
    return SlotFull(details={"remaining": slot.remaining, "party_size": party_size})


def _take_seats(slot: Slot, party_size: int, earliest: datetime) -> None:
    """Take seats with one conditional UPDATE; the row lock it takes serialises racers.

    :raises SlotFull, SlotInPast, SlotClosed: when the slot cannot seat the party.
    """
    taken = db.session.execute(
        update(Slot).where(Slot.id == slot.id, Slot.status == "open", Slot.starts_at > earliest,
                           Slot.seats_taken + party_size <= Slot.capacity)
        .values(seats_taken=Slot.seats_taken + party_size).returning(Slot.seats_taken)
        .execution_options(synchronize_session=False)).scalar()
    if taken is None:
        db.session.refresh(slot)
        raise _why_not(slot, party_size, earliest)
    set_committed_value(slot, "seats_taken", taken)


def _release_seats(slot_id: int, party_size: int) -> None:
    db.session.execute(update(Slot).where(Slot.id == slot_id).values(seats_taken=Slot.seats_taken - party_size)
                       .execution_options(synchronize_session=False))


def _has_active(resident_id: int, slot_id: int) -> bool:
    return bool(db.session.scalar(select(exists().where(
        Booking.slot_id == slot_id, Booking.resident_id == resident_id, Booking.status.in_(ACTIVE)))))


def _bookable_slot(slot_id: Any) -> Slot:
    if isinstance(slot_id, bool) or not isinstance(slot_id, int) or not 0 < slot_id < 2**31:
        raise ValidationFailed(details={"slot_id": "must be a slot id."})
    slot = db.session.get(Slot, slot_id)
    if slot is None:
        raise SlotNotFound()
    if not is_publicly_visible(slot.offering):
        raise SlotClosed("This experience is not open for booking.")
    return slot


def _load_for_booking(slot_id: Any, resident_id: int) -> tuple[Slot, Schedule | None, bool]:
    """One round trip for everything a booking needs: the slot with its experience, store, business,
    owner and schedule, and whether the resident already holds a booking there.

    :raises ValidationFailed, SlotNotFound, SlotClosed: as _bookable_slot.
    """
    if isinstance(slot_id, bool) or not isinstance(slot_id, int) or not 0 < slot_id < 2**31:
        raise ValidationFailed(details={"slot_id": "must be a slot id."})
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
        raise SlotClosed("This experience is not open for booking.")
    return row.Slot, row.Schedule, row.holds


def book(actor: User, slot_id: Any, party_size: Any, note: Any, now: datetime) -> Booking:
    """Book seats in a slot for the actor; pay at the store.

    Peak-day path: one read, the conditional seat update, the insert, and batched notices.

    :raises ValidationFailed: on a bad party size or note.
    :raises SlotNotFound: when the slot does not exist.
    :raises SlotFull, SlotInPast, SlotClosed: when it cannot seat the party.
    :raises AlreadyBooked: when the actor already holds a booking in this slot.
    """
    _check_party(party_size, note)
    slot, schedule, holds = _load_for_booking(slot_id, actor.id)
    if holds:
        raise AlreadyBooked()
    offering = slot.offering
    _take_seats(slot, party_size, now + timedelta(minutes=schedule.min_notice_minutes if schedule else 0))
    booking = _insert_booking_returning(dict(
        slot_id=slot.id, offering_id=offering.id, store_id=offering.store_id, resident_id=actor.id,
        starts_at=slot.starts_at, party_size=party_size, note=(note or "").strip(),
        status=S.PENDING if schedule and schedule.requires_approval else S.CONFIRMED,
        unit_price=offering.price_amount, currency=offering.currency,
        price_due=offering.price_amount * party_size))
    record_event(booking, None, booking.status, actor, "booked", party_size=party_size)
    _announce_new(booking)
    return booking


def _insert_booking_returning(values: dict[str, Any]) -> Booking:
    """Insert a booking in one round trip: a clashing code is skipped (``ON CONFLICT (code) DO
    NOTHING``) and retried; a racing twin trips the partial unique index.

    :raises AlreadyBooked: when another request booked the same slot for the resident first (the
        transaction is then over; the caller's error handling rolls it back, seats included).
    """
    for _attempt in range(5):
        statement = (pg_insert(Booking).values(code=new_code(), **values)
                     .on_conflict_do_nothing(index_elements=[Booking.code]).returning(Booking))
        try:
            booking = db.session.scalars(statement).first()
        except IntegrityError as exc:
            if getattr(getattr(exc.orig, "diag", None), "constraint_name", "") == "ux_bookings_active_per_resident":
                raise AlreadyBooked() from None
            raise
        if booking is not None:
            return booking
    raise Conflict("Could not issue a booking code; try again.", code="code_collision")


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
    raise Conflict("Could not issue a booking code; try again.", code="code_collision")


def _announce_new(booking: Booking) -> None:
    pending = booking.status == S.PENDING
    when = _local(booking)
    _notify_all([
        (booking.resident, "booked", f"{'Requested' if pending else 'Booked'}: {booking.offering.title}",
         f"{booking.party_size} × {booking.offering.title} at {booking.store.name}, {when}. "
         f"{'The store will confirm it. ' if pending else ''}Pay at the store: {booking.price_due} "
         f"{booking.currency}. Your code: {booking.code}.", booking),
        (booking.store.business.owner, "new_booking", f"New booking: {booking.offering.title}",
         f"{booking.resident.display_name}, party of {booking.party_size}, {when}"
         f"{' — waiting for your approval' if pending else ''}.", booking),
    ])


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
        raise PermissionDenied("Only the store's owner can cancel a visit for the store.")
    reason = _reason(reason, required=not by_resident)
    target = S.CANCELLED_BY_RESIDENT if by_resident else S.CANCELLED_BY_MERCHANT
    assert_transition(booking.status, target)
    late = by_resident and now >= cutoff_of(booking)
    transition(booking, target, actor, reason, late=late)
    booking.is_late_cancel, booking.cancel_reason = late, reason or None
    _lock_slots(booking.slot_id)
    _release_seats(booking.slot_id, booking.party_size)
    if by_resident:
        _notify(booking.store.business.owner, "cancelled", f"Cancelled: {booking.offering.title}",
                f"{booking.resident.display_name} cancelled {_local(booking)}{' (late)' if late else ''}.", booking)
    else:
        _notify(booking.resident, "cancelled", f"Cancelled by the store: {booking.offering.title}",
                f"{booking.store.name} cancelled your visit on {_local(booking)}: {reason}", booking)
    promote_waitlist(booking.slot_id, now)
    return booking


def reschedule(actor: User, booking_id: int, new_slot_id: Any, now: datetime) -> Booking:
    """Move the resident's booking to another slot of the same experience, atomically.

    :raises NotFound: when the actor may not see the booking.
    :raises PermissionDenied: when the actor is not its resident.
    :raises Conflict: ``past_cutoff`` after the cancellation cut-off; ``same_slot``.
    :raises SlotFull, SlotInPast, SlotClosed, AlreadyBooked: when the new slot cannot take it.
    """
    booking = get_booking(actor, booking_id)
    if booking.resident_id != actor.id:
        raise PermissionDenied("Only the resident can move their booking.")
    new_slot = _bookable_slot(new_slot_id)
    booking = _locked(booking.id)
    if booking.status not in (S.PENDING, S.CONFIRMED):
        raise Conflict(f"A {booking.status} booking cannot be moved.", code="invalid_transition")
    if new_slot.offering_id != booking.offering_id:
        raise ValidationFailed(details={"slot_id": "must be a slot of the same experience."})
    if new_slot.id == booking.slot_id:
        raise Conflict("The booking is in that slot already.", code="same_slot")
    if now >= cutoff_of(booking):
        raise Conflict("Too late to move this booking: the free-change cut-off has passed.", code="past_cutoff",
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
    _notify(booking.resident, "rescheduled", f"Moved: {booking.offering.title}",
            f"Your visit is now on {_local(booking)}. Your code stays {booking.code}.", booking)
    _notify(booking.store.business.owner, "rescheduled", f"Moved: {booking.offering.title}",
            f"{booking.resident.display_name} moved their visit to {_local(booking)}.", booking)
    promote_waitlist(old_slot_id, now)
    return booking


def _merchant_action(actor: User, booking_id: int) -> Booking:
    booking = get_booking(actor, booking_id)
    if not can_work_store(actor, booking.store):
        raise NotFound("No such booking.")
    return _locked(booking.id)


def confirm(actor: User, booking_id: int) -> Booking:
    """Approve a pending booking.

    :raises NotFound: unless the actor works at the store.
    :raises InvalidTransition: unless it is pending.
    """
    booking = _merchant_action(actor, booking_id)
    transition(booking, S.CONFIRMED, actor, "approved")
    _notify(booking.resident, "confirmed", f"Confirmed: {booking.offering.title}",
            f"{booking.store.name} confirmed your visit on {_local(booking)}. Your code: {booking.code}.", booking)
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
    _notify(booking.resident, "rejected", f"Declined: {booking.offering.title}",
            f"{booking.store.name} could not take your visit on {_local(booking)}. {reason}", booking)
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
        raise Conflict("Wait until the slot is over to mark a no-show.", code="slot_not_over")
    transition(booking, S.NO_SHOW, actor, "marked by the store")
    return booking


# -- waitlist ----------------------------------------------------------------------------

def join_waitlist(actor: User, slot_id: Any, party_size: Any, note: Any, now: datetime) -> WaitlistEntry:
    """Queue for a full slot; the first in line whose party fits gets freed seats.

    :raises SlotHasRoom: when the slot can seat the party now.
    :raises AlreadyBooked, AlreadyWaiting, SlotInPast, SlotClosed: as the names say.
    """
    _check_party(party_size, note)
    slot = _bookable_slot(slot_id)
    # Lock the slot as cancel/promote do: a seat freed meanwhile is seen here, or this entry is
    # seen by that promotion, never neither (which would leave a free seat beside the queue).
    slot = _lock_slots(slot.id)[slot.id]
    if slot.status != "open":
        raise SlotClosed()
    if slot.starts_at <= bookable_from(slot.offering, now):
        raise SlotInPast()
    if _has_active(actor.id, slot.id):
        raise AlreadyBooked()
    if slot.capacity - slot.seats_taken >= party_size:
        raise SlotHasRoom(details={"remaining": slot.remaining})
    if party_size > slot.capacity:
        raise ValidationFailed(details={"party_size": f"this slot seats at most {slot.capacity}."})
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
    if entry is None or entry.resident_id != actor.id or entry.status != "waiting":
        raise NotFound("No such waitlist entry.")
    entry.status = "left"
    db.session.flush()
    return entry


def promote_waitlist(slot_id: int, now: datetime) -> list[Booking]:
    """Seat waiting residents, first in line first, while their parties fit."""
    slot = _lock_slots(slot_id).get(slot_id)
    if slot is None or slot.status != "open" or slot.starts_at <= now:
        return []
    promoted = []
    entries = db.session.scalars(
        select(WaitlistEntry).where(WaitlistEntry.slot_id == slot_id, WaitlistEntry.status == "waiting")
        .order_by(WaitlistEntry.id).with_for_update(skip_locked=True)).all()
    for entry in entries:
        if slot.capacity - slot.seats_taken <= 0:
            break
        if _has_active(entry.resident_id, slot_id):
            entry.status = "expired"
            continue
        if slot.seats_taken + entry.party_size > slot.capacity:
            continue
        _take_seats(slot, entry.party_size, now)
        offering = slot.offering
        booking = Booking(
            slot_id=slot.id, offering_id=offering.id, store_id=offering.store_id, resident_id=entry.resident_id,
            starts_at=slot.starts_at, party_size=entry.party_size, note=entry.note, status=S.CONFIRMED,
            unit_price=offering.price_amount, currency=offering.currency,
            price_due=offering.price_amount * entry.party_size)
        _insert_booking(booking)
        entry.status, entry.booking_id = "promoted", booking.id
        record_event(booking, None, S.CONFIRMED, None, "promoted from the waitlist", waitlist_entry=entry.id)
        _notify(entry.resident, "promoted", f"A seat opened up: {offering.title}",
                f"You are booked for {_local(booking)} at {booking.store.name}. Pay at the store: "
                f"{booking.price_due} {booking.currency}. Your code: {booking.code}.", booking)
        promoted.append(booking)
    return promoted


# -- sweep (cron) ----------------------------------------------------------------------------

SWEEP_LOCK = 7_340_021


def sweep(now: datetime, grace: timedelta = NO_SHOW_GRACE) -> dict[str, int]:
    """Housekeeping safe to run from cron, any number of times, from any number of hosts."""
    if not db.session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SWEEP_LOCK}).scalar():
        return {"skipped": 1}
    counts = {"no_show": 0, "completed": 0, "expired_pending": 0, "reminded": 0, "slots_created": 0,
              "idempotency_keys_deleted": 0}
    ended = select(Booking).join(Slot, Booking.slot_id == Slot.id)
    for booking in db.session.scalars(ended.where(Booking.status == S.CONFIRMED, Slot.ends_at < now - grace)
                                      .with_for_update(of=Booking, skip_locked=True)):
        transition(booking, S.NO_SHOW, None, "not checked in by the end of the grace period")
        counts["no_show"] += 1
    for booking in db.session.scalars(ended.where(Booking.status == S.CHECKED_IN, Slot.ends_at < now)
                                      .with_for_update(of=Booking, skip_locked=True)):
        transition(booking, S.COMPLETED, None, "slot over")
        counts["completed"] += 1
    for booking in db.session.scalars(ended.where(Booking.status == S.PENDING, Slot.starts_at < now)
                                      .with_for_update(of=Booking, skip_locked=True)):
        transition(booking, S.REJECTED, None, "not confirmed before the start")
        booking.cancel_reason = "The store did not confirm in time."
        _release_seats(booking.slot_id, booking.party_size)
        _notify(booking.resident, "rejected", f"Not confirmed: {booking.offering.title}",
                "The store did not confirm your request before the start.", booking)
        counts["expired_pending"] += 1
    for booking in db.session.scalars(
            select(Booking).where(Booking.status == S.CONFIRMED, Booking.reminded_at.is_(None),
                                  Booking.starts_at > now, Booking.starts_at <= now + timedelta(hours=24))
            .with_for_update(skip_locked=True)):
        booking.reminded_at = now
        _notify(booking.resident, "reminder", f"Tomorrow: {booking.offering.title}",
                f"{_local(booking)} at {booking.store.name}, {booking.store.address}. Pay at the store: "
                f"{booking.price_due} {booking.currency}. Your code: {booking.code}.", booking)
        counts["reminded"] += 1
    counts["idempotency_keys_deleted"] = db.session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < now - IDEMPOTENCY_TTL)).rowcount
    for offering in db.session.scalars(select(Offering).join(Schedule, Schedule.offering_id == Offering.id)):
        counts["slots_created"] += sync_slots(offering, now).created
    db.session.flush()
    return counts


# -- idempotency -------------------------------------------------------------------------------

def request_fingerprint(payload: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def claim_idempotency_key(actor: User, key: str, fingerprint: str, now: datetime) -> tuple[int, dict] | None:
    """Claim a key for this request, or return the answer already given for it.

    A concurrent request with the same key waits on the row lock until the first commits,
    then gets its answer; if the first rolled back, this one goes ahead instead.

    :raises ValidationFailed: when the key is empty or longer than 200 characters.
    :raises IdempotencyKeyReused: when the key came with a different request.
    :raises Conflict: ``idempotency_key_in_use`` if the first request is somehow still unfinished.
    """
    if not key or len(key) > 200:
        raise ValidationFailed(details={"Idempotency-Key": "must be 1 to 200 characters."})
    db.session.execute(delete(IdempotencyKey).where(
        IdempotencyKey.user_id == actor.id, IdempotencyKey.key == key,
        IdempotencyKey.created_at < now - IDEMPOTENCY_TTL))
    claimed = db.session.execute(
        pg_insert(IdempotencyKey).values(user_id=actor.id, key=key, request_hash=fingerprint, created_at=now)
        .on_conflict_do_nothing().returning(IdempotencyKey.key)).scalar()
    if claimed is not None:
        return None
    stored = db.session.scalar(select(IdempotencyKey).where(
        IdempotencyKey.user_id == actor.id, IdempotencyKey.key == key).execution_options(populate_existing=True))
    if stored is None:  # vanished between the two statements (expired and swept): go ahead
        return claim_idempotency_key(actor, key, fingerprint, now)
    if stored.request_hash != fingerprint:
        raise IdempotencyKeyReused()
    if stored.status_code is None:
        raise Conflict("A request with this Idempotency-Key is still being processed.",
                       code="idempotency_key_in_use")
    return stored.status_code, stored.body or {}


def remember_response(actor: User, key: str, status_code: int, body: dict) -> None:
    """Store the answer for a claimed key, in the same transaction as the work it answers."""
    db.session.execute(update(IdempotencyKey).where(IdempotencyKey.user_id == actor.id, IdempotencyKey.key == key)
                       .values(status_code=status_code, body=body))


# -- lists -------------------------------------------------------------------------------------

def bookings_of_resident(actor: User, *, upcoming: bool, now: datetime, limit: int = 100) -> list[Booking]:
    query = select(Booking).where(Booking.resident_id == actor.id)
    if upcoming:
        query = query.where(Booking.starts_at >= now - timedelta(hours=12)).order_by(Booking.starts_at)
    else:
        query = query.where(Booking.starts_at < now - timedelta(hours=12)).order_by(Booking.starts_at.desc())
    return list(db.session.scalars(query.limit(limit)))


def bookings_of_store_day(actor: User, store: Store, day: date) -> list[Booking]:
    """A store's bookings starting on a local date, by start time.

    :raises NotFound: unless the actor works at the store.
    """
    if not can_work_store(actor, store):
        raise NotFound("No such store.")
    tz = ZoneInfo(store.timezone)
    start = datetime.combine(day, datetime.min.time(), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz).astimezone(UTC)
    return list(db.session.scalars(
        select(Booking).where(Booking.store_id == store.id, Booking.starts_at >= start, Booking.starts_at < end)
        .order_by(Booking.starts_at, Booking.id)))


def waitlist_of(actor: User, slot_id: int) -> WaitlistEntry | None:
    return db.session.scalar(select(WaitlistEntry).where(
        WaitlistEntry.slot_id == slot_id, WaitlistEntry.resident_id == actor.id, WaitlistEntry.status == "waiting"))


def waiting_of(actor: User) -> list[WaitlistEntry]:
    """The waitlists the actor is on, oldest first."""
    return list(db.session.scalars(select(WaitlistEntry).where(
        WaitlistEntry.resident_id == actor.id, WaitlistEntry.status == "waiting").order_by(WaitlistEntry.id)))


def notifications_of(actor: User, limit: int = 50) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == actor.id)
                                   .order_by(Notification.id.desc()).limit(limit)))


def mark_notifications_read(actor: User, now: datetime) -> int:
    return db.session.execute(update(Notification).where(Notification.user_id == actor.id,
                                                         Notification.read_at.is_(None)).values(read_at=now)).rowcount


def unread_count(actor: User) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == actor.id, Notification.read_at.is_(None))) or 0


# -- internals ---------------------------------------------------------------------------------

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


def _local_slot(slot: Slot) -> str:
    local = slot.starts_at.astimezone(ZoneInfo(slot.offering.store.timezone))
    return local.strftime("%a %d %b %Y, %H:%M")


def _local(booking: Booking) -> str:
    return _local_slot(booking.slot)


def _notify(user: User, kind: str, title: str, body: str, booking: Booking | None) -> None:
    """Queue an inbox message and an e-mail; `flask outbox send` delivers after the commit."""
    _notify_all([(user, kind, title, body, booking)])


def _notify_all(messages: list[tuple[User, str, str, str, Booking | None]]) -> None:
    """Queue several messages in two statements (inbox rows, then outbox rows)."""
    db.session.execute(insert(Notification), [
        {"user_id": user.id, "kind": kind, "title": title[:200], "body": body,
         "booking_id": booking.id if booking else None} for user, kind, title, body, booking in messages])
    db.session.execute(insert(OutboxEmail), [
        {"to_email": user.email, "subject": f"Onsite: {title}"[:200], "body": body}
        for user, _kind, title, body, _booking in messages])



def has_room_on(day: date, now: datetime):
    """SQL: the offering has an open slot with a free seat on this store-local date, still bookable.

    Correlated to ``offerings`` and ``stores`` in the caller's query (used by nearby search).
    """
    local_day = func.date(func.timezone(Store.timezone, Slot.starts_at))
    return exists().where(Slot.offering_id == Offering.id, Slot.status == "open", Slot.starts_at > now,
                          Slot.seats_taken < Slot.capacity, local_day == day)


# -- outbox --------------------------------------------------------------------------------------

def deliver_outbox(send, limit: int = 100) -> tuple[int, int]:
    """Send queued e-mails with ``send(to, subject, body)``; return (sent, failed).

    Rows are claimed with SKIP LOCKED, so several senders never send one e-mail twice.
    """
    sent = failed = 0
    rows = db.session.scalars(select(OutboxEmail).where(OutboxEmail.sent_at.is_(None), OutboxEmail.attempts < 5)
                              .order_by(OutboxEmail.id).limit(limit).with_for_update(skip_locked=True)).all()
    for row in rows:
        row.attempts += 1
        try:
            send(row.to_email, row.subject, row.body)
        except Exception as exc:  # a refused address must not stop the rest of the batch
            row.last_error = str(exc)[:500]
            failed += 1
        else:
            row.sent_at = clock.now()
            sent += 1
    db.session.flush()
    return sent, failed


def offerings_without_schedule(business_ids) -> list[Offering]:
    """Active offerings of these businesses (a select of ids) that have no availability yet."""
    return list(db.session.scalars(
        select(Offering).join(Store, Offering.store_id == Store.id)
        .where(Store.business_id.in_(business_ids), Offering.status == "active",
               ~exists().where(Schedule.offering_id == Offering.id))
        .order_by(Offering.id)))


def offering_changed(offering: Offering, now: datetime) -> SyncResult | None:
    """Bring an experience's future slots in line after its capacity, duration or status changed."""
    if get_schedule(offering) is None:
        return None
    return sync_slots(offering, now)
