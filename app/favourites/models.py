"""Saved experiences, followed stores and seat interests: one row per (resident, experience), per (resident,
store) and per (resident, experience)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, Index, PrimaryKeyConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.merchants.models import Store
from app.offerings.models import Offering


class SavedExperience(db.Model):
    __tablename__ = "saved_experiences"
    __table_args__ = (PrimaryKeyConstraint("resident_id", "offering_id"),)

    resident_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    offering: Mapped[Offering] = relationship()


class StoreFollow(db.Model):
    """A resident follows a store. The followers job tells them of the store's news (experiences created after
    ``seen_through``, slots with an id above ``seen_slot_id``) at most once a store-local day (``notified_on``)."""

    __tablename__ = "store_follows"
    __table_args__ = (PrimaryKeyConstraint("resident_id", "store_id"),)

    resident_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    seen_through: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    seen_slot_id: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    notified_on: Mapped[date | None] = mapped_column(Date)

    store: Mapped[Store] = relationship()


class SeatInterest(db.Model):
    """"Tell me when a seat frees" on an experience with nothing to book or wait for in the next 14 days. The
    seat-interest job tells the resident once a seat is free (``notified_at``) and forgets the row a day later or
    after 30 days unanswered; the demand radar counts each new row as a resident who found every seat taken."""

    __tablename__ = "seat_interests"
    __table_args__ = (PrimaryKeyConstraint("resident_id", "offering_id"),
                      Index("ix_seat_interests_created_at", "created_at"))

    resident_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    notified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    offering: Mapped[Offering] = relationship()
