"""Saved experiences and followed stores: one row per (resident, experience) and per (resident, store)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, ForeignKey, PrimaryKeyConstraint
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
