"""Mystery-shopper audits (issue 14): one row per merchant picked for a quarter's audit, its auditor and outcome.

The operator schedules audits (``trust.services.audits.schedule``); the auditor books like any resident
(``booking_id`` is filled in by the auditor's checklist, nothing on the booking marks it) and fills the
checklist once the visit is checked in (the sweep marks such audits ``visited``); all answers "yes" passes,
any "no" fails, and a failed audit opens a case in the console until the operator closes it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, SmallInteger, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.auth.models import User
from app.extensions import db
from app.media.models import StoredImage


class AuditStatus:
    SCHEDULED = "scheduled"
    VISITED = "visited"
    PASSED = "passed"
    FAILED = "failed"

    ALL = (SCHEDULED, VISITED, PASSED, FAILED)
    OPEN = (SCHEDULED, VISITED)


class Audit(db.Model):
    """One mystery-shopper audit of a merchant (business) at one of its stores, by one auditor, in a quarter."""

    __tablename__ = "audits"
    __table_args__ = (
        CheckConstraint(f"status IN {AuditStatus.ALL!r}", name="status_known"),
        CheckConstraint("quarter ~ '^[0-9]{4}Q[1-4]$'", name="quarter_format"),
        Index("ix_audits_business_created", "business_id", "created_at"),
        Index("ix_audits_auditor_status", "auditor_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    business_id: Mapped[int] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    store_id: Mapped[int] = mapped_column(ForeignKey("stores.id", ondelete="CASCADE"))
    auditor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    quarter: Mapped[str] = mapped_column(String(6))
    status: Mapped[str] = mapped_column(String(16), default=AuditStatus.SCHEDULED)
    booking_id: Mapped[int | None] = mapped_column(ForeignKey("bookings.id", ondelete="SET NULL"))
    checklist: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    notes: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # a failed audit opens a case in the console until the operator closes it with a note
    case_closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    case_note: Mapped[str] = mapped_column(Text, default="", server_default="")

    auditor: Mapped[User] = relationship()
    photos: Mapped[list[AuditPhoto]] = relationship(order_by="AuditPhoto.position", cascade="all, delete-orphan")


MAX_AUDIT_PHOTOS = 3


class AuditPhoto(db.Model):
    """A photo the auditor took on the visit: shown to the operator only, on the console."""

    __tablename__ = "audit_photos"
    __table_args__ = (UniqueConstraint("audit_id", "position"),
                      CheckConstraint(f"position BETWEEN 0 AND {MAX_AUDIT_PHOTOS - 1}", name="position_range"))

    id: Mapped[int] = mapped_column(primary_key=True)
    audit_id: Mapped[int] = mapped_column(ForeignKey("audits.id", ondelete="CASCADE"))
    image_id: Mapped[int] = mapped_column(ForeignKey("images.id", ondelete="RESTRICT"), index=True)
    position: Mapped[int] = mapped_column(SmallInteger, default=0)

    image: Mapped[StoredImage] = relationship(lazy="joined", innerjoin=True)
