"""Tables of the booking domain."""

from __future__ import annotations

import secrets
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from app import clock
from app.auth.models import User
from app.extensions import db
from app.merchants.models import Store
from app.offerings.models import Offering
from bookings.states import BookingStatus, PaymentStatus, SlotStatus, WaitlistStatus

ACTIVE_SQL = "status IN ('pending', 'confirmed', 'checked_in')"
RANDOM_HEX = text("replace(gen_random_uuid()::text, '-', '')")  # 122 random bits, for rows inserted in SQL


def random_hex() -> str:
    return secrets.token_hex(16)


class Schedule(db.Model):
    """How an experience is offered: weekly start times in the store's local time, and rules."""

    __tablename__ = "schedules"
    __table_args__ = (
        CheckConstraint("weeks_ahead BETWEEN 1 AND 52", name="weeks_ahead_range"),
        CheckConstraint("min_notice_minutes BETWEEN 0 AND 43200", name="notice_range"),
        CheckConstraint("checkin_opens_minutes BETWEEN 0 AND 1440", name="checkin_opens_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id", ondelete="CASCADE"), unique=True)
    weeks_ahead: Mapped[int] = mapped_column(SmallInteger, default=8)
    min_notice_minutes: Mapped[int] = mapped_column(Integer, default=60)
    requires_approval: Mapped[bool] = mapped_column(default=False)
    checkin_opens_minutes: Mapped[int] = mapped_column(SmallInteger, default=30)
    # The store-local day of the last slot sync: the sweep rolls the horizon of schedules behind today only.
    synced_on: Mapped[date | None] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now(),
                                                 onupdate=clock.now)

    offering: Mapped[Offering] = relationship()
    times: Mapped[list[ScheduleTime]] = relationship(
        back_populates="schedule", cascade="all, delete-orphan",
        order_by="(ScheduleTime.weekday, ScheduleTime.starts_at)")
    exceptions: Mapped[list[ScheduleException]] = relationship(
        back_populates="schedule", cascade="all, delete-orphan",
        order_by="(ScheduleException.day, ScheduleException.starts_at)")


class ScheduleTime(db.Model):
    """A weekly start time (0 = Monday), store-local wall-clock time."""

    __tablename__ = "schedule_times"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        UniqueConstraint("schedule_id", "weekday", "starts_at", name="uq_schedule_times_slot"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)
    starts_at: Mapped[time] = mapped_column(Time)

    schedule: Mapped[Schedule] = relationship(back_populates="times")


class ScheduleException(db.Model):
    """A dated change: the whole day off, or an extra start time."""

    __tablename__ = "schedule_exceptions"
    __table_args__ = (
        CheckConstraint("kind IN ('day_off', 'extra_slot')", name="kind_known"),
        CheckConstraint("(kind = 'extra_slot') = (starts_at IS NOT NULL)", name="extra_has_time"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule_id: Mapped[int] = mapped_column(ForeignKey("schedules.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))
    starts_at: Mapped[time | None] = mapped_column(Time)

    schedule: Mapped[Schedule] = relationship(back_populates="exceptions")


class Slot(db.Model):
    """One bookable start of an experience; ``seats_taken`` can never pass ``capacity``."""

    __tablename__ = "slots"
    __table_args__ = (
        UniqueConstraint("offering_id", "starts_at", name="uq_slots_offering_start"),
        CheckConstraint("seats_taken >= 0", name="seats_not_negative"),
        CheckConstraint("seats_taken <= capacity", name="not_overbooked"),
        CheckConstraint("capacity BETWEEN 1 AND 1000", name="capacity_range"),
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("status IN ('open', 'cancelled', 'unplanned')", name="status_known"),
        Index("ix_slots_open_by_offering", "offering_id", "starts_at", postgresql_where=text("status = 'open'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    capacity: Mapped[int] = mapped_column(SmallInteger)
    seats_taken: Mapped[int] = mapped_column(SmallInteger, default=0)
    status: Mapped[str] = mapped_column(String(16), default=SlotStatus.OPEN)
    is_extra: Mapped[bool] = mapped_column(default=False)
    cancel_reason: Mapped[str | None] = mapped_column(String(300))

    offering: Mapped[Offering] = relationship()

    @property
    def remaining(self) -> int:
        return max(self.capacity - self.seats_taken, 0) if self.status == SlotStatus.OPEN else 0


class Booking(db.Model):
    """A resident's visit: seats in a slot, a price due at the store, a state."""

    __tablename__ = "bookings"
    __table_args__ = (
        CheckConstraint("party_size BETWEEN 1 AND 50", name="party_range"),
        CheckConstraint("price_due >= 0", name="price_not_negative"),
        CheckConstraint(
            "status IN ('pending', 'confirmed', 'checked_in', 'completed', 'rejected', "
            "'cancelled_by_resident', 'cancelled_by_merchant', 'no_show')", name="status_known"),
        CheckConstraint("payment_status IN ('unpaid', 'paid_at_store')", name="payment_status_known"),
        # One active booking per resident per slot; a race that slips past the check lands here.
        Index("ux_bookings_active_per_resident", "slot_id", "resident_id", unique=True,
              postgresql_where=text(ACTIVE_SQL)),
        Index("ix_bookings_store_start", "store_id", "starts_at"),
        Index("ix_bookings_resident_start", "resident_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id", ondelete="RESTRICT"), index=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id", ondelete="RESTRICT"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="RESTRICT"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # the slot's, kept for listings
    party_size: Mapped[int] = mapped_column(SmallInteger)
    note: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(24), default=BookingStatus.CONFIRMED)
    payment_status: Mapped[str] = mapped_column(String(16), default=PaymentStatus.UNPAID)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    currency: Mapped[str] = mapped_column(String(3))
    price_due: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    code: Mapped[str] = mapped_column(String(8), unique=True)
    # Signs the QR token; a new one (with a new code) revokes every token issued before.
    qr_secret: Mapped[str] = mapped_column(String(32), server_default=RANDOM_HEX, default=random_hex)
    is_late_cancel: Mapped[bool] = mapped_column(default=False)
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancel_reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now(),
                                                 onupdate=clock.now)

    slot: Mapped[Slot] = relationship()
    offering: Mapped[Offering] = relationship()
    store: Mapped[Store] = relationship()
    resident: Mapped[User] = relationship()
    events: Mapped[list[BookingEvent]] = relationship(back_populates="booking", order_by="BookingEvent.id")
    payments: Mapped[list[OfflinePayment]] = relationship(back_populates="booking",
                                                          order_by="OfflinePayment.id")


class BookingEvent(db.Model):
    """The audit trail: every change of a booking's state, who made it and why."""

    __tablename__ = "booking_events"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str] = mapped_column(String(300), default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())

    booking: Mapped[Booking] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class OfflinePayment(db.Model):
    """Money taken at the store, recorded by staff; a correction is a new row, never an edit."""

    __tablename__ = "offline_payments"
    __table_args__ = (
        CheckConstraint("amount >= 0", name="amount_not_negative"),
        CheckConstraint("method IN ('cash', 'card_at_store', 'mobile_wallet_at_store', 'other')",
                        name="method_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(String(300), default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("offline_payments.id"))

    booking: Mapped[Booking] = relationship(back_populates="payments")
    recorded_by: Mapped[User] = relationship()


class CheckIn(db.Model):
    """The one check-in of a booking: how it was proven, where, by whom, when."""

    __tablename__ = "check_ins"
    __table_args__ = (
        CheckConstraint("method IN ('staff_scan', 'staff_typed', 'self_geofence')", name="method_known"),
        CheckConstraint("verification IN ('staff_verified', 'verified')", name="verification_known"),
        CheckConstraint("accuracy_m IS NULL OR accuracy_m >= 0", name="accuracy_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), unique=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(16))
    verification: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    checked_in_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    lat: Mapped[float | None]
    lng: Mapped[float | None]
    accuracy_m: Mapped[float | None]
    distance_m: Mapped[float | None]
    geofence_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    booking: Mapped[Booking] = relationship(backref=backref("check_in", uselist=False))
    actor: Mapped[User | None] = relationship()


class CheckInAttempt(db.Model):
    """The first answer to a scan carrying a nonce, so a flaky network's retry gets it again."""

    __tablename__ = "check_in_attempts"

    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    status_code: Mapped[int] = mapped_column(SmallInteger)
    body: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now,
                                                 server_default=func.now(), index=True)


class CheckInFailure(db.Model):
    """A scan the counter refused: where, by whom, what was tried (cut short) and why (pretix's failed
    check-ins). The store's people can see who keeps trying codes, and which visits were turned away."""

    __tablename__ = "check_in_failures"
    __table_args__ = (Index("ix_check_in_failures_store_failed", "store_id", "failed_at"),)

    CODE_KEPT = 32  # characters of the code kept: enough to recognise it, too few to reuse a QR token

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    code_tried: Mapped[str] = mapped_column(String(CODE_KEPT), default="")
    reason: Mapped[str] = mapped_column(String(32))  # a stable error code (app/error_codes.py)
    failed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now,
                                                server_default=func.now())

    store: Mapped[Store] = relationship()
    actor: Mapped[User | None] = relationship()


class WaitlistEntry(db.Model):
    """A resident waiting for seats in a full slot, first come first served."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        CheckConstraint("status IN ('waiting', 'promoted', 'left', 'expired')", name="status_known"),
        CheckConstraint("party_size BETWEEN 1 AND 50", name="party_range"),
        Index("ux_waitlist_waiting_per_resident", "slot_id", "resident_id", unique=True,
              postgresql_where=text("status = 'waiting'")),
        Index("ix_waitlist_queue", "slot_id", "id", postgresql_where=text("status = 'waiting'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slot_id: Mapped[int] = mapped_column(ForeignKey("slots.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    party_size: Mapped[int] = mapped_column(SmallInteger)
    note: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(16), default=WaitlistStatus.WAITING)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())

    slot: Mapped[Slot] = relationship()
    resident: Mapped[User] = relationship()


class IdempotencyKey(db.Model):
    """The first answer to a request carrying an Idempotency-Key, replayed for 24 hours."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    body: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now,
                                                 server_default=func.now(), index=True)


class Notification(db.Model):
    """An in-app message for a resident or merchant."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, default="")
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class OutboxEmail(db.Model):
    """An e-mail waiting for `flask outbox send`, which runs after the commit that queued it."""

    __tablename__ = "outbox_emails"
    __table_args__ = (Index("ix_outbox_unsent", "id", postgresql_where=text("sent_at IS NULL")),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    to_email: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500))
