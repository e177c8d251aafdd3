"""Mystery-shopper audits (issue 14): one row per merchant picked for a quarter's audit, its auditor and outcome.

The operator schedules audits (``trust.services.audits.schedule``); the auditor books like any resident
(``booking_id`` is filled in by the auditor's checklist, nothing on the booking marks it) and fills the
checklist; all answers "yes" passes, any "no" fails.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app import clock
from app.auth.models import User
from app.extensions import db


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

    auditor: Mapped[User] = relationship()
