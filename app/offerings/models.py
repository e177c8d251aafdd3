"""Experiences (offerings) a store lists."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from geoalchemy2 import Geography
from sqlalchemy import (
    REAL,
    CheckConstraint,
    DateTime,
    FetchedValue,
    ForeignKey,
    Index,
    Numeric,
    SmallInteger,
    String,
    Text,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.db import Rated
from app.extensions import db
from app.merchants.models import Store


class Category(StrEnum):
    BEAUTY = "beauty_makeup"
    FITNESS = "fitness_coaching"
    CLASS = "class_workshop"
    FOOD = "food_tasting"
    WELLNESS = "wellness_massage"
    FASHION = "fashion_fitting"
    FAMILY = "kids_family"
    OTHER = "other"


# The name in the request's language (lazy: read when shown); names in both languages are in the catalogue.
CATEGORY_LABELS = {
    Category.BEAUTY: _l("Beauty & make-up trial"),
    Category.FITNESS: _l("Fitness coaching"),
    Category.CLASS: _l("Class & workshop"),
    Category.FOOD: _l("Food & tasting"),
    Category.WELLNESS: _l("Wellness & massage"),
    Category.FASHION: _l("Fashion fitting"),
    Category.FAMILY: _l("Kids & family"),
    Category.OTHER: _l("Other"),
}

CURRENCIES = ("CNY", "HKD", "USD", "EUR", "JPY", "GBP", "SGD")


def category_names(category: str) -> list[str]:
    """The category's name in every language Onsite speaks (English first), whatever the request's."""
    label = CATEGORY_LABELS.get(category)
    if label is None:
        return [category] if category else []
    names = []
    for locale in ("en", "zh_CN"):
        with force_locale(locale):
            name = str(label)
        if name not in names:
            names.append(name)
    return names


def search_text_for(title: str, store_name: str, category: str, description: str) -> str:
    """The lower-cased text an offering is found by (its category in both languages)."""
    parts = (title, store_name, *category_names(category), (description or "")[:500])
    return " ".join(part for part in parts if part).lower()


class OfferingStatus(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"


class Offering(Rated, db.Model):
    """An in-store experience, paid at the store.

    ``location`` repeats the store's point so nearby search can order offerings
    with the GiST index alone; services keep it in step when a store moves.
    """

    __tablename__ = "offerings"
    __table_args__ = (
        CheckConstraint(
            "category IN ('beauty_makeup', 'fitness_coaching', 'class_workshop', 'food_tasting', "
            "'wellness_massage', 'fashion_fitting', 'kids_family', 'other')",
            name="category_known",
        ),
        CheckConstraint("status IN ('active', 'archived')", name="status_known"),
        CheckConstraint("price_amount >= 0", name="price_not_negative"),
        CheckConstraint("currency ~ '^[A-Z]{3}$'", name="currency_code"),
        CheckConstraint("duration_min BETWEEN 5 AND 1440", name="duration_range"),
        CheckConstraint("capacity BETWEEN 1 AND 1000", name="capacity_range"),
        CheckConstraint("cancel_cutoff_hours BETWEEN 0 AND 720", name="cutoff_range"),
        CheckConstraint("rating_avg BETWEEN 1 AND 5", name="rating_range"),
        Index("ix_offerings_search_text_trgm", "search_text", postgresql_using="gin",
              postgresql_ops={"search_text": "gin_trgm_ops"}),
        # One-category nearby searches walk this category's rows nearest first (btree_gist: category = $n is an
        # index condition of the GiST walk; migration e2f3a4b5c010).
        Index("ix_offerings_category_location", "category", "location", postgresql_using="gist"),
        # "Best match" searches each standing tier nearest first, as far as that tier can still reach the page
        # (migration f3a4b5c6d011).
        Index("ix_offerings_tier_location", "standing_tier", "location", postgresql_using="gist"),
        Index("ix_offerings_tier_category_location", "standing_tier", "category", "location",
              postgresql_using="gist"),
        Index("ix_offerings_standing_tier", "standing_tier"),  # the lowest and highest tier any experience has
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(140))
    description: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(24))
    price_amount: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal("0"))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    duration_min: Mapped[int] = mapped_column(SmallInteger, default=60)
    capacity: Mapped[int] = mapped_column(SmallInteger, default=1)
    cancel_cutoff_hours: Mapped[int] = mapped_column(SmallInteger, default=24)
    policy_text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=OfferingStatus.ACTIVE)
    location: Mapped[str] = mapped_column(Geography("POINT", srid=4326, spatial_index=True))
    # What text search matches: title, store name, category and the start of the description,
    # lower-cased; kept by the services (search_text_for) and indexed with pg_trgm.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    # What the rating and the merchant's integrity score add to "Best match", in tenths rounded up; kept by
    # triggers (migration f3a4b5c6d011) wherever either changes, never written by the app.
    # A whole number held as real: see the migration.
    standing_tier: Mapped[float] = mapped_column(REAL, server_default="0", server_onupdate=FetchedValue())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=clock.now, server_default=func.now(), onupdate=clock.now
    )

    store: Mapped[Store] = relationship()

    def refresh_search_text(self) -> None:
        """Recompute what text search matches (call after title, description or store name change)."""
        self.search_text = search_text_for(self.title, self.store.name if self.store else "",
                                           self.category, self.description)

    @property
    def is_free(self) -> bool:
        return self.price_amount == 0

    @property
    def category_label(self) -> str:
        """The category's name in the request's language."""
        return str(CATEGORY_LABELS.get(self.category, self.category))
