"""The compensation ledger (amounts owed, never paid online) and the dispute figures Trust II counts.

Balances are sums over ``compensation_entries`` (status ``owed``), computed by one statement each time:
nothing is stored twice. Figures read ``disputes`` and ``dispute_events`` only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import joinedload

from app.auth.models import User
from app.errors import Conflict, NotFound, ValidationFailed
from app.extensions import db
from app.merchants.models import Business, Store
from app.merchants.services import get_business
from trust.models import CompensationEntry, Dispute, DisputeEvent, DisputeReason, EntryStatus, Party
from trust.models_admin import AdminAction
from trust.services.moderation import _log, _reason, require_admin
from trust.states import DisputeStatus as D

__all__ = ["ENTRY_STATUS_LABELS", "LEDGER_ACTIONS", "Balance", "balances_of", "business_ledger", "close_entry",
           "merchant_response_times", "overturned_no_shows",
           "resident_ledger", "upheld_by_reason"]


# -- the ledger -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Balance:
    """Open amounts in one currency: what others owe this party and what it owes (status ``owed`` only)."""

    currency: str
    owed_to: Decimal
    owes: Decimal


def _party(kind: str, party_id: int | None):
    def side(kind_column, id_column):
        return and_(kind_column == kind, id_column.is_(None) if party_id is None else id_column == party_id)
    return (side(CompensationEntry.creditor_kind, CompensationEntry.creditor_id),
            side(CompensationEntry.debtor_kind, CompensationEntry.debtor_id))


def balances_of(kind: str, party_id: int | None) -> list[Balance]:
    """A party's open balance per currency: one SUM over the ledger, never a stored figure."""
    creditor, debtor = _party(kind, party_id)
    zero = Decimal("0.00")
    rows = db.session.execute(
        select(CompensationEntry.currency,
               func.coalesce(func.sum(case((creditor, CompensationEntry.amount), else_=0)), 0),
               func.coalesce(func.sum(case((debtor, CompensationEntry.amount), else_=0)), 0))
        .where(CompensationEntry.status == EntryStatus.OWED, or_(creditor, debtor))
        .group_by(CompensationEntry.currency).order_by(CompensationEntry.currency)).all()
    return [Balance(currency, Decimal(owed_to) + zero, Decimal(owes) + zero) for currency, owed_to, owes in rows]


def _entries_of(kind: str, party_id: int | None, limit: int) -> list[CompensationEntry]:
    creditor, debtor = _party(kind, party_id)
    return list(db.session.scalars(
        select(CompensationEntry).where(or_(creditor, debtor)).options(joinedload(CompensationEntry.dispute))
        .order_by(CompensationEntry.created_at.desc(), CompensationEntry.id.desc()).limit(limit)))


def resident_ledger(actor: User, limit: int = 200) -> tuple[list[CompensationEntry], list[Balance]]:
    """What is or was owed to the actor (and anything they owe), newest first, with the open balances."""
    return _entries_of(Party.RESIDENT, actor.id, limit), balances_of(Party.RESIDENT, actor.id)


def business_ledger(actor: User, business_id: int, limit: int = 200) -> tuple[Business, list[CompensationEntry],
                                                                               list[Balance]]:
    """What the business owes and is owed, newest first, with its open balances (its owner, or an admin).

    :raises NotFound: when there is no such business. :raises PermissionDenied: unless the actor owns it.
    """
    business = get_business(actor, business_id, manage=True)
    return business, _entries_of(Party.BUSINESS, business.id, limit), balances_of(Party.BUSINESS, business.id)


ENTRY_STATUS_LABELS = {EntryStatus.OWED: _l("owed"), EntryStatus.SETTLED: _l("settled"),
                       EntryStatus.WAIVED: _l("waived")}
LEDGER_ACTIONS = {"settle": (EntryStatus.SETTLED, AdminAction.LEDGER_SETTLE),
                  "waive": (EntryStatus.WAIVED, AdminAction.LEDGER_WAIVE)}


def close_entry(actor: User, entry_id: int, action: str, note: str, now: datetime) -> CompensationEntry:
    """The operator marks an owed entry settled (paid outside Onsite) or waives it, saying why; one admin audit
    row (``ledger_settle`` / ``ledger_waive``) on the business it concerns and the dispute.

    :raises PermissionDenied: unless the actor is an admin. :raises NotFound: when there is no such entry.
    :raises ValidationFailed: on an unknown action or no note. :raises Conflict: ``entry_not_owed``.
    """
    require_admin(actor)
    if action not in LEDGER_ACTIONS:
        raise ValidationFailed(details={"action": _("Choose settle or waive.")})
    note = _reason(note, field="note")
    entry = db.session.scalar(select(CompensationEntry).where(CompensationEntry.id == entry_id).with_for_update()
                              .execution_options(populate_existing=True))
    if entry is None:
        raise NotFound(_("No such ledger entry."))
    if entry.status != EntryStatus.OWED:
        label = ENTRY_STATUS_LABELS.get(entry.status, entry.status)
        raise Conflict(_("This entry is %(status)s already.", status=label), code="entry_not_owed",
                       details={"status": entry.status})
    status, audit_action = LEDGER_ACTIONS[action]
    entry.status, entry.settled_at = status, now
    business_id = (entry.debtor_id if entry.debtor_kind == Party.BUSINESS
                   else entry.creditor_id if entry.creditor_kind == Party.BUSINESS else None)
    _log(actor, audit_action, now, business_id=business_id, dispute_id=entry.dispute_id, reason=note,
         entry_id=entry.id, amount=f"{entry.amount:.2f}", currency=entry.currency, debtor=entry.debtor_kind,
         creditor=entry.creditor_kind)
    return entry


# -- figures Trust II counts ------------------------------------------------------------------------------------

def _of_business(business_id: int):
    return Dispute.store_id.in_(select(Store.id).where(Store.business_id == business_id))


def upheld_by_reason(business_id: int, since: datetime, until: datetime) -> dict[str, int]:
    """Disputes the operator upheld against the business in [since, until), counted by reason."""
    rows = db.session.execute(
        select(Dispute.reason, func.count(func.distinct(Dispute.id))).select_from(Dispute)
        .join(DisputeEvent, DisputeEvent.dispute_id == Dispute.id)
        .where(_of_business(business_id), DisputeEvent.to_status == D.UPHELD, DisputeEvent.created_at >= since,
               DisputeEvent.created_at < until).group_by(Dispute.reason)).all()
    return dict(rows)


def merchant_response_times(business_id: int, since: datetime, until: datetime) -> list[timedelta]:
    """How long the business took to answer each dispute opened in [since, until) that it answered."""
    answered = (select(DisputeEvent.dispute_id, func.min(DisputeEvent.created_at).label("at"))
                .where(DisputeEvent.from_status == D.OPENED,
                       DisputeEvent.to_status.in_((D.MERCHANT_ACCEPTED, D.MERCHANT_CONTESTED)))
                .group_by(DisputeEvent.dispute_id).subquery())
    rows = db.session.scalars(select(answered.c.at - Dispute.opened_at).select_from(Dispute)
                              .join(answered, answered.c.dispute_id == Dispute.id)
                              .where(_of_business(business_id), Dispute.opened_at >= since, Dispute.opened_at < until)
                              .order_by(Dispute.id)).all()
    return list(rows)


def overturned_no_shows(business_id: int, since: datetime, until: datetime) -> int:
    """No-show marks of the business that the operator overturned in [since, until): upheld
    ``wrongly_marked_no_show`` disputes."""
    return upheld_by_reason(business_id, since, until).get(DisputeReason.WRONGLY_MARKED_NO_SHOW, 0)
