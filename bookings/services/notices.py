"""Notices: inbox messages and queued e-mails, written in the transaction and sent after the commit."""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import func, insert, select, update

from app import clock
from app.auth.models import User
from app.extensions import db
from app.i18n import format_when, in_locale_of
from app.merchants.models import Store
from bookings.models import Booking, Notification, OutboxEmail, Slot

# A notice that is about no booking reads in the site's city, the zone a new store gets.
SITE_ZONE: str = Store.__table__.c.timezone.default.arg


def notifications_of(actor: User, limit: int = 50) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == actor.id)
                                   .order_by(Notification.id.desc()).limit(limit)))


def mark_notifications_read(actor: User, now: datetime) -> int:
    return db.session.execute(update(Notification).where(Notification.user_id == actor.id,
                                                         Notification.read_at.is_(None)).values(read_at=now)).rowcount


def zones_of(notices: list[Notification]) -> dict[int, str]:
    """The time zone to show each notice's time in: its booking's store's, else the site's city."""
    booking_ids = {n.booking_id for n in notices if n.booking_id is not None}
    stores = dict(db.session.execute(
        select(Booking.id, Store.timezone).join(Store, Booking.store_id == Store.id)
        .where(Booking.id.in_(booking_ids))).all()) if booking_ids else {}
    return {n.id: stores.get(n.booking_id, SITE_ZONE) for n in notices}


def unread_count(actor: User) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == actor.id, Notification.read_at.is_(None))) or 0


def _local_slot(slot: Slot) -> str:
    """The slot's start on the store's clock, in the current locale (call it inside ``in_locale_of``)."""
    return format_when(slot.starts_at, slot.offering.store.timezone, "long")


def _local(booking: Booking) -> str:
    return _local_slot(booking.slot)


def notify_account(user: User, kind: str, title: str, body: str) -> None:
    """Queue an inbox message and an e-mail about the account itself (a lock, a sign-up attempt, …)."""
    _notify(user, kind, title, body, None)


def inbox_notice(user: User, kind: str, title: str, body: str, *, booking_id: int | None = None,
                 created_at: datetime | None = None) -> None:
    """Leave an inbox message for ``user`` (no e-mail); ``created_at`` defaults to the clock's now."""
    db.session.add(Notification(user_id=user.id, kind=kind, title=title[:200], body=body, booking_id=booking_id,
                                **({"created_at": created_at} if created_at is not None else {})))


def queue_notice(to_email: str, title: str, body: str, *, user: User | None = None, kind: str = "notice",
                 booking_id: int | None = None) -> None:
    """Queue an e-mail to an address and, when ``user`` (the address's account) is given, an inbox message."""
    if user is not None:
        inbox_notice(user, kind, title, body, booking_id=booking_id)
    with in_locale_of(user):
        subject = _subject(title)
    db.session.add(OutboxEmail(to_email=to_email, subject=subject, body=body))
    db.session.flush()


def _subject(title: str) -> str:
    return _("Onsite: %(title)s", title=title)[:200]


def _notify(user: User, kind: str, title: str, body: str, booking: Booking | None) -> None:
    """Queue an inbox message and an e-mail; `flask outbox send` delivers after the commit.

    Compose ``title`` and ``body`` inside ``with in_locale_of(user):`` so they read in the recipient's language.
    """
    _notify_all([(user, kind, title, body, booking)])


def _notify_all(messages: list[tuple[User, str, str, str, Booking | None]], *also) -> None:
    """Queue several messages in one statement: the inbox rows and ``also`` (more INSERTs, e.g. the booking's event)
    as data-modifying CTEs of the outbox rows' INSERT, so a booking's notices cost one round trip."""
    now = clock.now()
    inbox = insert(Notification).values([
        {"user_id": user.id, "kind": kind, "title": title[:200], "body": body,
         "booking_id": booking.id if booking else None, "created_at": now}
        for user, kind, title, body, booking in messages]).cte("queued_notifications")
    mails = []
    for user, _kind, title, body, _booking in messages:
        with in_locale_of(user):
            mails.append({"to_email": user.email, "subject": _subject(title), "body": body, "created_at": now,
                          "attempts": 0})
    ctes = [inbox, *(statement.cte(f"queued_{index}") for index, statement in enumerate(also))]
    db.session.execute(insert(OutboxEmail).values(mails).add_cte(*ctes))
