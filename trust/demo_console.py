"""The operator's console in the demo city: the demo studio verified, a few merchants warned, one suspended
(its future bookings cancelled the way any suspension cancels them), the rest in good standing; a demo auditor
(``auditor@demo.onsite`` / ``demo-auditor-pass``) with three mystery-shopper audits: the demo studio passed (its
store page shows "Audited on …, passed"), a warned merchant failed (an open case in the console's queue), one
scheduled.

Acts as a demo operator account that nobody can log in to (a random password): make your own admin with
``flask users create-admin`` and open /admin. Runs once (the operator's audit rows mark it); flushes only.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import select

from app import clock
from app.auth.models import Role, User
from app.auth.services import hash_password
from app.extensions import db
from app.merchants.models import Business, Store, StoreStatus
from trust.models_admin import AdminAuditEntry
from trust.models_audits import Audit, AuditStatus
from trust.services.audits import CHECKLIST, quarter_of
from trust.services.integrity import recompute_business
from trust.services.moderation import suspend_merchant, verify_merchant, warn_merchant

OPERATOR_EMAIL = "operator@demo.onsite"
WARNED = {3: "Three late cancellations in two weeks: keep to the slots you publish.",
          11: "Residents report the class ran 30 minutes short of the listed duration.",
          19: "Photos show a different room from the one residents visit."}
SUSPENDED = {7: "Repeatedly charged residents more than the listed price; refunds promised but not made."}
AUDITOR = ("auditor@demo.onsite", "demo-auditor-pass")
FAILED_AUDIT = (11, "hygiene", "Cups reused without washing between two groups; the rest was as listed.")
SCHEDULED_AUDIT = 15


def load_demo_console(studio_owner_email: str | None = None) -> bool:
    """Give the demo city its console history; False when it has one already."""
    operator = db.session.scalar(select(User).where(User.email == OPERATOR_EMAIL))
    if operator is None:
        operator = User(email=OPERATOR_EMAIL, password_hash=hash_password(secrets.token_urlsafe(24)),
                        display_name="Onsite operator 平台运营", role=Role.ADMIN)
        db.session.add(operator)
        db.session.flush()
    elif db.session.scalar(select(AdminAuditEntry.id).where(AdminAuditEntry.actor_id == operator.id).limit(1)):
        return False
    now = clock.now()
    by_owner = {user.email: business for business, user in db.session.execute(
        select(Business, User).join(User, Business.owner_id == User.id).where(User.email.like("%@demo.onsite")))}
    if studio_owner_email in by_owner:
        verify_merchant(operator, by_owner[studio_owner_email].id,
                        "Business licence and studio address checked in person.", now)
    for number, reason in WARNED.items():
        business = by_owner.get(f"merchant{number:02d}@demo.onsite")
        if business is not None:
            warn_merchant(operator, business.id, reason, now)
    for number, reason in SUSPENDED.items():
        business = by_owner.get(f"merchant{number:02d}@demo.onsite")
        if business is not None:
            suspend_merchant(operator, business.id, reason, now)
    _load_demo_audits(by_owner.get(studio_owner_email or ""), by_owner, now)
    return True


def _load_demo_audits(studio: Business | None, by_owner: dict[str, Business], now) -> None:
    auditor = db.session.scalar(select(User).where(User.email == AUDITOR[0]))
    if auditor is None:
        auditor = User(email=AUDITOR[0], password_hash=hash_password(AUDITOR[1]),
                       display_name="Demo Auditor 示范神秘顾客", role=Role.AUDITOR)
        db.session.add(auditor)
        db.session.flush()
    number, failed_key, failed_note = FAILED_AUDIT
    plans = [(studio, AuditStatus.PASSED, now - timedelta(days=20), {}, "Everything as listed; spotless studio."),
             (by_owner.get(f"merchant{number:02d}@demo.onsite"), AuditStatus.FAILED, now - timedelta(days=5),
              {failed_key: False}, failed_note),
             (by_owner.get(f"merchant{SCHEDULED_AUDIT:02d}@demo.onsite"), AuditStatus.SCHEDULED, None, None, "")]
    for business, status, decided_at, noes, notes in plans:
        store_id = None if business is None else db.session.scalar(
            select(Store.id).where(Store.business_id == business.id, Store.status == StoreStatus.ACTIVE)
            .order_by(Store.id))
        if store_id is None:
            continue
        checklist = {} if noes is None else {key: noes.get(key, True) for key in CHECKLIST}
        created = (decided_at or now) - timedelta(days=10)
        db.session.add(Audit(business_id=business.id, store_id=store_id, auditor_id=auditor.id,
                             quarter=quarter_of(created), status=status, checklist=checklist, notes=notes,
                             created_at=created, decided_at=decided_at))
        db.session.flush()
        if decided_at is not None:
            recompute_business(business.id, now)  # the audits part of its score counts it
