"""The operator's console's verbs: find a merchant, verify, warn, suspend and reinstate it, decide reported
reviews, the queues and the overview. Every action appends an ``AdminAuditEntry`` (who, when, what, why).

Suspension sets ``businesses.status = 'suspended'``: every listing query already keeps only active
businesses (app/discovery/services.py ``_visible``, app/offerings/services.py, app/merchants/services.py
``is_publicly_listed``), so the stores and experiences drop out of nearby, the map, explore and their pages,
and booking answers ``slot_closed``. The merchant's future bookings are cancelled through
``bookings.services.cancel`` (slots, seats, waitlist and booking events stay right) with the reason told to
each resident; reinstating lists the merchant again and leaves those bookings cancelled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import func, select

from app.auth.models import User
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from app.i18n import in_locale_of
from app.merchants.models import Business, BusinessStatus, Store
from bookings.models import Booking
from bookings.services import cancel, queue_notice
from bookings.states import BookingStatus as B
from trust.models import Dispute, DisputeEvent, Review, ReviewReport, ReviewStatus
from trust.models_admin import AdminAction, AdminAuditEntry
from trust.models_audits import Audit, AuditStatus
from trust.models_score import BusinessIntegrity, IntegrityWeek
from trust.services.integrity import recompute_business
from trust.services.reviews import recount
from trust.states import DisputeStatus as D

__all__ = ["REPORT_DECISIONS", "audit_log_of", "decide_report", "get_merchant", "merchant_history", "overview",
           "queues", "reinstate_merchant", "require_admin", "search_merchants", "suspend_merchant",
           "verify_merchant", "warn_merchant"]

REASON_MAX = 500
REPORT_DECISIONS = ("hide", "keep", "strike_author", "strike_merchant")
STRIKE_FLAG = "operator_strike"  # a review hidden as a strike on its merchant counts as a review-fraud strike


def require_admin(actor: User | None) -> None:
    """:raises PermissionDenied: unless the actor is an admin."""
    if actor is None or not actor.is_admin:
        raise PermissionDenied(_("Only Onsite's operators can do this."))


def _reason(value: Any, *, required: bool = True, field: str = "reason") -> str:
    text = value.strip() if isinstance(value, str) else ""
    if required and len(text) < 2:
        raise ValidationFailed(details={field: _("Say why (at least 2 characters).")})
    if len(text) > REASON_MAX:
        raise ValidationFailed(details={field: _("Write at most %(max)d characters.", max=REASON_MAX)})
    return text


def _log(actor: User, action: str, now: datetime, *, business_id: int | None = None, review_id: int | None = None,
         dispute_id: int | None = None, reason: str = "", **details: Any) -> AdminAuditEntry:
    entry = AdminAuditEntry(actor_id=actor.id, action=action, business_id=business_id, review_id=review_id,
                            dispute_id=dispute_id, reason=reason, details=details, created_at=now)
    db.session.add(entry)
    db.session.flush()
    return entry


def _tell_owner(business: Business, title, body) -> None:
    owner = business.owner
    with in_locale_of(owner):
        queue_notice(owner.email, title(), body(), user=owner, kind="operator")


# -- merchants ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class MerchantRow:
    business: Business
    score: int | None
    stores: int


def search_merchants(actor: User, q: Any = "", *, status: str | None = None, limit: int = 50) -> list[MerchantRow]:
    """Businesses whose name contains ``q`` (all when empty), with their score and number of stores."""
    require_admin(actor)
    term = q.strip()[:120] if isinstance(q, str) else ""
    stores = select(func.count(Store.id)).where(Store.business_id == Business.id).scalar_subquery()
    query = (select(Business, BusinessIntegrity.score, stores)
             .outerjoin(BusinessIntegrity, BusinessIntegrity.business_id == Business.id))
    if term:
        escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(Business.name.ilike(f"%{escaped}%", escape="\\"))
    if status in (BusinessStatus.ACTIVE, BusinessStatus.SUSPENDED):
        query = query.where(Business.status == status)
    rows = db.session.execute(query.order_by(Business.name, Business.id).limit(max(1, min(limit, 200))))
    return [MerchantRow(business, score, count) for business, score, count in rows]


def get_merchant(actor: User, business_id: Any) -> Business:
    require_admin(actor)
    business = db.session.get(Business, business_id) if isinstance(business_id, int) else None
    if business is None:
        raise NotFound(_("No such business."))
    return business


def _locked(business_id: int) -> Business:
    return db.session.scalars(select(Business).where(Business.id == business_id).with_for_update()
                              .execution_options(populate_existing=True)).one()


def verify_merchant(actor: User, business_id: Any, note: Any, now: datetime, *, verified: bool = True) -> Business:
    """Give the merchant the public verified badge with a note (or take it away)."""
    business = get_merchant(actor, business_id)
    note = _reason(note, field="note")
    business = _locked(business.id)
    business.is_verified = verified
    business.verified_at, business.verified_by_id = (now, actor.id) if verified else (None, None)
    business.verification_note = note if verified else ""
    _log(actor, AdminAction.VERIFY if verified else AdminAction.UNVERIFY, now, business_id=business.id, reason=note)
    return business


def warn_merchant(actor: User, business_id: Any, reason: Any, now: datetime) -> AdminAuditEntry:
    """Send the merchant's owner a warning (inbox and e-mail) with the operator's reason."""
    business = get_merchant(actor, business_id)
    reason = _reason(reason)
    _tell_owner(business, lambda: _("A warning from Onsite: %(name)s", name=business.name),
                lambda: _("Onsite's operator warns %(name)s: %(reason)s", name=business.name, reason=reason))
    return _log(actor, AdminAction.WARN, now, business_id=business.id, reason=reason)


def suspend_merchant(actor: User, business_id: Any, reason: Any, now: datetime) -> AdminAuditEntry:
    """Hide the merchant everywhere and cancel its future bookings, each resident told why.

    :raises Conflict: ``already_suspended``.
    """
    business = get_merchant(actor, business_id)
    reason = _reason(reason)
    business = _locked(business.id)
    if business.status == BusinessStatus.SUSPENDED:
        raise Conflict(_("This merchant is suspended already."), code="already_suspended")
    business.status = BusinessStatus.SUSPENDED
    business.suspended_at, business.suspended_by_id, business.suspension_reason = now, actor.id, reason
    db.session.flush()
    future = list(db.session.scalars(
        select(Booking.id).join(Store, Booking.store_id == Store.id)
        .where(Store.business_id == business.id, Booking.status.in_((B.PENDING, B.CONFIRMED)),
               Booking.starts_at > now).order_by(Booking.starts_at, Booking.id)))
    told = _("Onsite has suspended this merchant (%(reason)s), so the visit cannot take place.", reason=reason)
    for booking_id in future:
        cancel(actor, booking_id, told[:300], now)
    _tell_owner(business, lambda: _("Suspended: %(name)s", name=business.name),
                lambda: _suspended_notice(business.name, reason, len(future)))
    return _log(actor, AdminAction.SUSPEND, now, business_id=business.id, reason=reason,
                cancelled_bookings=future)


def _suspended_notice(name: str, reason: str, count: int) -> str:
    return ngettext("Onsite's operator suspended %(name)s: %(reason)s. Its stores and experiences are hidden and "
                    "%(num)d future booking was cancelled, its resident told why.",
                    "Onsite's operator suspended %(name)s: %(reason)s. Its stores and experiences are hidden and "
                    "%(num)d future bookings were cancelled, their residents told why.", count, name=name,
                    reason=reason)


def reinstate_merchant(actor: User, business_id: Any, reason: Any, now: datetime) -> AdminAuditEntry:
    """List the merchant again; the bookings cancelled by its suspension stay cancelled.

    :raises Conflict: ``not_suspended``.
    """
    business = get_merchant(actor, business_id)
    reason = _reason(reason)
    business = _locked(business.id)
    if business.status != BusinessStatus.SUSPENDED:
        raise Conflict(_("This merchant is not suspended."), code="not_suspended")
    suspended = {"suspended_at": business.suspended_at.isoformat() if business.suspended_at else None,
                 "suspension_reason": business.suspension_reason}
    business.status = BusinessStatus.ACTIVE
    business.suspended_at, business.suspended_by_id, business.suspension_reason = None, None, ""
    _tell_owner(business, lambda: _("Reinstated: %(name)s", name=business.name),
                lambda: _("Onsite's operator reinstated %(name)s: %(reason)s. Its stores and experiences are listed "
                          "again; bookings cancelled by the suspension stay cancelled.", name=business.name,
                          reason=reason))
    return _log(actor, AdminAction.REINSTATE, now, business_id=business.id, reason=reason, **suspended)


# -- reported reviews ---------------------------------------------------------------------------------------

def decide_report(actor: User, report_id: Any, decision: Any, note: Any, now: datetime) -> ReviewReport:
    """Decide an open report: ``hide`` the review, ``keep`` it, or hide it as a strike on its author or on
    its merchant (a merchant strike counts as a review-fraud strike in the integrity score).

    :raises Conflict: ``report_decided``.
    """
    require_admin(actor)
    report = db.session.get(ReviewReport, report_id) if isinstance(report_id, int) else None
    if report is None:
        raise NotFound(_("No such report."))
    if decision not in REPORT_DECISIONS:
        raise ValidationFailed(details={"decision": _("Choose one of: %(choices)s.",
                                                      choices=", ".join(REPORT_DECISIONS))})
    note = _reason(note, required=False, field="note")
    report = db.session.scalars(select(ReviewReport).where(ReviewReport.id == report.id).with_for_update()
                                .execution_options(populate_existing=True)).one()
    if report.status != "open":
        raise Conflict(_("This report has been decided already."), code="report_decided")
    review = report.review
    business_id = db.session.scalar(select(Store.business_id).where(Store.id == review.store_id))
    others = list(db.session.scalars(select(ReviewReport).where(
        ReviewReport.review_id == review.id, ReviewReport.status == "open").with_for_update()))
    for each in others:
        each.status = "dismissed" if decision == "keep" else "upheld"
        each.resolved_at, each.resolved_by_id = now, actor.id
    if decision != "keep" and review.status != ReviewStatus.HIDDEN:
        review.status = ReviewStatus.HIDDEN
        if decision == "strike_merchant":
            review.flag_reason = STRIKE_FLAG
        recount(review.offering_id, review.store_id)
    action = {"hide": AdminAction.REVIEW_HIDE, "keep": AdminAction.REVIEW_KEEP,
              "strike_author": AdminAction.STRIKE_AUTHOR, "strike_merchant": AdminAction.STRIKE_MERCHANT}[decision]
    _log(actor, action, now, business_id=business_id, review_id=review.id, reason=note,
         report_ids=[each.id for each in others], author_id=review.resident_id)
    if decision == "strike_merchant":
        recompute_business(business_id, now)
    return report


# -- queues, overview, history ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Queue:
    key: str
    count: int
    oldest: datetime | None

    def age(self, now: datetime) -> timedelta | None:
        return None if self.oldest is None else now - self.oldest


def queues(actor: User) -> dict[str, Queue]:
    """Escalated disputes, open review reports, flagged (held) reviews, audits due and failed audits' open cases:
    how many and since when."""
    require_admin(actor)
    rows = {
        "disputes": select(func.count(Dispute.id), func.min(Dispute.escalated_at))
        .where(Dispute.status == D.ESCALATED),
        "reports": select(func.count(ReviewReport.id), func.min(ReviewReport.created_at))
        .where(ReviewReport.status == "open"),
        "flagged": select(func.count(Review.id), func.min(Review.created_at))
        .where(Review.status == ReviewStatus.FLAGGED),
        "audits_due": select(func.count(Audit.id), func.min(Audit.created_at))
        .where(Audit.status.in_(AuditStatus.OPEN)),
        "failed_audits": select(func.count(Audit.id), func.min(Audit.decided_at))
        .where(Audit.status == AuditStatus.FAILED, Audit.case_closed_at.is_(None)),
    }
    return {key: Queue(key, *db.session.execute(query).one()) for key, query in rows.items()}


def flagged_reviews(actor: User, limit: int = 100) -> list[Review]:
    require_admin(actor)
    return list(db.session.scalars(select(Review).where(Review.status == ReviewStatus.FLAGGED)
                                   .order_by(Review.created_at, Review.id).limit(limit)))


def _figures(since: datetime, until: datetime) -> dict[str, Any]:
    bookings = db.session.scalar(select(func.count(Booking.id)).where(Booking.created_at >= since,
                                                                      Booking.created_at < until))
    visits = db.session.scalar(select(func.count(Booking.id)).where(
        Booking.status.in_((B.CHECKED_IN, B.COMPLETED)), Booking.starts_at >= since, Booking.starts_at < until))
    disputes = db.session.scalar(select(func.count(Dispute.id)).where(Dispute.opened_at >= since,
                                                                      Dispute.opened_at < until))
    decided, upheld = db.session.execute(select(
        func.count(DisputeEvent.id), func.count(DisputeEvent.id).filter(DisputeEvent.to_status == D.UPHELD))
        .where(DisputeEvent.to_status.in_((D.UPHELD, D.REJECTED)), DisputeEvent.created_at >= since,
               DisputeEvent.created_at < until)).one()
    return {"bookings": bookings, "visits": visits, "disputes": disputes, "decided": decided, "upheld": upheld,
            "upheld_rate": round(100.0 * upheld / decided, 1) if decided else None}


def overview(actor: User, now: datetime, zone: str = "Asia/Shanghai", lowest: int = 10) -> dict[str, Any]:
    """Bookings made, visits, disputes opened and the upheld rate of decisions, today (midnight in ``zone``
    to now) and over the last 30 days; the lowest-scoring active merchants."""
    require_admin(actor)
    local = now.astimezone(ZoneInfo(zone))
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    worst = db.session.execute(
        select(Business, BusinessIntegrity.score).join(BusinessIntegrity, BusinessIntegrity.business_id == Business.id)
        .where(BusinessIntegrity.score.is_not(None)).order_by(BusinessIntegrity.score, Business.id).limit(lowest)).all()
    return {"today": _figures(midnight, now + timedelta(microseconds=1)),
            "days30": _figures(now - timedelta(days=30), now + timedelta(microseconds=1)),
            "lowest": [{"business": business, "score": score} for business, score in worst], "zone": zone}


def audit_log_of(actor: User, business_id: int, limit: int = 200) -> list[AdminAuditEntry]:
    require_admin(actor)
    return list(db.session.scalars(select(AdminAuditEntry).where(AdminAuditEntry.business_id == business_id)
                                   .order_by(AdminAuditEntry.created_at.desc(), AdminAuditEntry.id.desc())
                                   .limit(limit)))


def merchant_history(actor: User, business_id: Any) -> dict[str, Any]:
    """Everything about one merchant in one place: console actions (warnings among them), disputes, reported
    reviews, mystery-shopper audits and the weekly score."""
    business = get_merchant(actor, business_id)
    store_ids = select(Store.id).where(Store.business_id == business.id)
    disputes = list(db.session.scalars(select(Dispute).where(Dispute.store_id.in_(store_ids))
                                       .order_by(Dispute.opened_at.desc()).limit(200)))
    reports = list(db.session.scalars(select(ReviewReport).join(Review, Review.id == ReviewReport.review_id)
                                      .where(Review.store_id.in_(store_ids))
                                      .order_by(ReviewReport.created_at.desc()).limit(200)))
    weeks = list(db.session.scalars(select(IntegrityWeek).where(IntegrityWeek.business_id == business.id)
                                    .order_by(IntegrityWeek.week.desc()).limit(52)))
    audit = audit_log_of(actor, business.id)
    audits = list(db.session.scalars(select(Audit).where(Audit.business_id == business.id)
                                     .order_by(Audit.created_at.desc(), Audit.id.desc()).limit(50)))
    return {"business": business, "audit": audit, "warnings": [a for a in audit if a.action == AdminAction.WARN],
            "disputes": disputes, "reports": reports, "weeks": weeks, "audits": audits,
            "integrity": db.session.get(BusinessIntegrity, business.id)}
