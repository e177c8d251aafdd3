"""Declarative base with a constraint naming convention."""

from decimal import Decimal

from sqlalchemy import MetaData, Numeric
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

MAX_ID = 2**31 - 1  # primary keys are PostgreSQL integers; a larger id names no row

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Rated:
    """What reviews of honoured visits sum up, on an experience and on a store (kept by trust.services).

    ``rating_avg``/``rating_count`` and the three detailed averages (as described, service, value) are
    recomputed from the published reviews in the review's own transaction; ``rating_score`` is the
    Bayesian average that ranking uses (the category's mean as the prior), so one 5-star review does
    not outrank two hundred at 4.8. All NULL (count 0) until the first review.
    """

    rating_avg: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    rating_count: Mapped[int] = mapped_column(default=0, server_default="0")
    rating_described: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    rating_service: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    rating_value: Mapped[Decimal | None] = mapped_column(Numeric(3, 2))
    rating_score: Mapped[Decimal | None] = mapped_column(Numeric(4, 3))
