"""Staff verbs: an owner invites an e-mail address to work at a store, the invitee accepts or declines,
the owner removes a member. Nobody's account role changes: membership is the ``store_staff`` row.

The owner is told the same thing whether or not the address has an account ("Invitation sent"); the
address gets an e-mail with a link, and an account under it also an inbox message.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert

from app.auth.models import User
from app.auth.services import EMAIL_RE, find_user_by_email, normalise_email
from app.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from app.i18n import format_when, in_locale_of
from app.merchants.models import InvitationStatus, StaffInvitation, Store, StoreStaff
from app.merchants.services import can_manage_store
from bookings.services import queue_notice

INVITATION_DAYS = 14
MANAGE_ONLY = _l("Only the store's owner can manage its staff.")


@dataclass
class StaffList:
    """A store's people as its owner sees them: members, and invitations not (yet) accepted."""

    members: list[StoreStaff]
    invitations: list[StaffInvitation]


# What an invitation's status reads as on pages and in messages (the stored value stays English).
STATUS_LABELS = {
    InvitationStatus.PENDING: _l("pending"),
    InvitationStatus.ACCEPTED: _l("accepted"),
    InvitationStatus.DECLINED: _l("declined"),
    InvitationStatus.REVOKED: _l("withdrawn"),
    InvitationStatus.EXPIRED: _l("expired"),
}


def status_label(status: str) -> str:
    """An invitation status in the request's language."""
    return str(STATUS_LABELS.get(status, status))


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def staff_of_store(actor: User, store: Store) -> StaffList:
    """List the store's members and its pending, expired and declined invitations, newest first.

    :raises PermissionDenied: unless the actor owns the store.
    """
    if not can_manage_store(actor, store):
        raise PermissionDenied(str(MANAGE_ONLY))
    members = list(db.session.scalars(select(StoreStaff).where(StoreStaff.store_id == store.id)
                                      .order_by(StoreStaff.created_at, StoreStaff.id)))
    invitations = list(db.session.scalars(
        select(StaffInvitation).where(StaffInvitation.store_id == store.id,
                                      StaffInvitation.status.not_in([InvitationStatus.ACCEPTED,
                                                                     InvitationStatus.REVOKED]))
        .order_by(StaffInvitation.created_at.desc(), StaffInvitation.id.desc())))
    return StaffList(members, invitations)


def invite_staff(actor: User, store: Store, email: str, now: datetime,
                 link: Callable[[str], str]) -> StaffInvitation:
    """Invite an e-mail address to work at the store; inviting it again renews the invitation.

    ``link(token)`` is the absolute URL the e-mail carries. The answer is the same whether or not the
    address has an account.

    :raises PermissionDenied: unless the actor owns the store.
    :raises ValidationFailed: on a malformed address, or the owner's own.
    :raises Conflict: ``already_staff`` when a member of the store has that address.
    """
    if not can_manage_store(actor, store):
        raise PermissionDenied(str(MANAGE_ONLY))
    address = normalise_email(email if isinstance(email, str) else "")
    if not EMAIL_RE.match(address) or len(address) > 254:
        raise ValidationFailed(details={"email": _("Enter a valid e-mail address.")})
    if address == store.business.owner.email:
        raise ValidationFailed(details={"email": _("That is the owner's own address: owners run the store already.")})
    if db.session.scalar(select(StoreStaff.id).join(User, User.id == StoreStaff.user_id)
                         .where(StoreStaff.store_id == store.id, User.email == address)) is not None:
        raise Conflict(_("Already staff at this store."), code="already_staff",
                       details={"email": _("Already staff at this store.")})
    token = secrets.token_urlsafe(32)
    fields = {"token_hash": _digest(token), "status": InvitationStatus.PENDING, "invited_by_id": actor.id,
              "created_at": now, "expires_at": now + timedelta(days=INVITATION_DAYS),
              "responded_at": None, "responded_by_id": None}
    # One row per (store, e-mail): a concurrent second invitation renews the first instead of failing.
    invitation_id = db.session.scalar(
        pg_insert(StaffInvitation).values(store_id=store.id, email=address, **fields)
        .on_conflict_do_update(constraint="uq_staff_invitations_store_email", set_=fields)
        .returning(StaffInvitation.id))
    invitation = db.session.get(StaffInvitation, invitation_id, populate_existing=True)
    invitee = find_user_by_email(address)
    with in_locale_of(invitee):  # the invitee's language (the site's default for an address without an account)
        title = _("Invitation to work at %(store)s", store=store.name)
        body = "\n".join((
            _("%(inviter)s invites you to work at %(store)s (%(business)s) on Onsite: see its bookings and check "
              "visitors in. Accept or decline by %(date)s: %(link)s", inviter=actor.display_name, store=store.name,
              business=store.business.name, date=format_when(invitation.expires_at, store.timezone, "date"),
              link=link(token)),
            _("If you do not know them, ignore this message; nothing changes unless you accept.")))
    queue_notice(address, title, body, user=invitee, kind="staff_invitation")
    return invitation


def invitations_for(actor: User, now: datetime) -> list[StaffInvitation]:
    """The pending, unexpired invitations sent to the actor's address."""
    return list(db.session.scalars(
        select(StaffInvitation).where(StaffInvitation.email == actor.email,
                                      StaffInvitation.status == InvitationStatus.PENDING,
                                      StaffInvitation.expires_at > now)
        .order_by(StaffInvitation.created_at.desc(), StaffInvitation.id.desc())))


def invitation_by_token(token: str) -> StaffInvitation:
    """The invitation an e-mailed link stands for.

    :raises NotFound: when no invitation has that token.
    """
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        raise NotFound(_("No such invitation."))
    invitation = db.session.scalar(select(StaffInvitation).where(StaffInvitation.token_hash == _digest(token)))
    if invitation is None:
        raise NotFound(_("No such invitation."))
    return invitation


def _open_invitation(actor: User, invitation_id: int, token: str | None, now: datetime) -> StaffInvitation:
    """Lock the invitation the actor may answer: sent to their address, or reached with its link's token.

    :raises NotFound: when it does not exist or is not the actor's to answer.
    :raises Conflict: ``invitation_expired``, or ``invitation_closed`` once answered or revoked.
    """
    invitation = db.session.scalar(select(StaffInvitation).where(StaffInvitation.id == invitation_id)
                                   .with_for_update().execution_options(populate_existing=True))
    by_token = bool(token) and invitation is not None and hmac.compare_digest(
        _digest(token), invitation.token_hash)
    if invitation is None or not (invitation.email == actor.email or by_token):
        raise NotFound(_("No such invitation."))
    status = invitation.status_at(now)
    if status == InvitationStatus.EXPIRED:
        raise Conflict(_("This invitation has expired: ask the store for a new one."), code="invitation_expired")
    if status != InvitationStatus.PENDING:
        raise Conflict(_("This invitation was %(status)s already.", status=status_label(status)),
                       code="invitation_closed", details={"status": status})
    return invitation


def accept_invitation(actor: User, invitation_id: int, now: datetime, token: str | None = None) -> StaffInvitation:
    """Accept an invitation: the actor becomes staff of its store (their account role stays as it is).

    :raises NotFound: unless the invitation was sent to the actor's address or ``token`` is its link's.
    :raises Conflict: ``invitation_expired`` or ``invitation_closed``.
    """
    invitation = _open_invitation(actor, invitation_id, token, now)
    # ON CONFLICT: an account already working here (another address's invitation, accepted at the same
    # moment or before) stays a member once.
    db.session.execute(pg_insert(StoreStaff).values(store_id=invitation.store_id, user_id=actor.id, created_at=now)
                       .on_conflict_do_nothing(constraint="uq_store_staff_store_user"))
    invitation.status, invitation.responded_at, invitation.responded_by_id = InvitationStatus.ACCEPTED, now, actor.id
    db.session.flush()
    return invitation


def decline_invitation(actor: User, invitation_id: int, now: datetime, token: str | None = None) -> StaffInvitation:
    """Decline an invitation; nothing else changes.

    :raises NotFound: unless the invitation was sent to the actor's address or ``token`` is its link's.
    :raises Conflict: ``invitation_expired`` or ``invitation_closed``.
    """
    invitation = _open_invitation(actor, invitation_id, token, now)
    invitation.status, invitation.responded_at, invitation.responded_by_id = InvitationStatus.DECLINED, now, actor.id
    db.session.flush()
    return invitation


def revoke_invitation(actor: User, store: Store, invitation_id: int, now: datetime) -> StaffInvitation:
    """Withdraw a pending invitation of the store; its link stops working.

    :raises PermissionDenied: unless the actor owns the store.
    :raises NotFound: when the invitation is not this store's.
    :raises Conflict: ``invitation_closed`` when it was answered already.
    """
    if not can_manage_store(actor, store):
        raise PermissionDenied(str(MANAGE_ONLY))
    invitation = db.session.scalar(select(StaffInvitation).where(StaffInvitation.id == invitation_id)
                                   .with_for_update().execution_options(populate_existing=True))
    if invitation is None or invitation.store_id != store.id:
        raise NotFound(_("No such invitation."))
    if invitation.status_at(now) not in (InvitationStatus.PENDING, InvitationStatus.EXPIRED):
        raise Conflict(_("This invitation was %(status)s already.", status=status_label(invitation.status)),
                       code="invitation_closed",
                       details={"status": invitation.status})
    invitation.status, invitation.responded_at = InvitationStatus.REVOKED, now
    db.session.flush()
    return invitation


def remove_staff(actor: User, store: Store, user_id: int) -> None:
    """Remove a member from the store: only the membership goes, the account stays as it was.

    :raises PermissionDenied: unless the actor owns the store.
    :raises NotFound: when that user is not staff here.
    """
    if not can_manage_store(actor, store):
        raise PermissionDenied(str(MANAGE_ONLY))
    member = db.session.scalar(select(StoreStaff).where(StoreStaff.store_id == store.id,
                                                        StoreStaff.user_id == user_id))
    if member is None:
        raise NotFound(_("Not staff at this store."))
    db.session.delete(member)
    db.session.flush()
