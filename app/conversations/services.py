"""The verbs of conversations: start a thread, send, read, mark read, block, report, quick replies,
and the store's first-response time (which the integrity score may read)."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import BinaryIO

from flask_babel import gettext as _
from sqlalchemy import exists, func, select, text, update
from sqlalchemy.exc import IntegrityError

from app import clock
from app.auth.models import User
from app.conversations.live import CHANNEL  # payload {"c": conversation, "s": seq, "store", "resident"}
from app.conversations.models import (
    BODY_MAX,
    MAX_MESSAGE_PHOTOS,
    Block,
    Conversation,
    Message,
    MessagePhoto,
    MessageReport,
    QuickReply,
    ReportReason,
    Side,
)
from app.errors import NotFound, PermissionDenied, ValidationFailed
from app.extensions import db
from app.i18n import in_locale_of
from app.media.services import store_uploads
from app.merchants.models import Store, StoreStaff
from app.merchants.services import can_view_store_private, get_store
from app.offerings.services import get_offering
from bookings.models import Booking, Notification
from bookings.services import get_booking, inbox_notice, queue_notice

PAGE_MAX = 100
DIGEST_AFTER = timedelta(minutes=15)
RESPONSE_WINDOW = timedelta(days=30)


# -- access -------------------------------------------------------------------------------------------

def side_of(actor: User | None, conversation: Conversation) -> Side | None:
    """Which side of the thread the actor speaks for, or None for anyone else."""
    if actor is None:
        return None
    if conversation.resident_id == actor.id:
        return Side.RESIDENT
    if works_at(actor, conversation.store):
        return Side.STORE
    return None  # the operator included: an admin reads a thread only when a report cites it


def works_at(actor: User | None, store: Store) -> bool:
    """The store's owner or staff (not an admin: conversations are private to the two sides)."""
    return actor is not None and (store.business.owner_id == actor.id or db.session.scalar(select(
        StoreStaff.id).where(StoreStaff.store_id == store.id, StoreStaff.user_id == actor.id)) is not None)


def get_conversation(actor: User | None, conversation_id: int, *, operator: bool = False) -> Conversation:
    """Return a thread its resident or the store's people may see (with ``operator``, an admin when reported).

    :raises NotFound: for anyone else (whether or not it exists).
    """
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound(_("No such conversation."))
    if side_of(actor, conversation) is None and not (operator and actor is not None and actor.is_admin and _reported(
            conversation.id)):
        raise NotFound(_("No such conversation."))
    return conversation


def _reported(conversation_id: int) -> bool:
    return db.session.scalar(select(MessageReport.id).join(Message, Message.id == MessageReport.message_id)
                             .where(Message.conversation_id == conversation_id).limit(1)) is not None


def _side(actor: User, conversation: Conversation) -> Side:
    side = side_of(actor, conversation)
    if side is None:
        raise NotFound(_("No such conversation."))
    return side


# -- starting threads ---------------------------------------------------------------------------------

def _get_or_create(now: datetime, where, **values) -> Conversation:
    """The thread matching ``where``, created with ``values`` when missing (a concurrent creator wins)."""
    found = db.session.scalar(select(Conversation).where(*where))
    if found is not None:
        return found
    try:
        with db.session.begin_nested():
            conversation = Conversation(created_at=now, **values)
            db.session.add(conversation)
    except IntegrityError:
        return db.session.scalars(select(Conversation).where(*where)).one()
    return conversation


def start_enquiry(actor: User, store_id: int, now: datetime, offering_id: int | None = None) -> Conversation:
    """Open (or reopen) a resident's thread with a store, about one of its experiences if given.

    :raises NotFound: when the store or experience is hidden from the actor.
    :raises PermissionDenied: when the actor works at the store (a store does not ask itself).
    """
    store = get_store(actor, store_id)
    if offering_id is not None:
        offering = get_offering(actor, offering_id)
        if offering.store_id != store.id:
            raise NotFound(_("No such experience."))
    if can_view_store_private(actor, store):
        raise PermissionDenied(_("You cannot start a conversation with your own store."))
    offering_match = (Conversation.offering_id.is_(None) if offering_id is None
                      else Conversation.offering_id == offering_id)
    return _get_or_create(
        now, (Conversation.store_id == store.id, Conversation.resident_id == actor.id,
              Conversation.booking_id.is_(None), offering_match),
        store_id=store.id, resident_id=actor.id, offering_id=offering_id)


def booking_thread(actor: User, booking_id: int, now: datetime) -> Conversation:
    """The thread of one booking, opened by its resident or the store's people.

    :raises NotFound: when the booking is hidden from the actor.
    """
    booking = get_booking(actor, booking_id)
    if booking.resident_id != actor.id and not works_at(actor, booking.store):
        raise NotFound(_("No such booking."))  # the operator sees bookings, not their conversations
    return _get_or_create(now, (Conversation.booking_id == booking.id,), store_id=booking.store_id,
                          resident_id=booking.resident_id, offering_id=booking.offering_id, booking_id=booking.id)


def start_with_resident(actor: User, store_id: int, resident_id: int, now: datetime) -> Conversation:
    """A store opens a thread with a resident who wrote to it or booked with it, never anyone else.

    :raises NotFound: when the store is not the actor's to work at.
    :raises PermissionDenied: when the resident never wrote to nor booked with the store.
    """
    store = store_of_inbox(actor, store_id)
    wrote = exists().where(Message.conversation_id == Conversation.id, Message.sender_side == Side.RESIDENT)
    existing = db.session.scalar(
        select(Conversation).where(Conversation.store_id == store.id, Conversation.resident_id == resident_id, wrote)
        .order_by(Conversation.last_message_at.desc().nulls_last()).limit(1))
    if existing is not None:
        return existing
    booked = db.session.scalar(select(Booking.id).where(Booking.store_id == store.id,
                                                        Booking.resident_id == resident_id).limit(1))
    if booked is None:
        raise PermissionDenied(_("You can only write to people who wrote to or booked with your store."))
    return _get_or_create(
        now, (Conversation.store_id == store.id, Conversation.resident_id == resident_id,
              Conversation.booking_id.is_(None), Conversation.offering_id.is_(None)),
        store_id=store.id, resident_id=resident_id)


# -- messages -----------------------------------------------------------------------------------------

def is_blocked(resident_id: int, store_id: int) -> bool:
    return db.session.get(Block, (resident_id, store_id)) is not None


def send_message(actor: User, conversation_id: int, body: str, now: datetime,
                 photos: Sequence[tuple[str, bytes | BinaryIO]] = ()) -> Message:
    """Append a message to a thread, with up to 3 photos (re-encoded like every upload), and announce it
    (NOTIFY fires only when the transaction commits).

    :raises NotFound: when the thread is hidden from the actor.
    :raises ValidationFailed: when the text is empty or longer than 2,000 characters, for more than 3 photos,
        or a photo refused (``image_*``).
    :raises PermissionDenied: when the store writes to a resident who blocked it.
    """
    conversation = get_conversation(actor, conversation_id)
    side = _side(actor, conversation)
    body = (body or "").strip()
    errors = {}
    if not body or len(body) > BODY_MAX:
        errors["body"] = [_("Write between 1 and %(max)d characters.", max=BODY_MAX)]
    if len(photos) > MAX_MESSAGE_PHOTOS:
        errors["photos"] = [_("at most %(most)d photos.", most=MAX_MESSAGE_PHOTOS)]
    if errors:
        raise ValidationFailed(details=errors)
    if side == Side.STORE and is_blocked(conversation.resident_id, conversation.store_id):
        raise PermissionDenied(_("This person does not receive messages from your store."))
    images = store_uploads(photos, uploaded_by=actor)
    # The row lock taken here is held until commit: concurrent sends queue and number in commit order.
    seq = db.session.execute(
        update(Conversation).where(Conversation.id == conversation.id)
        .values(last_seq=Conversation.last_seq + 1, last_message_at=now)
        .returning(Conversation.last_seq)).scalar_one()
    db.session.refresh(conversation)
    message = Message(conversation_id=conversation.id, seq=seq, sender_id=actor.id, sender_side=side,
                      body=body, created_at=now,
                      photos=[MessagePhoto(image_id=image.id, position=i) for i, image in enumerate(images)])
    db.session.add(message)
    if side == Side.RESIDENT:
        conversation.resident_read_seq = seq
        if conversation.awaiting_since is None:
            conversation.awaiting_since = now
    else:
        conversation.store_read_seq = seq
        if conversation.awaiting_since is not None:
            if conversation.first_response_at is None:
                conversation.first_response_at = now
                conversation.first_response_seconds = max(0, int((now - conversation.awaiting_since).total_seconds()))
            conversation.awaiting_since = None
    db.session.flush()
    _notice_other_side(conversation, side, now)
    payload = json.dumps({"c": conversation.id, "s": seq, "store": conversation.store_id,
                          "resident": conversation.resident_id})
    db.session.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload})
    return message


NOTICE_KIND = "message"
MAILED_KIND = "message_mailed"  # the same unread notice once the e-mail digest has listed its thread


def thread_link(conversation_id: int) -> str:
    return f"/conversations/{conversation_id}"


def _unread_notices(user_ids: list[int], conversation_id: int) -> tuple:
    """Conditions on Notification: these users' unread message notices about the thread (its link ends them)."""
    return (Notification.user_id.in_(user_ids), Notification.kind.in_((NOTICE_KIND, MAILED_KIND)),
            Notification.read_at.is_(None),
            Notification.body.endswith("\n" + thread_link(conversation_id), autoescape=True))


def _readers(conversation: Conversation, side: Side) -> list[User]:
    """Who reads the thread for ``side``: the resident, or the store's owner and staff."""
    if side == Side.RESIDENT:
        return [db.session.get(User, conversation.resident_id)]
    staff = db.session.scalars(select(User).join(StoreStaff, StoreStaff.user_id == User.id)
                               .where(StoreStaff.store_id == conversation.store_id)).all()
    return [conversation.store.business.owner, *(u for u in staff if u.id != conversation.store.business.owner_id)]


def _notice_other_side(conversation: Conversation, sender: Side, now: datetime) -> None:
    """One unread inbox notice per thread and reader, with the thread's address on its last line.

    A reader who has not yet opened the notice about this thread gets no second one.
    """
    link = thread_link(conversation.id)
    to_side = Side.STORE if sender == Side.RESIDENT else Side.RESIDENT
    readers = _readers(conversation, to_side)
    waiting = set(db.session.scalars(select(Notification.user_id).where(
        *_unread_notices([u.id for u in readers], conversation.id))))
    name = (conversation.store.name if sender == Side.STORE
            else db.session.get(User, conversation.resident_id).display_name)
    for reader in readers:
        if reader.id in waiting:
            continue
        with in_locale_of(reader):
            title = _("New message from %(name)s", name=name)
            body = _("You have a new message. Open the conversation to read and reply:") + "\n" + link
        inbox_notice(reader, NOTICE_KIND, title, body, created_at=now)


def digest_unread(now: datetime, limit: int = 500) -> int:
    """E-mail each reader ONE list of the threads whose message notice has waited unread over 15 minutes.

    The notices listed become ``message_mailed`` (still unread in the inbox), so no thread is mailed twice for
    the same unread messages; threads the reader's side has read meanwhile are left out and marked too.
    Notices are claimed with ``FOR UPDATE SKIP LOCKED``, so overlapping runs mail no one twice. Returns
    how many e-mails were queued.
    """
    due = db.session.scalars(
        select(Notification).where(Notification.kind == NOTICE_KIND, Notification.read_at.is_(None),
                                   Notification.created_at <= now - DIGEST_AFTER)
        .order_by(Notification.user_id, Notification.id).limit(limit).with_for_update(skip_locked=True)).all()
    by_reader: dict[int, list[Notification]] = {}
    for notice in due:
        notice.kind = MAILED_KIND
        conversation = db.session.get(Conversation, int(notice.body.rsplit("/", 1)[1]))
        reader = db.session.get(User, notice.user_id)
        side = side_of(reader, conversation) if conversation is not None else None
        if side is not None and unread_for(side, conversation) > 0:
            by_reader.setdefault(reader.id, []).append(notice)
    for reader_id, notices in by_reader.items():
        reader = db.session.get(User, reader_id)
        lines = [f"- {n.title}: {n.body.rsplit(chr(10), 1)[1]}" for n in notices]
        with in_locale_of(reader):
            title = _("You have unread messages")
            body = _("These conversations have messages waiting for you:") + "\n" + "\n".join(lines)
        queue_notice(reader.email, title, body)
    db.session.flush()
    return len(by_reader)


def messages_after(actor: User, conversation_id: int, since: int = 0, limit: int = 50) -> list[Message]:
    """The thread's messages after ``since`` (a seq), oldest first, at most ``limit`` (capped at 100).

    :raises NotFound: when the thread is hidden from the actor.
    """
    conversation = get_conversation(actor, conversation_id, operator=True)
    limit = max(1, min(int(limit), PAGE_MAX))
    return list(db.session.scalars(
        select(Message).where(Message.conversation_id == conversation.id, Message.seq > max(0, int(since)))
        .order_by(Message.seq).limit(limit)))


def mark_read(actor: User, conversation_id: int, seq: int) -> Conversation:
    """Record that the actor's side has read up to ``seq`` (never moves back, never past the last message).

    :raises NotFound: when the thread is hidden from the actor.
    """
    conversation = get_conversation(actor, conversation_id)
    seq = max(0, min(int(seq), conversation.last_seq))
    column = "resident_read_seq" if _side(actor, conversation) == Side.RESIDENT else "store_read_seq"
    db.session.execute(update(Conversation).where(Conversation.id == conversation.id)
                       .values({column: func.greatest(getattr(Conversation, column), seq)}))
    db.session.refresh(conversation)
    if unread_for(_side(actor, conversation), conversation) == 0:  # caught up: the thread's notice is read too
        db.session.execute(update(Notification).where(*_unread_notices([actor.id], conversation.id))
                           .values(read_at=clock.now()))
    return conversation


def unread_for(side: Side, conversation: Conversation) -> int:
    read = conversation.resident_read_seq if side == Side.RESIDENT else conversation.store_read_seq
    return max(0, conversation.last_seq - read)


# -- listings -----------------------------------------------------------------------------------------

def conversations_of_resident(actor: User, limit: int = 100) -> list[Conversation]:
    """The resident's threads that have messages, latest first."""
    return list(db.session.scalars(
        select(Conversation).where(Conversation.resident_id == actor.id, Conversation.last_seq > 0)
        .order_by(Conversation.last_message_at.desc()).limit(limit)))


def store_inbox(actor: User, store_id: int, *, unanswered: bool = False, offering_id: int | None = None,
                booking_day=None, limit: int = 100) -> list[Conversation]:
    """A store's threads with messages, latest first, optionally only unanswered / one experience / one day.

    :raises NotFound: when the store is not the actor's to work at.
    """
    store = store_of_inbox(actor, store_id)
    query = select(Conversation).where(Conversation.store_id == store.id, Conversation.last_seq > 0)
    if unanswered:
        query = query.where(Conversation.awaiting_since.is_not(None))
    if offering_id is not None:
        query = query.where(Conversation.offering_id == offering_id)
    if booking_day is not None:
        query = query.join(Booking, Booking.id == Conversation.booking_id).where(
            func.date(func.timezone(store.timezone, Booking.starts_at)) == booking_day)
    return list(db.session.scalars(query.order_by(Conversation.last_message_at.desc()).limit(limit)))


# -- safety -------------------------------------------------------------------------------------------

def block_store(actor: User, store_id: int, now: datetime) -> Block:
    """The resident stops receiving the store's messages (idempotent).

    :raises NotFound: when the store does not exist.
    """
    store = db.session.get(Store, store_id)
    if store is None:
        raise NotFound(_("No such store."))
    block = db.session.get(Block, (actor.id, store.id))
    if block is None:
        block = Block(resident_id=actor.id, store_id=store.id, created_at=now)
        db.session.add(block)
        db.session.flush()
    return block


def unblock_store(actor: User, store_id: int) -> None:
    """Receive the store's messages again."""
    block = db.session.get(Block, (actor.id, store_id))
    if block is not None:
        db.session.delete(block)
        db.session.flush()


def report_message(actor: User, message_id: int, reason: str, now: datetime, note: str = "") -> MessageReport:
    """Send a message the actor received to the operator's queue (once per reporter).

    :raises NotFound: when the message's thread is hidden from the actor.
    :raises ValidationFailed: for an unknown reason or an own message.
    """
    message = db.session.get(Message, message_id)
    if message is None:
        raise NotFound(_("No such message."))
    conversation = get_conversation(actor, message.conversation_id)
    if reason not in set(ReportReason):
        raise ValidationFailed(details={"reason": [_("Choose one of the listed reasons.")]})
    if message.sender_side == _side(actor, conversation):
        raise ValidationFailed(details={"message_id": [_("You can only report messages you received.")]})
    report = db.session.scalar(select(MessageReport).where(MessageReport.message_id == message.id,
                                                           MessageReport.reporter_id == actor.id))
    if report is None:
        report = MessageReport(message_id=message.id, reporter_id=actor.id, reason=reason,
                               note=(note or "")[:500], created_at=now)
        db.session.add(report)
        db.session.flush()
    return report


def open_reports(limit: int = 100) -> list[MessageReport]:
    """The operator's queue: open reports, oldest first."""
    return list(db.session.scalars(select(MessageReport).where(MessageReport.status == "open")
                                   .order_by(MessageReport.created_at).limit(limit)))


# -- quick replies ------------------------------------------------------------------------------------

def store_of_inbox(actor: User, store_id: int) -> Store:
    """The store whose inbox the actor works at.

    :raises NotFound: when there is no such store or the actor does not work there.
    """
    store = db.session.get(Store, store_id) if 0 < store_id < 2**31 else None
    if store is None or not works_at(actor, store):
        raise NotFound(_("No such store."))
    return store



def save_quick_reply(actor: User, store_id: int, title: str, body: str, now: datetime) -> QuickReply:
    """Save an answer the store's people can send with one click.

    :raises NotFound: when the store is not the actor's to work at.
    :raises ValidationFailed: for an empty title or text, or text over 2,000 characters.
    """
    store = store_of_inbox(actor, store_id)
    title, body = (title or "").strip(), (body or "").strip()
    errors = {}
    if not title or len(title) > 80:
        errors["title"] = [_("Write between 1 and %(max)d characters.", max=80)]
    if not body or len(body) > BODY_MAX:
        errors["body"] = [_("Write between 1 and %(max)d characters.", max=BODY_MAX)]
    if errors:
        raise ValidationFailed(details=errors)
    reply = QuickReply(store_id=store.id, title=title, body=body, created_at=now)
    db.session.add(reply)
    db.session.flush()
    return reply


def quick_replies_of(actor: User, store_id: int) -> list[QuickReply]:
    """The store's saved answers.

    :raises NotFound: when the store is not the actor's to work at.
    """
    store = store_of_inbox(actor, store_id)
    return list(db.session.scalars(select(QuickReply).where(QuickReply.store_id == store.id)
                                   .order_by(QuickReply.title)))


def delete_quick_reply(actor: User, reply_id: int) -> int:
    """Forget a saved answer; return its store's id.

    :raises NotFound: when it is not one of the actor's stores'.
    """
    reply = db.session.get(QuickReply, reply_id) if 0 < reply_id < 2**31 else None
    if reply is None:
        raise NotFound(_("No such quick reply."))
    store_of_inbox(actor, reply.store_id)
    db.session.delete(reply)
    db.session.flush()
    return reply.store_id


# -- response time (read by the integrity score) ------------------------------------------------------

def median_first_response_seconds(store_id: int, now: datetime, window: timedelta = RESPONSE_WINDOW) -> int | None:
    """The store's median time to its first reply, over threads first answered in the last 30 days.

    Threads still waiting longer than the window are not counted; None when there is nothing to measure.
    """
    values = list(db.session.scalars(
        select(Conversation.first_response_seconds).where(
            Conversation.store_id == store_id, Conversation.first_response_at.is_not(None),
            Conversation.first_response_at > now - window, Conversation.first_response_at <= now)))
    if not values:
        return None
    return int(statistics.median(values))


def unanswered_count(store_id: int) -> int:
    """How many of the store's threads wait for its reply."""
    return db.session.scalar(select(func.count()).select_from(Conversation).where(
        Conversation.store_id == store_id, Conversation.awaiting_since.is_not(None))) or 0

