"""Conversation endpoints: list and start threads, read messages with a cursor, send, mark read, block a
store, report a message, a store's quick replies, and the live stream (Server-Sent Events)."""

from __future__ import annotations

import json

from apiflask import APIBlueprint, Schema
from apiflask.fields import Boolean, File, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range
from flask import Flask, Response, current_app, request

from app import clock
from app.auth.models import User
from app.auth.security import actor, api_auth
from app.conversations import services
from app.conversations.live import Listener, sse_events, sse_wakeups, store_channel
from app.conversations.models import BODY_MAX, MAX_MESSAGE_PHOTOS, Conversation, Message, ReportReason
from app.db import MAX_ID
from app.extensions import db, limiter

bp = APIBlueprint("conversations_api", __name__, url_prefix="/api/v1", tag="Conversations", cli_group="conversations")

ID = Range(1, MAX_ID)
WRITE_ERRORS = {401: "unauthenticated", 404: "not_found", 422: "validation_failed"}


def _sender() -> str:
    return f"conversation-sends:{actor().id if actor() else request.remote_addr}"


# One budget per sender across all threads (CONVERSATION_SENDS_PER_MINUTE, 30 unless configured).
sends_limit = limiter.shared_limit(
    lambda: current_app.config.get("CONVERSATION_SENDS_PER_MINUTE", "30 per minute"), scope="conversation-sends",
    key_func=_sender, methods=["POST"])


class StartIn(Schema):
    store_id = Integer(required=True, validate=ID)
    offering_id = Integer(validate=ID, metadata={"description": "The experience the resident asks about."})
    resident_id = Integer(validate=ID, metadata={
        "description": "Store side only: a resident who wrote to or booked with the store."})


class ListQuery(Schema):
    store_id = Integer(validate=ID, metadata={"description": "The inbox of a store you work at; else your own."})
    unanswered = Boolean(load_default=False, metadata={"description": "Only threads waiting for the store."})
    offering_id = Integer(validate=ID, metadata={"description": "Only threads about this experience."})


class MessagesQuery(Schema):
    since = Integer(load_default=0, validate=Range(0, MAX_ID), metadata={
        "description": "Cursor: only messages with a larger seq (the last seq you have)."})
    limit = Integer(load_default=50, validate=Range(1, services.PAGE_MAX))


class SendIn(Schema):
    body = String(required=True, validate=Length(max=BODY_MAX + 200), metadata={
        "description": f"1-{BODY_MAX} characters once trimmed, any language."})


class ReadIn(Schema):
    seq = Integer(required=True, validate=Range(0, MAX_ID), metadata={"description": "Read up to this seq."})


class MessageReportIn(Schema):
    reason = String(required=True, validate=OneOf([r.value for r in ReportReason]))
    note = String(load_default="", validate=Length(max=500))


class QuickReplyIn(Schema):
    title = String(required=True, validate=Length(max=80))
    body = String(required=True, validate=Length(max=BODY_MAX))


class ConversationOut(Schema):
    id = Integer()
    store_id = Integer()
    resident_id = Integer()
    offering_id = Integer(allow_none=True)
    booking_id = Integer(allow_none=True)
    side = String(metadata={"description": "resident or store: the side you speak for."})
    last_seq = Integer()
    unread = Integer()
    read_by_other = Integer(metadata={"description": "The other side's read mark (a seq)."})
    unanswered = Boolean()
    last_message_at = String(allow_none=True)


class ConversationItem(ConversationOut):
    """A thread in a list (its own class: the document registers each schema once)."""


class ConversationListOut(Schema):
    items = List(Nested(ConversationItem))


class MessagePhotoOut(Schema):
    url = String(metadata={"description": "The photo at its largest stored width."})
    thumb = String(metadata={"description": "A small version for the thread."})


class MessageOut(Schema):
    id = Integer()
    seq = Integer()
    sender_side = String()
    body = String()
    created_at = String()
    photos = List(Nested(MessagePhotoOut))


class PhotoMessageIn(Schema):
    body = String(required=True, validate=Length(max=BODY_MAX + 200), metadata={
        "description": f"1-{BODY_MAX} characters once trimmed, any language."})
    photos = List(File(), required=True, validate=Length(min=1, max=MAX_MESSAGE_PHOTOS), metadata={
        "description": "One to three JPEG, PNG or WebP images, re-encoded and stripped of metadata; only the "
                       "thread's two sides see them."})


class MessageItem(MessageOut):
    """A message in a page."""


class MessagePageOut(Schema):
    items = List(Nested(MessageItem))
    next_since = Integer(metadata={"description": "Pass as since= for the next page."})
    has_more = Boolean()


class MessageReportOut(Schema):
    id = Integer()
    message_id = Integer()
    reason = String()
    status = String()


class QuickReplyOut(Schema):
    id = Integer()
    title = String()
    body = String()


class QuickReplyItem(QuickReplyOut):
    """A saved answer in a list."""


class QuickReplyListOut(Schema):
    items = List(Nested(QuickReplyItem))


def conversation_json(conversation: Conversation) -> dict:
    side = services.side_of(actor(), conversation)
    other_read = conversation.store_read_seq if side == services.Side.RESIDENT else conversation.resident_read_seq
    return {
        "id": conversation.id, "store_id": conversation.store_id, "resident_id": conversation.resident_id,
        "offering_id": conversation.offering_id, "booking_id": conversation.booking_id, "side": side,
        "last_seq": conversation.last_seq, "unread": services.unread_for(side, conversation),
        "read_by_other": other_read, "unanswered": conversation.awaiting_since is not None,
        "last_message_at": conversation.last_message_at.isoformat() if conversation.last_message_at else None,
    }


def message_json(message: Message) -> dict:
    return {"id": message.id, "seq": message.seq, "sender_side": message.sender_side, "body": message.body,
            "created_at": message.created_at.isoformat(),
            "photos": [{"url": p.image.url(p.image.widths[-1]), "thumb": p.image.url(p.image.widths[0])}
                       for p in message.photos]}


@bp.get("/conversations")
@bp.auth_required(api_auth)
@bp.input(ListQuery, location="query", arg_name="query")
@bp.output(ConversationListOut)
@bp.doc(responses={401: "unauthenticated", 404: "not_found"})
def list_conversations(query):
    """Your threads, latest first; with store_id, that store's inbox (filters: unanswered, offering_id)."""
    if query.get("store_id"):
        items = services.store_inbox(actor(), query["store_id"], unanswered=query["unanswered"],
                                     offering_id=query.get("offering_id"))
    else:
        items = services.conversations_of_resident(actor())
    return {"items": [conversation_json(c) for c in items]}


@bp.post("/conversations")
@bp.auth_required(api_auth)
@bp.input(StartIn, arg_name="body")
@bp.output(ConversationOut, status_code=201)
@bp.doc(responses={**WRITE_ERRORS, 403: "forbidden (a store writing to someone who never wrote or booked)"})
def start(body):
    """Open a thread with a store (resident), or with a resident who wrote or booked (store, with resident_id)."""
    if body.get("resident_id"):
        conversation = services.start_with_resident(actor(), body["store_id"], body["resident_id"], clock.now())
    else:
        conversation = services.start_enquiry(actor(), body["store_id"], clock.now(), body.get("offering_id"))
    db.session.commit()
    return conversation_json(conversation), 201


@bp.post("/bookings/<int:booking_id>/conversation")
@bp.auth_required(api_auth)
@bp.output(ConversationOut)
@bp.doc(responses={401: "unauthenticated", 404: "not_found"})
def booking_conversation(booking_id: int):
    """The booking's own thread (opened on first use), for its resident and the store's people."""
    conversation = services.booking_thread(actor(), booking_id, clock.now())
    db.session.commit()
    return conversation_json(conversation)


@bp.get("/conversations/<int:conversation_id>")
@bp.auth_required(api_auth)
@bp.output(ConversationOut)
@bp.doc(responses={401: "unauthenticated", 404: "not_found"})
def get_conversation(conversation_id: int):
    """One thread: its read marks and unread count (the other resident, other stores: 404)."""
    return conversation_json(services.get_conversation(actor(), conversation_id))


@bp.get("/conversations/<int:conversation_id>/messages")
@bp.auth_required(api_auth)
@bp.input(MessagesQuery, location="query", arg_name="query")
@bp.output(MessagePageOut)
@bp.doc(responses={401: "unauthenticated", 404: "not_found"})
def messages(conversation_id: int, query):
    """Messages after the cursor ``since`` (a seq), oldest first: the stream's polling fallback."""
    items = services.messages_after(actor(), conversation_id, query["since"], query["limit"] + 1)
    more = len(items) > query["limit"]
    items = items[:query["limit"]]
    return {"items": [message_json(m) for m in items], "next_since": items[-1].seq if items else query["since"],
            "has_more": more}


@bp.post("/conversations/<int:conversation_id>/messages")
@bp.auth_required(api_auth)
@bp.input(SendIn, arg_name="body")
@bp.output(MessageOut, status_code=201)
@bp.doc(responses={**WRITE_ERRORS, 403: "forbidden (the resident blocked the store)", 429: "rate_limited"})
@sends_limit
def send(conversation_id: int, body):
    """Send a message; the other side's open streams show it as soon as it commits."""
    message = services.send_message(actor(), conversation_id, body["body"], clock.now())
    db.session.commit()
    return message_json(message), 201


@bp.post("/conversations/<int:conversation_id>/photo-messages")
@bp.auth_required(api_auth)
@bp.input(PhotoMessageIn, location="form_and_files", arg_name="body")
@bp.output(MessageOut, status_code=201)
@bp.doc(responses={**WRITE_ERRORS, 403: "forbidden (the resident blocked the store)", 413: "image_too_large",
                   422: "image_unreadable, image_too_many_pixels or validation_failed", 429: "rate_limited"})
@sends_limit
def send_photo_message(conversation_id: int, body):
    """Send a message with photos (multipart/form-data: `body`, and `photos` repeated up to 3 times)."""
    uploads = [(upload.filename or "", upload.stream.read()) for upload in body["photos"]]
    message = services.send_message(actor(), conversation_id, body["body"], clock.now(), uploads)
    db.session.commit()
    return message_json(message), 201


@bp.post("/conversations/<int:conversation_id>/read")
@bp.auth_required(api_auth)
@bp.input(ReadIn, arg_name="body")
@bp.output(ConversationOut)
@bp.doc(responses=WRITE_ERRORS)
def read(conversation_id: int, body):
    """Mark your side's messages read up to ``seq`` (never moves back)."""
    conversation = services.mark_read(actor(), conversation_id, body["seq"])
    db.session.commit()
    return conversation_json(conversation)


@bp.post("/stores/<int:store_id>/block")
@bp.auth_required(api_auth)
@bp.output({}, status_code=204)
@bp.doc(responses={401: "unauthenticated", 404: "not_found"})
def block(store_id: int):
    """Stop receiving this store's messages."""
    services.block_store(actor(), store_id, clock.now())
    db.session.commit()
    return ""


@bp.delete("/stores/<int:store_id>/block")
@bp.auth_required(api_auth)
@bp.output({}, status_code=204)
@bp.doc(responses={401: "unauthenticated"})
def unblock(store_id: int):
    """Receive this store's messages again."""
    services.unblock_store(actor(), store_id)
    db.session.commit()
    return ""


@bp.post("/messages/<int:message_id>/report")
@bp.auth_required(api_auth)
@bp.input(MessageReportIn, arg_name="body")
@bp.output(MessageReportOut, status_code=201)
@bp.doc(responses=WRITE_ERRORS)
def report(message_id: int, body):
    """Report a message you received to the operator's queue: spam, abuse, scam or other."""
    done = services.report_message(actor(), message_id, body["reason"], clock.now(), body["note"])
    db.session.commit()
    return {"id": done.id, "message_id": done.message_id, "reason": done.reason, "status": done.status}, 201


@bp.get("/stores/<int:store_id>/quick-replies")
@bp.auth_required(api_auth)
@bp.output(QuickReplyListOut)
@bp.doc(responses={401: "unauthenticated", 404: "not_found"})
def quick_replies(store_id: int):
    """The store's saved answers (its owner and staff)."""
    return {"items": [{"id": r.id, "title": r.title, "body": r.body}
                      for r in services.quick_replies_of(actor(), store_id)]}


@bp.post("/stores/<int:store_id>/quick-replies")
@bp.auth_required(api_auth)
@bp.input(QuickReplyIn, arg_name="body")
@bp.output(QuickReplyOut, status_code=201)
@bp.doc(responses=WRITE_ERRORS)
def save_quick_reply(store_id: int, body):
    """Save an answer for the store's inbox."""
    reply = services.save_quick_reply(actor(), store_id, body["title"], body["body"], clock.now())
    db.session.commit()
    return {"id": reply.id, "title": reply.title, "body": reply.body}, 201


@bp.delete("/quick-replies/<int:reply_id>")
@bp.auth_required(api_auth)
@bp.output({}, status_code=204)
@bp.doc(responses={401: "unauthenticated", 404: "not_found"})
def delete_quick_reply(reply_id: int):
    """Forget one of your store's saved answers."""
    services.delete_quick_reply(actor(), reply_id)
    db.session.commit()
    return ""


def listener(app: Flask) -> Listener:
    """This process's one LISTEN connection (started on the first stream)."""
    found = app.extensions.get("conversations_listener")
    if found is None:
        dsn = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        found = app.extensions.setdefault("conversations_listener", Listener(dsn))
    return found


def _cursor() -> int:
    raw = request.headers.get("Last-Event-ID") or request.args.get("since") or "0"
    return int(raw) if raw.isdigit() and int(raw) <= MAX_ID else 0


@bp.get("/conversations/<int:conversation_id>/stream")
@bp.auth_required(api_auth)
@bp.doc(responses={200: "text/event-stream: `id: <seq>` / `event: message` / `data: <Message JSON>`; "
                   "`: keep-alive` comments; ends after 5 minutes (reconnect with Last-Event-ID)",
                   401: "unauthenticated", 404: "not_found"})
def stream(conversation_id: int):
    """Live messages (Server-Sent Events): first every message after Last-Event-ID (or ?since=), then live."""
    services.get_conversation(actor(), conversation_id)
    app, user_id, since = current_app._get_current_object(), actor().id, _cursor()
    db.session.remove()  # hand the request's connection back: a stream must not hold one while it waits

    def read_after(seq: int) -> list[tuple[int, str]]:
        with app.app_context():
            user = db.session.get(User, user_id)
            return [(m.seq, json.dumps(message_json(m))) for m in services.messages_after(user, conversation_id, seq,
                                                                                         services.PAGE_MAX)]

    events = sse_events(listener(app), conversation_id, since, read_after,
                        keepalive=app.config.get("CONVERSATION_KEEPALIVE_SECONDS", 15),
                        lifetime=app.config.get("CONVERSATION_STREAM_SECONDS", 300))
    return Response(events, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@bp.get("/stores/<int:store_id>/conversations/stream")
@bp.auth_required(api_auth)
@bp.doc(responses={200: "text/event-stream: `event: changed` whenever a message is sent in any of the store's "
                   "threads (read the inbox again); `: keep-alive` comments; ends after 5 minutes",
                   401: "unauthenticated", 404: "not_found"})
def store_stream(store_id: int):
    """The store inbox, live (its owner and staff): an event each time one of its threads gets a message."""
    services.store_of_inbox(actor(), store_id)
    app = current_app._get_current_object()
    db.session.remove()  # a stream must not hold a database connection while it waits
    events = sse_wakeups(listener(app), store_channel(store_id),
                         keepalive=app.config.get("CONVERSATION_KEEPALIVE_SECONDS", 15),
                         lifetime=app.config.get("CONVERSATION_STREAM_SECONDS", 300))
    return Response(events, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@bp.cli.command("reports")
def list_reports() -> None:
    """The operator's queue of reported messages, oldest first (flask conversations reports)."""
    for report in services.open_reports():
        message = db.session.get(Message, report.message_id)
        print(f"#{report.id} {report.created_at:%Y-%m-%d %H:%M} {report.reason:<6} conversation "
              f"{message.conversation_id} seq {message.seq} ({message.sender_side}): {message.body[:80]!r}"
              + (f" note: {report.note!r}" if report.note else ""))
