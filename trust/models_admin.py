"""The operator's console's own table (Trust II): the admin audit log.

Every console action (verify, warn, suspend, reinstate, a reported review's decision, a strike) appends one
row: who, when, what, on which business / review / dispute, why, and the action's facts in ``details``. A
merchant's history page reads these rows beside its disputes, reports and score history.
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


class AdminAction:
    VERIFY = "verify"
    UNVERIFY = "unverify"
    WARN = "warn"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    REVIEW_HIDE = "review_hide"
    REVIEW_KEEP = "review_keep"
    STRIKE_AUTHOR = "strike_author"
    STRIKE_MERCHANT = "strike_merchant"
    AUDIT_SCHEDULE = "audit_schedule"  # the mystery-shopper audits scheduled for a merchant (trust/services/audits.py)
    LEDGER_SETTLE = "ledger_settle"  # a compensation entry marked settled (trust/services/ledger.py close_entry)
    LEDGER_WAIVE = "ledger_waive"  # a compensation entry waived
    AUDIT_CLOSE = "audit_close"  # a failed audit's console case closed with the operator's note

    ALL = (VERIFY, UNVERIFY, WARN, SUSPEND, REINSTATE, REVIEW_HIDE, REVIEW_KEEP, STRIKE_AUTHOR, STRIKE_MERCHANT,
           AUDIT_SCHEDULE, LEDGER_SETTLE, LEDGER_WAIVE, AUDIT_CLOSE)


class AdminAuditEntry(db.Model):
    """One console action: who did what, when, to which business / review / dispute, and why."""

    __tablename__ = "admin_audit_log"
    __table_args__ = (
        CheckConstraint(f"action IN {AdminAction.ALL!r}", name="action_known"),
        Index("ix_admin_audit_log_business", "business_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(32))
    business_id: Mapped[int | None] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    review_id: Mapped[int | None] = mapped_column(ForeignKey("reviews.id", ondelete="SET NULL"))
    dispute_id: Mapped[int | None] = mapped_column(ForeignKey("disputes.id", ondelete="SET NULL"))
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=clock.now)

    actor: Mapped[User | None] = relationship()
