"""The trust domain's tables: reviews of honoured visits, disputes, and the compensation ledger.

Everything the integrity score (Trust II) needs is countable from these rows: reviews and their ratings,
reports on reviews, disputes by reason and outcome with every change in ``dispute_events`` (so response
times and overturned no-show marks are a query), and amounts owed in ``compensation_entries``. Nothing is
stored twice: an offering's or a store's rating is recomputed from ``reviews`` in the review's transaction,
and a balance is a sum over the ledger.

``bookings`` never imports this package: a review or a dispute reads a booking; a booking knows nothing
of them.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.auth.models import User
from app.extensions import db
from app.media.models import StoredImage
from app.merchants.models import Store
from app.offerings.models import Offering
from bookings.models import Booking
from trust.states import DisputeAsk, DisputeReason, DisputeStatus

MAX_REVIEW_PHOTOS = 4
MAX_DISPUTE_PHOTOS = 4
REVIEW_TEXT = (10, 2000)
REPLY_TEXT = (2, 2000)
DISPUTE_TEXT = (10, 2000)


class ReviewStatus:
    PUBLISHED = "published"  # shown, counted in the ratings
    FLAGGED = "flagged"  # held for the operator (a burst on one store, same-day accounts): not shown, not counted
    HIDDEN = "hidden"  # taken down by the operator

    ALL = (PUBLISHED, FLAGGED, HIDDEN)


class ReportReason:
    FAKE = "fake"
    OFFENSIVE = "offensive"
    PRIVATE_DATA = "private_data"
    NOT_ABOUT_THIS_VISIT = "not_about_this_visit"

    ALL = (FAKE, OFFENSIVE, PRIVATE_DATA, NOT_ABOUT_THIS_VISIT)


class Review(db.Model):
    """A resident's review of one checked-in booking (one per booking); the latest text and ratings."""

    __tablename__ = "reviews"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        CheckConstraint("rating_described BETWEEN 1 AND 5 AND rating_service BETWEEN 1 AND 5 "
                        "AND rating_value BETWEEN 1 AND 5", name="detail_range"),
        CheckConstraint(f"char_length(body) BETWEEN {REVIEW_TEXT[0]} AND {REVIEW_TEXT[1]}", name="body_length"),
        CheckConstraint(f"status IN {ReviewStatus.ALL!r}", name="status_known"),
        CheckConstraint("helpful_count >= 0", name="helpful_not_negative"),
        Index("ix_reviews_offering_newest", "offering_id", "created_at", "id"),
        Index("ix_reviews_store_newest", "store_id", "created_at", "id"),
        Index("ix_reviews_store_recent_burst", "store_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"), unique=True)
    offering_id: Mapped[int] = mapped_column(ForeignKey("offerings.id", ondelete="CASCADE"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    rating: Mapped[int] = mapped_column(SmallInteger)
    rating_described: Mapped[int] = mapped_column(SmallInteger)
    rating_service: Mapped[int] = mapped_column(SmallInteger)
    rating_value: Mapped[int] = mapped_column(SmallInteger)
    body: Mapped[str] = mapped_column(Text)
    # "verified": the check-in was verified by position (both signals); else the visit was honoured
    # by a staff scan alone ("visited").
    verified: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(16), default=ReviewStatus.PUBLISHED)
    flag_reason: Mapped[str | None] = mapped_column(String(32))
    helpful_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())
    edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reply_body: Mapped[str | None] = mapped_column(Text)
    reply_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    replied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reply_edited_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    booking: Mapped[Booking] = relationship()
    offering: Mapped[Offering] = relationship()
    store: Mapped[Store] = relationship()
    resident: Mapped[User] = relationship(foreign_keys=[resident_id])
    reply_by: Mapped[User | None] = relationship(foreign_keys=[reply_by_id])
    photos: Mapped[list[ReviewPhoto]] = relationship(order_by="ReviewPhoto.position", cascade="all, delete-orphan",
                                                     back_populates="review")
    revisions: Mapped[list[ReviewRevision]] = relationship(order_by="ReviewRevision.id",
                                                           cascade="all, delete-orphan", back_populates="review")


class ReviewRevision(db.Model):
    """What a review said before an edit: every edit keeps the version it replaced."""

    __tablename__ = "review_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    rating: Mapped[int] = mapped_column(SmallInteger)
    rating_described: Mapped[int] = mapped_column(SmallInteger)
    rating_service: Mapped[int] = mapped_column(SmallInteger)
    rating_value: Mapped[int] = mapped_column(SmallInteger)
    body: Mapped[str] = mapped_column(Text)
    written_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # when this version was written
    replaced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now)

    review: Mapped[Review] = relationship(back_populates="revisions")


class ReviewPhoto(db.Model):
    __tablename__ = "review_photos"
    __table_args__ = (UniqueConstraint("review_id", "position"),
                      CheckConstraint(f"position BETWEEN 0 AND {MAX_REVIEW_PHOTOS - 1}", name="position_range"))

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"))
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="RESTRICT"), index=True)
    position: Mapped[int] = mapped_column(SmallInteger, default=0)

    review: Mapped[Review] = relationship(back_populates="photos")
    image: Mapped[StoredImage] = relationship(lazy="joined", innerjoin=True)


class ReviewVote(db.Model):
    """A resident found a review helpful (once each)."""

    __tablename__ = "review_votes"

    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())


class ReviewReport(db.Model):
    """Someone logged in reported a review; the operator's queue (``flask trust reports``)."""

    __tablename__ = "review_reports"
    __table_args__ = (
        UniqueConstraint("review_id", "reporter_id"),
        CheckConstraint(f"reason IN {ReportReason.ALL!r}", name="reason_known"),
        CheckConstraint("status IN ('open', 'dismissed', 'upheld')", name="status_known"),
        Index("ix_review_reports_open", "created_at", postgresql_where=text("status = 'open'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    review_id: Mapped[int] = mapped_column(ForeignKey("reviews.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(String(500), default="", server_default="")
    status: Mapped[str] = mapped_column(String(16), default="open", server_default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now, server_default=func.now())
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    review: Mapped[Review] = relationship()
    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])


class Dispute(db.Model):
    """A resident's complaint about one booking (one per booking), answered by the store, decided by staff."""

    __tablename__ = "disputes"
    __table_args__ = (
        CheckConstraint(f"reason IN {DisputeReason.ALL!r}", name="reason_known"),
        CheckConstraint(f"asks IN {DisputeAsk.ALL!r}", name="asks_known"),
        CheckConstraint(f"status IN {tuple(map(str, DisputeStatus))!r}", name="status_known"),
        CheckConstraint("asked_amount IS NULL OR asked_amount > 0", name="asked_amount_positive"),
        CheckConstraint(f"char_length(description) BETWEEN {DISPUTE_TEXT[0]} AND {DISPUTE_TEXT[1]}",
                        name="description_length"),
        Index("ix_disputes_due", "respond_by", postgresql_where=text("status = 'opened'")),
        Index("ix_disputes_store_opened", "store_id", "opened_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    booking_id: Mapped[int] = mapped_column(ForeignKey("bookings.id", ondelete="RESTRICT"), unique=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="RESTRICT"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    reason: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    asks: Mapped[str] = mapped_column(String(16))
    asked_amount: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(24), default=DisputeStatus.OPENED)
    opened_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    respond_by: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # the store's 48 hours
    merchant_answer: Mapped[str | None] = mapped_column(Text)
    merchant_offer: Mapped[str | None] = mapped_column(String(16))  # refund_at_store | voucher | none
    merchant_offer_amount: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decision_note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    booking: Mapped[Booking] = relationship()
    store: Mapped[Store] = relationship()
    resident: Mapped[User] = relationship(foreign_keys=[resident_id])
    events: Mapped[list[DisputeEvent]] = relationship(order_by="DisputeEvent.id", back_populates="dispute")
    photos: Mapped[list[DisputePhoto]] = relationship(order_by="(DisputePhoto.side, DisputePhoto.position)",
                                                      back_populates="dispute")


class DisputeEvent(db.Model):
    """The audit trail: one row for every change of a dispute's state, and who made it (None: the sweep)."""

    __tablename__ = "dispute_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id", ondelete="CASCADE"), index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    from_status: Mapped[str | None] = mapped_column(String(24))
    to_status: Mapped[str] = mapped_column(String(24))
    note: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now)

    dispute: Mapped[Dispute] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()


class DisputePhoto(db.Model):
    __tablename__ = "dispute_photos"
    __table_args__ = (UniqueConstraint("dispute_id", "side", "position"),
                      CheckConstraint("side IN ('resident', 'merchant')", name="side_known"),
                      CheckConstraint(f"position BETWEEN 0 AND {MAX_DISPUTE_PHOTOS - 1}", name="position_range"))

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int] = mapped_column(ForeignKey("disputes.id", ondelete="CASCADE"))
    side: Mapped[str] = mapped_column(String(16))
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="RESTRICT"), index=True)
    position: Mapped[int] = mapped_column(SmallInteger, default=0)

    dispute: Mapped[Dispute] = relationship(back_populates="photos")
    image: Mapped[StoredImage] = relationship(lazy="joined", innerjoin=True)


class Party:
    """Who owes or is owed in the ledger: the platform, a business (the merchant), or a resident."""

    PLATFORM = "platform"
    BUSINESS = "business"
    RESIDENT = "resident"

    ALL = (PLATFORM, BUSINESS, RESIDENT)


class EntryStatus:
    OWED = "owed"
    SETTLED = "settled"
    WAIVED = "waived"

    ALL = (OWED, SETTLED, WAIVED)


class CompensationEntry(db.Model):
    """One amount owed, never paid online: who owes whom, how much, why, and whether it was settled.

    Advance compensation is two entries: the platform owes the resident, and the business owes the platform.
    A refund at the store is the business owing the resident, settled when the resident confirms it.
    Balances are sums over these rows.
    """

    __tablename__ = "compensation_entries"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint(f"debtor_kind IN {Party.ALL!r} AND creditor_kind IN {Party.ALL!r}", name="parties_known"),
        CheckConstraint("(debtor_kind = 'platform') = (debtor_id IS NULL) "
                        "AND (creditor_kind = 'platform') = (creditor_id IS NULL)", name="platform_has_no_id"),
        CheckConstraint("debtor_kind <> creditor_kind OR debtor_id <> creditor_id", name="not_to_itself"),
        CheckConstraint(f"status IN {EntryStatus.ALL!r}", name="status_known"),
        Index("ix_compensation_debtor", "debtor_kind", "debtor_id"),
        Index("ix_compensation_creditor", "creditor_kind", "creditor_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dispute_id: Mapped[int | None] = mapped_column(ForeignKey("disputes.id", ondelete="RESTRICT"), index=True)
    debtor_kind: Mapped[str] = mapped_column(String(16))
    debtor_id: Mapped[int | None] = mapped_column(Integer)  # a business id or a user id
    creditor_kind: Mapped[str] = mapped_column(String(16))
    creditor_id: Mapped[int | None] = mapped_column(Integer)
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(32))  # refund_at_store | voucher | advance_compensation | recovery
    status: Mapped[str] = mapped_column(String(16), default=EntryStatus.OWED)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    dispute: Mapped[Dispute | None] = relationship()


from trust.models_admin import AdminAuditEntry  # noqa: E402, F401 - the operator's console's audit log
from trust.models_audits import Audit  # noqa: E402, F401 - mystery-shopper audits (issue 14)
from trust.models_score import BusinessIntegrity, IntegrityWeek  # noqa: E402, F401 - Trust II's score tables
