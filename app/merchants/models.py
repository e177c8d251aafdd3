"""Businesses, their stores, opening hours and staff."""

from __future__ import annotations

import secrets
from datetime import date, datetime, time
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from geoalchemy2 import Geography
from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    SmallInteger,
    String,
    Text,
    Time,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.auth.models import User
from app.db import Rated
from app.extensions import db


class BusinessCategory(StrEnum):
    BEAUTY = "beauty"
    FITNESS = "fitness"
    EDUCATION = "education"
    FOOD = "food"
    WELLNESS = "wellness"
    FASHION = "fashion"
    FAMILY = "family"
    CRAFTS = "crafts"
    OTHER = "other"


BUSINESS_CATEGORY_LABELS = {
    BusinessCategory.BEAUTY: _l("Beauty & cosmetics"),
    BusinessCategory.FITNESS: _l("Fitness & sport"),
    BusinessCategory.EDUCATION: _l("Classes & education"),
    BusinessCategory.FOOD: _l("Food & drink"),
    BusinessCategory.WELLNESS: _l("Wellness & spa"),
    BusinessCategory.FASHION: _l("Fashion & tailoring"),
    BusinessCategory.FAMILY: _l("Kids & family"),
    BusinessCategory.CRAFTS: _l("Arts & crafts"),
    BusinessCategory.OTHER: _l("Other"),
}


class BusinessStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class StoreStatus(StrEnum):
    ACTIVE = "active"
    CLOSED = "closed_permanently"


class Business(db.Model):
    __tablename__ = "businesses"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'suspended')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    category: Mapped[str] = mapped_column(String(24), default=BusinessCategory.OTHER)
    status: Mapped[str] = mapped_column(String(16), default=BusinessStatus.ACTIVE)
    is_verified: Mapped[bool] = mapped_column(default=False)
    # The operator's console (trust/services/moderation.py): who verified it and why; who suspended it and why.
    verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    verified_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    verification_note: Mapped[str] = mapped_column(String(500), default="", server_default="")
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    suspended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    suspension_reason: Mapped[str] = mapped_column(String(500), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    verified_by: Mapped[User | None] = relationship(foreign_keys=[verified_by_id])
    stores: Mapped[list[Store]] = relationship(back_populates="business", order_by="Store.id")


class Store(Rated, db.Model):
    __tablename__ = "stores"
    __table_args__ = (
        CheckConstraint("status IN ('active', 'closed_permanently')", name="status_known"),
        CheckConstraint("geofence_m BETWEEN 10 AND 5000", name="geofence_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(255), default="")
    location: Mapped[str] = mapped_column(Geography("POINT", srid=4326, spatial_index=True))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    status: Mapped[str] = mapped_column(String(24), default=StoreStatus.ACTIVE)
    geofence_m: Mapped[int] = mapped_column(SmallInteger, default=150)
    # Seeds the rotating 6-digit code shown at the counter (TOTP-style, 60 s steps).
    checkin_secret: Mapped[str] = mapped_column(
        String(32), server_default=text("replace(gen_random_uuid()::text, '-', '')"),
        default=lambda: secrets.token_hex(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())

    business: Mapped[Business] = relationship(back_populates="stores")
    hours: Mapped[list[OpeningHours]] = relationship(
        back_populates="store", cascade="all, delete-orphan", order_by="(OpeningHours.weekday, OpeningHours.opens_at)"
    )
    exceptions: Mapped[list[HoursException]] = relationship(
        back_populates="store", cascade="all, delete-orphan", order_by="HoursException.day"
    )
    staff: Mapped[list[StoreStaff]] = relationship(back_populates="store", cascade="all, delete-orphan")


class OpeningHours(db.Model):
    """One opening interval on a weekday (0 = Monday), in the store's local time.

    ``closes_at <= opens_at`` closes the next day; equal, it is open 24 hours (app/merchants/hours.py).
    """

    __tablename__ = "opening_hours"
    __table_args__ = (
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    weekday: Mapped[int] = mapped_column(SmallInteger)
    opens_at: Mapped[time] = mapped_column(Time)
    closes_at: Mapped[time] = mapped_column(Time)

    store: Mapped[Store] = relationship(back_populates="hours")


class HoursException(db.Model):
    """A dated exception: closed all day, or special hours (which may cross midnight like weekly ones)."""

    __tablename__ = "hours_exceptions"
    __table_args__ = (
        UniqueConstraint("store_id", "day", name="uq_hours_exceptions_store_day"),
        CheckConstraint("is_closed OR (opens_at IS NOT NULL AND closes_at IS NOT NULL)", name="closed_or_hours"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    day: Mapped[date] = mapped_column(Date)
    is_closed: Mapped[bool] = mapped_column(default=True)
    opens_at: Mapped[time | None] = mapped_column(Time)
    closes_at: Mapped[time | None] = mapped_column(Time)
    note: Mapped[str] = mapped_column(String(120), default="")

    store: Mapped[Store] = relationship(back_populates="exceptions")


class StoreStaff(db.Model):
    """A person who works at a store: made when they accept the owner's invitation; their account's role
    never changes (a resident, or a merchant elsewhere, can be staff here)."""

    __tablename__ = "store_staff"
    __table_args__ = (UniqueConstraint("store_id", "user_id", name="uq_store_staff_store_user"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())

    store: Mapped[Store] = relationship(back_populates="staff")
    user: Mapped[User] = relationship()


class InvitationStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    REVOKED = "revoked"
    EXPIRED = "expired"


class StaffInvitation(db.Model):
    """An owner's invitation to work at a store, one row per (store, e-mail); re-inviting renews it.

    Only the SHA-256 digest of the e-mailed link's token is kept. A pending row past ``expires_at`` is
    expired whether or not its status says so yet.
    """

    __tablename__ = "staff_invitations"
    __table_args__ = (
        UniqueConstraint("store_id", "email", name="uq_staff_invitations_store_email"),
        CheckConstraint("status IN ('pending', 'accepted', 'declined', 'revoked', 'expired')", name="status_known"),
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint("expires_at > created_at", name="expires_after_created"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    status: Mapped[str] = mapped_column(String(16), default=InvitationStatus.PENDING)
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    responded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Who accepted or declined (the e-mailed link may be opened by an account under another address).
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    store: Mapped[Store] = relationship()
    invited_by: Mapped[User | None] = relationship(foreign_keys=[invited_by_id])

    def status_at(self, now: datetime) -> str:
        """The status as of ``now``: a pending invitation past its expiry is expired."""
        if self.status == InvitationStatus.PENDING and now >= self.expires_at:
            return InvitationStatus.EXPIRED
        return self.status
