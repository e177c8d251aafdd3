"""What residents searched for: where, what, when and how much they found (no identity)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Float, Index, SmallInteger, String, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app import clock
from app.extensions import db


class SearchLog(db.Model):
    """One search, its position rounded to about 100 m; never who searched."""

    __tablename__ = "search_logs"
    __table_args__ = (Index("ix_search_logs_searched_at", "searched_at", postgresql_using="brin"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    searched_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())
    kind: Mapped[str] = mapped_column(String(16))
    lat: Mapped[float] = mapped_column(Float)
    lng: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[int | None]
    categories: Mapped[list[str]] = mapped_column(ARRAY(String(24)), default=list)
    q: Mapped[str | None] = mapped_column(String(200))
    result_count: Mapped[int] = mapped_column(SmallInteger)
    has_more: Mapped[bool] = mapped_column(default=False)
    # A salted hash of who searched (app/insights/services.py:searcher_key), so the demand radar can count
    # distinct searchers per cell; never shown, and gone with the row after 90 days.
    searcher: Mapped[int | None] = mapped_column(BigInteger)
