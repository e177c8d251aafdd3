"""Notices: inbox messages and queued e-mails, written in the transaction and sent after the commit."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, select, update

from app.auth.models import User
from app.extensions import db
from bookings.models import Booking, Notification, OutboxEmail, Slot


def notifications_of(actor: User, limit: int = 50) -> list[Notification]:
    return list(db.session.scalars(select(Notification).where(Notification.user_id == actor.id)
                                   .order_by(Notification.id.desc()).limit(limit)))


def mark_notifications_read(actor: User, now: datetime) -> int:
    return db.session.execute(update(Notification).where(Notification.user_id == actor.id,
                                                         Notification.read_at.is_(None)).values(read_at=now)).rowcount


def unread_count(actor: User) -> int:
    return db.session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == actor.id, Notification.read_at.is_(None))) or 0


def _local_slot(slot: Slot) -> str:
    local = slot.starts_at.astimezone(ZoneInfo(slot.offering.store.timezone))
    return local.strftime("%a %d %b %Y, %H:%M")


def _local(booking: Booking) -> str:
    return _local_slot(booking.slot)


def notify_account(user: User, kind: str, title: str, body: str) -> None:
    """Queue an inbox message and an e-mail about the account itself (a lock, a sign-up attempt, …)."""
    _notify(user, kind, title, body, None)


def queue_notice(to_email: str, title: str, body: str, *, user: User | None = None, kind: str = "notice") -> None:
    """Queue an e-mail to an address and, when ``user`` (the address's account) is given, an inbox message."""
    if user is not None:
        db.session.add(Notification(user_id=user.id, kind=kind, title=title[:200], body=body))
    db.session.add(OutboxEmail(to_email=to_email, subject=f"Onsite: {title}"[:200], body=body))
    db.session.flush()


def _notify(user: User, kind: str, title: str, body: str, booking: Booking | None) -> None:
    """Queue an inbox message and an e-mail; `flask outbox send` delivers after the commit."""
    _notify_all([(user, kind, title, body, booking)])


def _notify_all(messages: list[tuple[User, str, str, str, Booking | None]]) -> None:
    """Queue several messages in two statements (inbox rows, then outbox rows)."""
    db.session.execute(insert(Notification), [
        {"user_id": user.id, "kind": kind, "title": title[:200], "body": body,
         "booking_id": booking.id if booking else None} for user, kind, title, body, booking in messages])
    db.session.execute(insert(OutboxEmail), [
        {"to_email": user.email, "subject": f"Onsite: {title}"[:200], "body": body}
        for user, _kind, title, body, _booking in messages])
