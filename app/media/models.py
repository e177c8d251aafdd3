"""Stored images (what the pipeline made of an upload) and the photo galleries of experiences and stores.

An ``images`` row is one cleaned upload: the hash its variant files are named by and their widths. Anything
that shows pictures links to images: a gallery photo here, and later a review's or a message's photo.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, SmallInteger, String, func
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from app import clock
from app.extensions import db
from app.media.images import file_name
from app.merchants.models import Store
from app.offerings.models import Offering

MAX_PHOTOS = 9  # per experience or store: the cover and eight more
MAX_ALT_TEXT = 300
MEDIA_URL = "/media/"


class StoredImage(db.Model):
    """An uploaded image as the pipeline stored it: JPEG variants named ``<digest>-<width>.jpg``."""

    __tablename__ = "images"
    __table_args__ = (
        CheckConstraint("width > 0 AND height > 0", name="size_positive"),
        CheckConstraint("cardinality(widths) >= 1", name="has_variants"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), index=True)
    width: Mapped[int] = mapped_column(Integer)  # of the upright original
    height: Mapped[int] = mapped_column(Integer)
    widths: Mapped[list[int]] = mapped_column(ARRAY(SmallInteger))  # of the variants, ascending
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())

    def url(self, width: int) -> str:
        return MEDIA_URL + file_name(self.digest, width)

    def height_at(self, width: int) -> int:
        return max(1, round(self.height * width / self.width))


class Photo(db.Model):
    """A picture in the gallery of an experience or of a store; the lowest position is the cover."""

    __tablename__ = "photos"
    __table_args__ = (
        CheckConstraint("num_nonnulls(offering_id, store_id) = 1", name="one_owner"),
        CheckConstraint("position >= 0", name="position_not_negative"),
        Index("ix_photos_offering_order", "offering_id", "position", "id"),
        Index("ix_photos_store_order", "store_id", "position", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="RESTRICT"), index=True)
    offering_id: Mapped[int | None] = mapped_column(ForeignKey("offerings.id", ondelete="CASCADE"))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(SmallInteger, default=0)
    alt_text: Mapped[str] = mapped_column(String(MAX_ALT_TEXT), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())

    image: Mapped[StoredImage] = relationship(lazy="joined", innerjoin=True)
    # offering.photos / store.photos: the gallery in order (load it with selectinload for lists).
    offering: Mapped[Offering | None] = relationship(backref=backref(
        "photos", order_by="(Photo.position, Photo.id)", passive_deletes=True))
    store: Mapped[Store | None] = relationship(backref=backref(
        "photos", order_by="(Photo.position, Photo.id)", passive_deletes=True))

    @property
    def owner(self) -> Offering | Store:
        return self.offering if self.offering_id is not None else self.store
