"""The integrity score's tables (Trust II): each merchant's current score and its score per ISO week.

The score is a derived figure, recomputed by ``trust.services.integrity`` from the rows of reviews, disputes
and bookings; ``parts`` keeps the parts and the counts their one-line reasons are written from (trust/score.py),
so a page shows the reasons in the reader's language without counting again.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, SmallInteger
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


class BusinessIntegrity(db.Model):
    """A merchant's (business's) current integrity score: NULL while it is "new" (too few visits)."""

    __tablename__ = "business_integrity"
    __table_args__ = (
        CheckConstraint("score IS NULL OR score BETWEEN 0 AND 100", name="score_range"),
        Index("ix_business_integrity_score", "score"),
    )

    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"), primary_key=True)
    score: Mapped[int | None] = mapped_column(SmallInteger)
    visits: Mapped[int] = mapped_column(Integer, default=0)
    parts: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    counts: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    # The instant the counts were read at: events after it make the merchant due again.
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    warned_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))  # the last warning sent


class IntegrityWeek(db.Model):
    """The score a merchant had in one ISO week (its last recompute that week), with the parts then."""

    __tablename__ = "integrity_weeks"
    __table_args__ = (CheckConstraint("score IS NULL OR score BETWEEN 0 AND 100", name="score_range"),
                      CheckConstraint("extract(isodow FROM week) = 1", name="week_starts_monday"))

    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"), primary_key=True)
    week: Mapped[date] = mapped_column(Date, primary_key=True)  # the Monday (UTC) of the ISO week
    score: Mapped[int | None] = mapped_column(SmallInteger)
    parts: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
