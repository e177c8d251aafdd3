"""Availability: an experience's weekly schedule, the slots it plans, and cancelling a slot."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from sqlalchemy import delete, exists, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.auth.models import User
from app.errors import PermissionDenied, ValidationFailed
from app.extensions import db
from app.i18n import in_locale_of
from app.merchants.models import Store
from app.merchants.services import can_manage_store
from app.offerings.models import Offering
from app.offerings.services import update_offering
from bookings.errors import SlotClosed
from bookings.models import Booking, Schedule, ScheduleException, ScheduleTime, Slot, WaitlistEntry
from bookings.schedule import parse_hhmm, parse_weekly, planned_starts
from bookings.services.notices import _local, _local_slot, _notify
from bookings.services.records import _reason, transition
from bookings.services.seats import _lock_slots, _release_seats
from bookings.states import ACTIVE, BookingStatus, SlotStatus, WaitlistStatus, WhyNotBookable

S = BookingStatus
MAX_SLOT_RANGE = timedelta(days=62)
# What one schedule may ask for (documented in the API): a save stays well under a second of a worker.
MAX_PLANNED_SLOTS = 3_000
MAX_EXCEPTIONS = 400
INSERT_BATCH = 1_000  # rows per INSERT: PostgreSQL takes at most 65,535 parameters in one statement


def get_schedule(offering: Offering) -> Schedule | None:
    return db.session.scalar(select(Schedule).where(Schedule.offering_id == offering.id))


def bookable_from(offering: Offering, now: datetime) -> datetime:
    """The earliest start a resident may still book (the experience's minimum notice)."""
    schedule = get_schedule(offering)
    return now + timedelta(minutes=schedule.min_notice_minutes if schedule else 0)


def _int_in(data: Mapping[str, Any], key: str, low: int, high: int, default: int, errors: dict) -> int:
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        errors[key] = _("must be a whole number from %(low)s to %(high)s.", low=low, high=high)
        return default
    return value


def set_schedule(actor: User, offering: Offering, data: Mapping[str, Any], now: datetime) -> SyncResult:
    """Replace an experience's weekly availability and keep its slots in step.

    :raises PermissionDenied: when the actor does not own the store.
    :raises ValidationFailed: on bad times, ranges or exceptions.
    """
    if not can_manage_store(actor, offering.store):
        raise PermissionDenied(_("Only the store's owner can set availability."))
    plan = parse_weekly(data)
    errors: dict[str, str] = {}
    weeks = _int_in(data, "weeks_ahead", 1, 52, 8, errors)
    notice = _int_in(data, "min_notice_minutes", 0, 43200, 60, errors)
    checkin = _int_in(data, "checkin_opens_minutes", 0, 1440, 30, errors)
    approval = data.get("requires_approval", False)
    if not isinstance(approval, bool):
        errors["requires_approval"] = _("must be true or false.")
    exceptions = _parse_exceptions(data.get("exceptions") or [], errors)
    if not errors:
        planned = _planned_count(plan.times, exceptions, weeks)
        if planned > MAX_PLANNED_SLOTS:
            errors["weeks_ahead"] = _("this schedule would plan %(planned)s slots; at most %(most)s: choose fewer "
                                       "weeks ahead or fewer start times.", planned=f"{planned:,}",
                                       most=f"{MAX_PLANNED_SLOTS:,}")
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


def _planned_count(times: Mapping[int, list], exceptions: list[ScheduleException], weeks: int) -> int:
    """An upper bound of the slots a schedule plans over its horizon (days off not subtracted)."""
    return weeks * sum(len(starts) for starts in times.values()) + sum(e.kind == "extra_slot" for e in exceptions)


def _parse_exceptions(items: Any, errors: dict) -> list[ScheduleException]:
    if not isinstance(items, list):
        errors["exceptions"] = _("must be a list of {date, kind, time}.")
        return []
    if len(items) > MAX_EXCEPTIONS:
        errors["exceptions"] = _("at most %(num)d dated exceptions (days off and extra slots).", num=MAX_EXCEPTIONS)
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
                errors[field] = _("kind must be day_off or extra_slot.")
        except (KeyError, TypeError, ValueError):
            errors[field] = _("needs a date YYYY-MM-DD, a kind (day_off or extra_slot) and, for extra slots, a time.")
        except ValidationFailed:
            errors[field] = _("an extra slot needs a time HH:MM.")
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
        # One executemany: SQLAlchemy sends it as multi-row INSERTs of at most INSERT_BATCH rows each.
        inserted = db.session.execute(
            pg_insert(Slot).on_conflict_do_nothing(constraint="uq_slots_offering_start").returning(Slot.id),
            [{"offering_id": offering.id, "starts_at": start, "ends_at": start + duration,
              "capacity": offering.capacity, "seats_taken": 0, "status": SlotStatus.OPEN, "is_extra": False}
             for start in missing], execution_options={"insertmanyvalues_page_size": INSERT_BATCH}).all()
        result.created = len(inserted)
    if schedule is not None:
        schedule.synced_on = first_day
    for start, slot in existing.items():
        if start in desired:
            # Reopen only what a sync closed; a slot the owner cancelled stays cancelled.
            if slot.status == SlotStatus.UNPLANNED and slot.seats_taken == 0:
                slot.status = SlotStatus.OPEN
            continue
        if slot.status != SlotStatus.OPEN:
            continue
        if slot.seats_taken > 0 or db.session.scalar(select(exists().where(Booking.slot_id == slot.id))):
            if slot.seats_taken > 0:
                result.kept_with_bookings += 1
            else:
                slot.status = SlotStatus.UNPLANNED  # its bookings are gone but their rows keep it
            continue
        db.session.execute(delete(WaitlistEntry).where(WaitlistEntry.slot_id == slot.id))
        db.session.delete(slot)
        result.removed += 1
    result.capacity_updated = db.session.execute(
        update(Slot).where(Slot.offering_id == offering.id, Slot.starts_at > now, Slot.status == SlotStatus.OPEN,
                           Slot.capacity != offering.capacity, Slot.seats_taken <= offering.capacity)
        .values(capacity=offering.capacity, ends_at=Slot.starts_at + duration)
        .execution_options(synchronize_session=False)).rowcount
    db.session.flush()
    return result


def change_offering(actor: User, offering: Offering, data: Mapping[str, Any], now: datetime) -> Offering:
    """Change an experience's fields (archiving and restoring too) and bring its future slots in line.

    Every page and endpoint that edits an experience calls this, so no capacity, duration or status
    change leaves slots behind.

    :raises PermissionDenied: when the actor does not own its store.
    :raises ValidationFailed: on bad fields.
    """
    update_offering(actor, offering, data)
    if get_schedule(offering) is not None:
        sync_slots(offering, now)
    return offering


def offerings_without_schedule(business_ids) -> list[Offering]:
    """Active offerings of these businesses (a select of ids) that have no availability yet."""
    return list(db.session.scalars(
        select(Offering).join(Store, Offering.store_id == Store.id)
        .where(Store.business_id.in_(business_ids), Offering.status == "active",
               ~exists().where(Schedule.offering_id == Offering.id))
        .order_by(Offering.id)))


def list_slots(offering: Offering, start: datetime, end: datetime) -> list[Slot]:
    """The experience's slots that start in [start, end), cancelled ones left out.

    :raises ValidationFailed: when the range is inverted or longer than 62 days.
    """
    if end <= start:
        raise ValidationFailed(details={"to": [_("must be after from.")]})
    if end - start > MAX_SLOT_RANGE:
        raise ValidationFailed(details={"to": [_("the range may span at most 62 days.")]})
    return list(db.session.scalars(
        select(Slot).where(Slot.offering_id == offering.id, Slot.status == SlotStatus.OPEN, Slot.starts_at >= start,
                           Slot.starts_at < end).order_by(Slot.starts_at)))


def why_not_bookable(slot: Slot, now: datetime, earliest: datetime) -> WhyNotBookable | None:
    """Why a resident cannot book a seat in ``slot`` now, or None when they can.

    ``earliest`` is ``bookable_from(offering, now)``: the checks are the ones taking a seat makes.
    """
    if slot.status != SlotStatus.OPEN:
        return WhyNotBookable.CANCELLED
    if slot.starts_at <= now:
        return WhyNotBookable.STARTED
    if slot.starts_at <= earliest:
        return WhyNotBookable.INSIDE_NOTICE
    if slot.remaining < 1:
        return WhyNotBookable.FULL
    return None


def slots_to_book(offering: Offering, start: datetime, end: datetime,
                  now: datetime) -> list[tuple[Slot, WhyNotBookable | None]]:
    """The experience's open slots in [start, end), each with why it cannot be booked at ``now`` (or None).

    :raises ValidationFailed: as list_slots.
    """
    earliest = bookable_from(offering, now)
    return [(slot, why_not_bookable(slot, now, earliest)) for slot in list_slots(offering, start, end)]


def cancel_slot(actor: User, slot: Slot, reason: str, now: datetime) -> int:
    """Cancel a slot and every booking in it; return how many bookings were cancelled.

    :raises PermissionDenied: when the actor does not own the store.
    :raises SlotClosed: when the slot is cancelled already.
    """
    if not can_manage_store(actor, slot.offering.store):
        raise PermissionDenied(_("Only the store's owner can cancel a slot."))
    reason = _reason(reason, required=True)
    # Bookings first, then the slot: the order cancel() takes them in.
    bookings = db.session.scalars(
        select(Booking).where(Booking.slot_id == slot.id, Booking.status.in_(ACTIVE)).order_by(Booking.id)
        .with_for_update().execution_options(populate_existing=True)).all()
    slot = _lock_slots(slot.id)[slot.id]
    if slot.status != SlotStatus.OPEN:
        raise SlotClosed(_("This slot is cancelled already."))
    for booking in bookings:
        transition(booking, S.CANCELLED_BY_MERCHANT, actor, reason)
        booking.cancel_reason = reason
        with in_locale_of(booking.resident):
            _notify(booking.resident, "cancelled", _("Cancelled by the store: %(title)s", title=booking.offering.title),
                    _("%(store)s cancelled your visit on %(when)s: %(reason)s", store=booking.store.name,
                      when=_local(booking), reason=reason), booking)
    for entry in db.session.scalars(select(WaitlistEntry).where(WaitlistEntry.slot_id == slot.id,
                                                                WaitlistEntry.status == WaitlistStatus.WAITING)):
        entry.status = WaitlistStatus.EXPIRED
        with in_locale_of(entry.resident):
            _notify(entry.resident, "waitlist_closed", _("Slot cancelled: %(title)s", title=slot.offering.title),
                    _("The slot you were waiting for on %(when)s was cancelled by the store.",
                      when=_local_slot(slot)), None)
    for booking in bookings:
        _release_seats(slot.id, booking.party_size)
    db.session.refresh(slot)
    slot.status, slot.cancel_reason = SlotStatus.CANCELLED, reason
    db.session.flush()
    return len(bookings)
