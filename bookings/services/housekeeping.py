"""Housekeeping for cron: the sweep (no-shows, completions, expiry, reminders) and the outbox."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import Date, delete, func, or_, select, text
from sqlalchemy.orm import contains_eager

from app import clock
from app.extensions import db
from app.i18n import in_locale_of
from app.merchants.models import Store
from app.offerings.models import Offering
from bookings.models import Booking, IdempotencyKey, OutboxEmail, Schedule, Slot
from bookings.services.availability import sync_slots
from bookings.services.idempotency import IDEMPOTENCY_TTL
from bookings.services.notices import _local, _notify
from bookings.services.records import transition
from bookings.services.seats import _release_seats
from bookings.states import BookingStatus

S = BookingStatus
NO_SHOW_GRACE = timedelta(hours=2)
SWEEP_LOCK = 7_340_021


def roll_horizons(now: datetime) -> tuple[int, int]:
    """Extend the slots of every schedule not synced since its store's local day began; return
    (schedules rolled, slots created). One statement finds them, so a city whose horizons are current
    costs one query; a demo city loaded a month ago gets today's slots back."""
    local_today = func.timezone(Store.timezone, now).cast(Date)
    behind = db.session.scalars(
        select(Offering).join(Schedule, Schedule.offering_id == Offering.id).join(Store, Store.id == Offering.store_id)
        .where(or_(Schedule.synced_on.is_(None), Schedule.synced_on < local_today))
        .options(contains_eager(Offering.store)).order_by(Offering.id)).all()
    return len(behind), sum(sync_slots(offering, now).created for offering in behind)


def sweep(now: datetime, grace: timedelta = NO_SHOW_GRACE) -> dict[str, int]:
    """Housekeeping safe to run from cron, any number of times, from any number of hosts."""
    if not db.session.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SWEEP_LOCK}).scalar():
        return {"skipped": 1}
    counts = {"no_show": 0, "completed": 0, "expired_pending": 0, "reminded": 0, "slots_created": 0,
              "schedules_rolled": 0, "idempotency_keys_deleted": 0}
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
        with in_locale_of(booking.resident):
            _notify(booking.resident, "rejected", _("Not confirmed: %(title)s", title=booking.offering.title),
                    _("The store did not confirm your request before the start."), booking)
        counts["expired_pending"] += 1
    for booking in db.session.scalars(
            select(Booking).where(Booking.status == S.CONFIRMED, Booking.reminded_at.is_(None),
                                  Booking.starts_at > now, Booking.starts_at <= now + timedelta(hours=24))
            .with_for_update(skip_locked=True)):
        booking.reminded_at = now
        with in_locale_of(booking.resident):
            _notify(booking.resident, "reminder", _("Tomorrow: %(title)s", title=booking.offering.title),
                    _("%(when)s at %(store)s, %(address)s. Pay at the store: %(price)s. Your code: %(code)s.",
                      when=_local(booking), store=booking.store.name, address=booking.store.address,
                      price=f"{booking.price_due} {booking.currency}", code=booking.code), booking)
        counts["reminded"] += 1
    counts["idempotency_keys_deleted"] = db.session.execute(
        delete(IdempotencyKey).where(IdempotencyKey.created_at < now - IDEMPOTENCY_TTL)).rowcount
    counts["schedules_rolled"], counts["slots_created"] = roll_horizons(now)
    db.session.flush()
    return counts


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
