"""Threads between a resident and a store, their messages, read marks, blocks, reports and quick replies."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.auth.models import User
from app.extensions import db
from app.media.models import StoredImage
from app.merchants.models import Store

BODY_MAX = 2000


class Side(StrEnum):
    RESIDENT = "resident"
    STORE = "store"


class ReportReason(StrEnum):
    SPAM = "spam"
    ABUSE = "abuse"
    SCAM = "scam"
    OTHER = "other"


class Conversation(db.Model):
    """One thread: a resident and a store, about an experience (before booking) or about one booking.

    ``last_seq`` numbers the thread's messages; a send raises it in an UPDATE that holds the row's lock
    until commit, so concurrent sends get distinct numbers in commit order.
    """

    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("booking_id"),
        # One pre-booking thread per resident, store and experience (and one with no experience).
        Index("ux_conversations_enquiry", "store_id", "resident_id", "offering_id", unique=True,
              postgresql_where=text("booking_id IS NULL AND offering_id IS NOT NULL")),
        Index("ux_conversations_enquiry_store", "store_id", "resident_id", unique=True,
              postgresql_where=text("booking_id IS NULL AND offering_id IS NULL")),
        Index("ix_conversations_store_last", "store_id", "last_message_at"),
        Index("ix_conversations_resident_last", "resident_id", "last_message_at"),
        CheckConstraint("last_seq >= 0 AND resident_read_seq >= 0 AND store_read_seq >= 0", name="seq_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    offering_id: Mapped[int | None] = mapped_column(ForeignKey("offerings.id", ondelete="SET NULL"))
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="CASCADE"))
    last_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    resident_read_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    store_read_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_message_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The oldest resident message the store has not answered yet (None once answered).
    awaiting_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The store's first reply after the thread's first resident message: when, and how long it took.
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
    first_response_seconds: Mapped[int | None] = mapped_column(Integer)

    store: Mapped[Store] = relationship()
    # The store's people see the resident by display name only, never the account's e-mail.
    resident: Mapped[User] = relationship(foreign_keys=[resident_id])


class Message(db.Model):
    __tablename__ = "conversation_messages"
    __table_args__ = (
        UniqueConstraint("conversation_id", "seq"),
        CheckConstraint(f"char_length(body) BETWEEN 1 AND {BODY_MAX}", name="body_length"),
        CheckConstraint("sender_side IN ('resident', 'store')", name="sender_side_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    sender_side: Mapped[str] = mapped_column(String(8))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    photos: Mapped[list[MessagePhoto]] = relationship(order_by="MessagePhoto.position", lazy="selectin")


MAX_MESSAGE_PHOTOS = 3


class MessagePhoto(db.Model):
    """A photo sent with a message: re-encoded like every upload, shown to the thread's two sides."""

    __tablename__ = "conversation_message_photos"
    __table_args__ = (UniqueConstraint("message_id", "position"),
                      CheckConstraint(f"position BETWEEN 0 AND {MAX_MESSAGE_PHOTOS - 1}", name="position_range"))

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("conversation_messages.id", ondelete="CASCADE"))
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="RESTRICT"), index=True)
    position: Mapped[int] = mapped_column(SmallInteger, default=0)

    image: Mapped[StoredImage] = relationship(lazy="joined", innerjoin=True)


class Block(db.Model):
    """A resident no longer receives a store's messages."""

    __tablename__ = "conversation_blocks"
    __table_args__ = (PrimaryKeyConstraint("resident_id", "store_id"),)

    resident_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class MessageReport(db.Model):
    """A message reported to the operator's queue."""

    __tablename__ = "message_reports"
    __table_args__ = (
        UniqueConstraint("message_id", "reporter_id"),
        CheckConstraint("reason IN ('spam', 'abuse', 'scam', 'other')", name="reason_known"),
        CheckConstraint("status IN ('open', 'closed')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("conversation_messages.id", ondelete="CASCADE"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(8), default="open", server_default="open")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class QuickReply(db.Model):
    """A store's saved answer, offered in its inbox."""

    __tablename__ = "quick_replies"
    __table_args__ = (CheckConstraint(f"char_length(body) BETWEEN 1 AND {BODY_MAX}", name="body_length"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
