"""Mystery-shopper audits (issue 14): the operator schedules a quarter's audits.

``schedule`` reads each active merchant's risk from the integrity tables (its score, its score about 30 days
ago, disputes opened at its stores in the last 90 days, how long it has been on Onsite), draws ``n`` distinct
merchants with ``trust.audit_sampling.sample`` and gives each to an eligible auditor: an active account with
the auditor role that is not the merchant's owner or staff at any of its stores and has not audited the same
merchant within a year. The auditor with the fewest open audits gets it (ties: the lowest id). Merchants with
an audit this quarter already, or without an open store, are not drawn. Each scheduled audit appends an admin
audit-log row.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, BinaryIO

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.auth.models import Role, User
from app.errors import Conflict, DomainError, NotFound, ValidationFailed
from app.extensions import db
from app.media.services import store_uploads
from app.merchants.models import Business, BusinessStatus, Store, StoreStaff, StoreStatus
from bookings.models import Booking
from bookings.states import BookingStatus
from trust.audit_sampling import MerchantRisk, sample
from trust.models import Dispute
from trust.models_admin import AdminAction
from trust.models_audits import MAX_AUDIT_PHOTOS, Audit, AuditPhoto, AuditStatus
from trust.models_score import BusinessIntegrity, IntegrityWeek
from trust.services.integrity import recompute_business
from trust.services.moderation import _log, _reason, require_admin

__all__ = ["CHECKLIST", "MAX_PER_SCHEDULE", "STATUSES", "NoEligibleAuditor", "audits_of", "close_case",
           "console_audits", "console_audit_list", "get_audit", "last_passed", "mark_visited", "merchant_risks",
           "quarter_of", "record_checklist", "schedule", "visits_for"]

MAX_PER_SCHEDULE = 50
STATUSES = AuditStatus.ALL
NOTES_MAX = 2000
# The checklist's questions, in the order the auditor's form asks them: all "yes" passes, any "no" fails.
CHECKLIST = ("price_as_listed", "as_described", "duration_kept", "hygiene", "staff_courtesy")
RELINK_DAYS = 365  # an auditor does not audit the same merchant again within a year
QUARTER = re.compile(r"^[0-9]{4}Q[1-4]$")


class NoEligibleAuditor(DomainError):
    code = "no_eligible_auditor"


VISITED = (BookingStatus.CHECKED_IN, BookingStatus.COMPLETED)


def quarter_of(now: datetime) -> str:
    """The quarter ``now`` falls in (UTC), as "2026Q4"."""
    return f"{now.year}Q{(now.month - 1) // 3 + 1}"


def _checked(n: Any, quarter: Any) -> tuple[int, str]:
    details = {}
    if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_PER_SCHEDULE:
        details["n"] = _("Give a whole number from 1 to %(max)d.", max=MAX_PER_SCHEDULE)
    if not isinstance(quarter, str) or not QUARTER.match(quarter):
        details["quarter"] = _("Give a quarter such as 2026Q4.")
    if details:
        raise ValidationFailed(details=details)
    return n, quarter


def merchant_risks(now: datetime, *, exclude: set[int] = frozenset()) -> list[MerchantRisk]:
    """What the sampling knows of each active merchant with an open store (see trust/audit_sampling.py)."""
    open_store = select(Store.id).where(Store.business_id == Business.id, Store.status == StoreStatus.ACTIVE).exists()
    rows = db.session.execute(
        select(Business.id, Business.created_at, BusinessIntegrity.score)
        .outerjoin(BusinessIntegrity, BusinessIntegrity.business_id == Business.id)
        .where(Business.status == BusinessStatus.ACTIVE, open_store)).all()
    ids = [row[0] for row in rows if row[0] not in exclude]
    if not ids:
        return []
    month_ago = now - timedelta(days=30)
    earlier: dict[int, int | None] = {}
    for business_id, score in db.session.execute(  # the last week at least 30 days back wins
            select(IntegrityWeek.business_id, IntegrityWeek.score)
            .where(IntegrityWeek.business_id.in_(ids), IntegrityWeek.week <= month_ago.date())
            .order_by(IntegrityWeek.business_id, IntegrityWeek.week)):
        earlier[business_id] = score
    disputes = dict(db.session.execute(
        select(Store.business_id, func.count(Dispute.id)).join(Store, Store.id == Dispute.store_id)
        .where(Store.business_id.in_(ids), Dispute.opened_at >= now - timedelta(days=90), Dispute.opened_at < now)
        .group_by(Store.business_id)).all())
    return [MerchantRisk(business_id=business_id, score=None if score is None else float(score),
                         score_30_days_ago=None if earlier.get(business_id) is None else float(earlier[business_id]),
                         disputes_90_days=disputes.get(business_id, 0),
                         days_active=max((now - created_at).days, 0))
            for business_id, created_at, score in rows if business_id not in exclude]


def _auditor_for(business_id: int, auditors: list[User], load: dict[int, int], now: datetime) -> User:
    linked = set(db.session.scalars(select(Business.owner_id).where(Business.id == business_id)))
    linked |= set(db.session.scalars(select(StoreStaff.user_id).join(Store, Store.id == StoreStaff.store_id)
                                     .where(Store.business_id == business_id)))
    linked |= set(db.session.scalars(select(Audit.auditor_id).where(
        Audit.business_id == business_id, Audit.created_at >= now - timedelta(days=RELINK_DAYS))))
    eligible = [auditor for auditor in auditors if auditor.id not in linked]
    if not eligible:
        raise NoEligibleAuditor(_("No auditor can audit this merchant: each is linked to it (owner, staff, or "
                                  "its auditor within the last year)."), details={"business_id": business_id})
    return min(eligible, key=lambda auditor: (load.get(auditor.id, 0), auditor.id))


def schedule(admin: User | None, n: Any, quarter: Any, now: datetime, seed: int | str | None = None) -> list[Audit]:
    """Schedule ``n`` audits for ``quarter`` (all eligible merchants when fewer), drawn by risk with ``seed``
    (the quarter when None). All or nothing: if a drawn merchant has no eligible auditor, nothing is scheduled.

    :raises PermissionDenied: unless ``admin`` is an admin.
    :raises ValidationFailed: ``n`` not 1..50, or ``quarter`` not like "2026Q4".
    :raises NoEligibleAuditor: a drawn merchant has no auditor who may audit it.
    """
    require_admin(admin)
    n, quarter = _checked(n, quarter)
    auditors = list(db.session.scalars(select(User).where(User.role == Role.AUDITOR, User.is_active_account.is_(True))
                                       .order_by(User.id)))
    load = dict(db.session.execute(select(Audit.auditor_id, func.count()).where(Audit.status.in_(AuditStatus.OPEN))
                                   .group_by(Audit.auditor_id)).all())
    done = set(db.session.scalars(select(Audit.business_id).where(Audit.quarter == quarter)))
    picked = sample(merchant_risks(now, exclude=done), n, seed=quarter if seed is None else seed)
    assigned = []
    for business_id in picked:  # every assignment first, so a refusal leaves nothing half scheduled
        auditor = _auditor_for(business_id, auditors, load, now)
        load[auditor.id] = load.get(auditor.id, 0) + 1
        assigned.append((business_id, auditor))
    audits = []
    for business_id, auditor in assigned:
        store_id = db.session.scalar(select(Store.id).where(Store.business_id == business_id,
                                                            Store.status == StoreStatus.ACTIVE).order_by(Store.id))
        audit = Audit(business_id=business_id, store_id=store_id, auditor_id=auditor.id, quarter=quarter,
                      status=AuditStatus.SCHEDULED, checklist={}, notes="", created_at=now)
        db.session.add(audit)
        db.session.flush()
        _log(admin, AdminAction.AUDIT_SCHEDULE, now, business_id=business_id, audit_id=audit.id, quarter=quarter,
             auditor_id=auditor.id)
        audits.append(audit)
    return audits


# -- the auditor's side ---------------------------------------------------------------------------------------

def audits_of(auditor: User | None) -> list[Audit]:
    """The auditor's audits, open ones first, newest first."""
    if auditor is None or auditor.role != Role.AUDITOR:
        return []
    return list(db.session.scalars(select(Audit).where(Audit.auditor_id == auditor.id)
                                   .order_by(Audit.status.in_(AuditStatus.OPEN).desc(), Audit.created_at.desc(),
                                             Audit.id.desc())))


def get_audit(actor: User | None, audit_id: Any) -> Audit:
    """The audit, for its assigned auditor only.

    :raises NotFound: no such audit, or the actor is not its auditor (others do not learn it exists).
    """
    audit = db.session.get(Audit, audit_id) if isinstance(audit_id, int) and 0 < audit_id < 2**31 else None
    if audit is None or actor is None or audit.auditor_id != actor.id:
        raise NotFound(_("No such audit."))
    return audit


def _visits(audit: Audit):
    """The auditor's checked-in bookings at any store of the audited merchant since the audit was scheduled."""
    return (select(Booking).join(Store, Store.id == Booking.store_id)
            .where(Booking.resident_id == audit.auditor_id, Store.business_id == audit.business_id,
                   Booking.status.in_(VISITED), Booking.starts_at >= audit.created_at))


def visits_for(audit: Audit) -> list[Booking]:
    """The visits the auditor may file the checklist against, newest first."""
    return list(db.session.scalars(_visits(audit).order_by(Booking.starts_at.desc(), Booking.id.desc()).limit(20)))


def mark_visited(now: datetime) -> int:
    """Scheduled audits whose auditor has since been checked in at the merchant become ``visited``; return how
    many (run by the jobs sweep; nothing on the booking or the merchant's side changes)."""
    visited = (select(Booking.id).join(Store, Store.id == Booking.store_id)
               .where(Booking.resident_id == Audit.auditor_id, Store.business_id == Audit.business_id,
                      Booking.status.in_(VISITED), Booking.starts_at >= Audit.created_at, Booking.starts_at <= now)
               .exists())
    return db.session.execute(Audit.__table__.update().where(Audit.status == AuditStatus.SCHEDULED, visited)
                              .values(status=AuditStatus.VISITED)).rowcount


def record_checklist(actor: User | None, audit_id: Any, answers: Any, notes: Any, now: datetime,
                     booking_id: Any = None, photos: Sequence[tuple[str, bytes | BinaryIO]] = ()) -> Audit:
    """The assigned auditor's checklist, once they have visited: a yes/no answer (bool) to each of ``CHECKLIST``
    and notes; all yes passes, any no fails. ``booking_id`` names the visit (one of :func:`visits_for`); without
    it, the latest visit. Up to 3 ``photos`` (file name, content), re-encoded like every upload; the operator
    sees them on the console.

    :raises NotFound: not the audit's auditor (or no such audit).
    :raises Conflict: ``audit_decided`` when the checklist was filled already; ``audit_not_visited`` when the
        auditor has no checked-in visit at the merchant since the audit was scheduled.
    :raises ValidationFailed: a missing or non-yes/no answer, notes too long, a booking that is not one of the
        auditor's visits there, more than 3 photos, or a photo refused (``image_*``).
    """
    audit = get_audit(actor, audit_id)
    if audit.status not in AuditStatus.OPEN:
        raise Conflict(_("This audit's checklist has been filled already."), code="audit_decided")
    visits = visits_for(audit)
    if not visits:
        raise Conflict(_("Visit first: the checklist opens once your booking at this merchant is checked in."),
                       code="audit_not_visited")
    answers = answers if isinstance(answers, dict) else {}
    details = {key: _("Answer yes or no.") for key in CHECKLIST if not isinstance(answers.get(key), bool)}
    text = notes.strip() if isinstance(notes, str) else ""
    if notes is not None and not isinstance(notes, str):
        details["notes"] = _("Write text.")
    elif len(text) > NOTES_MAX:
        details["notes"] = _("Write at most %(max)d characters.", max=NOTES_MAX)
    visit = visits[0]
    if booking_id is not None:
        visit = next((b for b in visits if b.id == booking_id and not isinstance(booking_id, bool)), None)
        if visit is None:
            details["booking_id"] = _("Choose one of your checked-in visits to this merchant.")
    if len(photos) > MAX_AUDIT_PHOTOS:
        details["photos"] = _("at most %(most)d photos.", most=MAX_AUDIT_PHOTOS)
    if details:
        raise ValidationFailed(details=details)
    for position, image in enumerate(store_uploads(photos, uploaded_by=actor)):
        db.session.add(AuditPhoto(audit_id=audit.id, image_id=image.id, position=position))
    audit.checklist = {key: answers[key] for key in CHECKLIST}
    audit.notes = text
    audit.booking_id = visit.id
    audit.status = AuditStatus.PASSED if all(audit.checklist.values()) else AuditStatus.FAILED
    audit.decided_at = now
    db.session.flush()
    recompute_business(audit.business_id, now)  # a failed audit counts in the score's audits part
    return audit


def last_passed(business_id: int) -> Audit | None:
    """The merchant's latest passed audit (shown publicly as "audited on <date>, passed"), if any."""
    return db.session.scalar(select(Audit).where(Audit.business_id == business_id, Audit.status == AuditStatus.PASSED)
                             .order_by(Audit.decided_at.desc()).limit(1))


def console_audits(admin: User | None, limit: int = 200) -> list[tuple[Audit, str]]:
    """The console's audits queue: scheduled / visited audits and failed audits whose case is open, with the
    merchant's name, oldest first.

    :raises PermissionDenied: unless ``admin`` is an admin.
    """
    require_admin(admin)
    return [(audit, name) for audit, name in db.session.execute(
        select(Audit, Business.name).join(Business, Business.id == Audit.business_id)
        .where(Audit.status.in_(AuditStatus.OPEN)
               | ((Audit.status == AuditStatus.FAILED) & Audit.case_closed_at.is_(None)))
        .order_by(Audit.created_at, Audit.id).limit(limit)).all()]


def console_audit_list(admin: User | None, status: str | None = None, limit: int = 200) -> list[Audit]:
    """Every audit (or those with ``status``), newest first, for the console's API.

    :raises PermissionDenied: unless ``admin`` is an admin.
    :raises ValidationFailed: an unknown status.
    """
    require_admin(admin)
    query = select(Audit).order_by(Audit.created_at.desc(), Audit.id.desc()).limit(limit)
    if status is not None:
        if status not in AuditStatus.ALL:
            raise ValidationFailed(details={"status": _("Choose one of: %(choices)s.",
                                                        choices=", ".join(AuditStatus.ALL))})
        query = query.where(Audit.status == status)
    return list(db.session.scalars(query))


def close_case(admin: User | None, audit_id: Any, note: Any, now: datetime) -> Audit:
    """Close a failed audit's console case with the operator's note (2-500 characters); logged.

    :raises PermissionDenied: unless ``admin`` is an admin.
    :raises NotFound: no such audit.
    :raises Conflict: ``audit_case_closed`` when the audit did not fail or its case is closed already.
    """
    require_admin(admin)
    audit = (db.session.get(Audit, audit_id, with_for_update=True)
             if isinstance(audit_id, int) and 0 < audit_id < 2**31 else None)
    if audit is None:
        raise NotFound(_("No such audit."))
    note = _reason(note, field="note")
    if audit.status != AuditStatus.FAILED or audit.case_closed_at is not None:
        raise Conflict(_("Only a failed audit's open case can be closed."), code="audit_case_closed")
    audit.case_closed_at, audit.case_note = now, note
    _log(admin, AdminAction.AUDIT_CLOSE, now, business_id=audit.business_id, reason=note, audit_id=audit.id)
    return audit
