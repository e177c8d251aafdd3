"""Notices: inbox messages and queued e-mails, written in the transaction and sent after the commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from psycopg.types.json import Jsonb
from sqlalchemy import CTE, Insert, Select, func, insert, literal, select, union_all, update

from app import clock, statements
from app.auth.models import User
from app.extensions import db
from app.i18n import format_when, in_locale_of
from app.merchants.models import Store
from app.statements import Numbered, numbered, typed
from bookings.models import Booking, BookingEvent, Notification, OutboxEmail, Slot

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


_QUEUE_SQL: dict[tuple[int, bool], Numbered] = {}
_NOTICE_COLUMNS = ("user_id", "kind", "title", "body", "booking_id", "created_at")
_EMAIL_COLUMNS = ("to_email", "subject", "body", "created_at", "attempts")
_EVENT_COLUMNS = ("booking_id", "actor_id", "from_status", "to_status", "reason", "data", "created_at")


def queue_parts(count: int, with_event: bool, booked: CTE | None = None) -> tuple[list[CTE], Insert]:
    """The inserts that queue ``count`` inbox rows and e-mails (and a booking's audit event) in one statement: the
    inbox rows and the event as data-modifying CTEs, and the outbox INSERT (the caller runs it, or makes it a CTE).

    With ``booked`` (a CTE returning the ``id`` of the booking the same statement inserts) the rows are about that
    booking and none is written when it returns no row; without it ``booking_{i}`` and ``event_booking`` name it.
    """
    def rows(selects: list[Select]) -> Select:
        selects = [part.select_from(booked) if booked is not None else part for part in selects]
        return selects[0] if len(selects) == 1 else union_all(*selects)

    notice, email, event = Notification.__table__.c, OutboxEmail.__table__.c, BookingEvent.__table__.c
    about = (lambda name: booked.c.id) if booked is not None else (lambda name: typed(name, notice.booking_id))
    ctes = [insert(Notification).from_select(_NOTICE_COLUMNS, rows([select(
        typed(f"user_{i}", notice.user_id), typed(f"kind_{i}", notice.kind), typed(f"title_{i}", notice.title),
        typed(f"body_{i}", notice.body), about(f"booking_{i}"), typed("now", notice.created_at))
        for i in range(count)])).cte("queued_notifications")]
    if with_event:
        ctes.append(insert(BookingEvent).from_select(_EVENT_COLUMNS, rows([select(
            about("event_booking"), typed("event_actor", event.actor_id), typed("event_from", event.from_status),
            typed("event_to", event.to_status), typed("event_reason", event.reason), typed("event_data", event.data),
            typed("now", event.created_at))])).cte("queued_event"))
    outbox = insert(OutboxEmail).from_select(_EMAIL_COLUMNS, rows([select(
        typed(f"email_{i}", email.to_email), typed(f"subject_{i}", email.subject), typed(f"mail_{i}", email.body),
        typed("now", email.created_at), literal(0, email.attempts.type)) for i in range(count)]))
    return ctes, outbox


def _queue_sql(count: int, with_event: bool) -> Numbered:
    """``queue_parts`` as one statement, compiled once per shape (a multi-row INSERT is never in SQLAlchemy's cache)."""
    if (count, with_event) not in _QUEUE_SQL:
        ctes, outbox = queue_parts(count, with_event)
        _QUEUE_SQL[count, with_event] = numbered(outbox.add_cte(*ctes))
    return _QUEUE_SQL[count, with_event]


def queue_values(messages: list[tuple[Any, str, str, str, Booking | None]], event: dict[str, Any] | None = None
                 ) -> dict[str, Any]:
    """``queue_parts``' values for the messages (recipient, kind, title, body, booking), each recipient having
    ``id``, ``email`` and ``locale``, and the event (``records.event_values``)."""
    params: dict[str, Any] = {"now": clock.now()}
    for i, (user, kind, title, body, booking) in enumerate(messages):
        with in_locale_of(user):
            subject = _subject(title)
        params.update({f"user_{i}": user.id, f"kind_{i}": kind, f"title_{i}": title[:200], f"body_{i}": body,
                       f"booking_{i}": booking.id if booking else None, f"email_{i}": user.email,
                       f"subject_{i}": subject, f"mail_{i}": body})
    if event is not None:
        params.update({f"event_{key}": value for key, value in event.items()}, event_data=Jsonb(event["data"]))
    return params


def _notify_all(messages: list[tuple[User, str, str, str, Booking | None]], event: dict[str, Any] | None = None
                ) -> None:
    """Queue several messages, and a booking's audit event (``records.event_values``), in one round trip."""
    statement = _queue_sql(len(messages), event is not None)
    statements.in_session(statement.sql, statement.values(queue_values(messages, event)))
