"""Rolled-up demand: counts per h3 cell, category, day and hour; never a single search."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, Integer, PrimaryKeyConstraint, SmallInteger, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

ALL = ""  # the category of a cell's every search, whatever was filtered
WORD_PREFIX = "w:"  # a word that found nothing, kept as a category of its own (k-anonymous like the rest)


class DemandCount(db.Model):
    """How many searches (and how many found little) fell in one cell, for one category, in one local hour.

    ``searchers`` holds at most k salted hashes: enough to tell whether a window of rows reaches k
    distinct searchers (the union of capped sets reaches k exactly when the uncapped union does), never
    shown anywhere.
    """

    __tablename__ = "demand_counts"
    __table_args__ = (
        PrimaryKeyConstraint("res", "cell", "category", "day", "hour"),
        CheckConstraint("hour BETWEEN 0 AND 23", name="hour_of_day"),
        CheckConstraint("res IN (7, 9)", name="known_resolution"),
    )

    res: Mapped[int] = mapped_column(SmallInteger)
    cell: Mapped[int] = mapped_column(BigInteger)  # the h3 index as a signed 64-bit integer
    category: Mapped[str] = mapped_column(String(40))
    day: Mapped[date] = mapped_column(Date)  # in the city's time zone
    hour: Mapped[int] = mapped_column(SmallInteger)  # local; 0 at the fine resolution, kept by the day
    searches: Mapped[int] = mapped_column(Integer, default=0)
    zero_results: Mapped[int] = mapped_column(Integer, default=0)
    few_results: Mapped[int] = mapped_column(Integer, default=0)
    waitlist_overflows: Mapped[int] = mapped_column(Integer, default=0)
    searchers: Mapped[list[int]] = mapped_column(ARRAY(BigInteger), default=list)


class RollupMark(db.Model):
    """How far each roll-up has read its source (a search-log id, a slot start)."""

    __tablename__ = "rollup_marks"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger, default=0)
    last_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class RadarVersion(db.Model):
    """One row: the version of ``demand_counts``, moved on by a trigger at every statement that changes them.

    Written only by the trigger (migration c3ad0a4c0008) from ``radar_version_seq``, so a value is never
    handed out twice; read by ``app.insights.services.counts_version`` to keep the pages' answers per version.
    """

    __tablename__ = "radar_version"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)
