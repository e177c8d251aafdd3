"""The operator's console in the demo city: the demo studio verified, a few merchants warned, one suspended
(its future bookings cancelled the way any suspension cancels them), the rest in good standing.

Acts as a demo operator account that nobody can log in to (a random password): make your own admin with
``flask users create-admin`` and open /admin. Runs once (the operator's audit rows mark it); flushes only.
"""

from __future__ import annotations

import secrets

from sqlalchemy import select

from app import clock
from app.auth.models import Role, User
from app.auth.services import hash_password
from app.extensions import db
from app.merchants.models import Business
from trust.models_admin import AdminAuditEntry
from trust.services.moderation import suspend_merchant, verify_merchant, warn_merchant

OPERATOR_EMAIL = "operator@demo.onsite"
WARNED = {3: "Three late cancellations in two weeks: keep to the slots you publish.",
          11: "Residents report the class ran 30 minutes short of the listed duration.",
          19: "Photos show a different room from the one residents visit."}
SUSPENDED = {7: "Repeatedly charged residents more than the listed price; refunds promised but not made."}


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
    return True
