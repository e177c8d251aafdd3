"""Conversation pages: a thread (live), the resident's Messages, a store's inbox, "Ask the shop"."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from app import clock
from app.conversations import services
from app.errors import ValidationFailed
from app.extensions import db
from app.merchants.models import Store
from app.offerings.services import get_offering, offerings_of_store

bp = Blueprint("conversations", __name__)


@bp.get("/conversations")
@login_required
def inbox():
    threads = services.conversations_of_resident(current_user)
    return render_template("conversations/inbox.html", threads=threads, side=services.Side.RESIDENT,
                           unread=services.unread_for, store=None)


@bp.get("/merchant/stores/<int:store_id>/conversations")
@login_required
def store_inbox(store_id: int):
    unanswered = request.args.get("unanswered") == "1"
    offering_id = request.args.get("offering_id", type=int)
    day, day_error = request.args.get("day", ""), None
    try:
        booking_day = date.fromisoformat(day) if day else None
    except ValueError:
        booking_day, day_error = None, _("Enter a date like 2030-03-05.")
    threads = services.store_inbox(current_user, store_id, unanswered=unanswered, offering_id=offering_id,
                                   booking_day=booking_day)
    store = db.session.get(Store, store_id)  # store_inbox checked the actor works there
    return render_template("conversations/inbox.html", threads=threads, side=services.Side.STORE,
                           unread=services.unread_for, store_id=store_id, unanswered=unanswered,
                           offerings=offerings_of_store(store, include_archived=True), offering_id=offering_id,
                           day=day, day_error=day_error, replies=services.quick_replies_of(current_user, store_id))


@bp.post("/merchant/stores/<int:store_id>/quick-replies")
@login_required
def add_quick_reply(store_id: int):
    """Save an answer the store's people can send with one click (from the inbox page)."""
    back = url_for("conversations.store_inbox", store_id=store_id, _anchor="quick-replies")
    try:
        services.save_quick_reply(current_user, store_id, request.form.get("title", ""),
                                  request.form.get("body", ""), clock.now())
    except ValidationFailed as error:
        db.session.rollback()
        said = "; ".join(f"{field}: {' '.join(map(str, value)) if isinstance(value, list) else value}"
                         for field, value in (error.details or {}).items())
        flash(_("The quick reply was not saved (%(problem)s).", problem=said), "error")
        return redirect(back)
    db.session.commit()
    flash(_("Quick reply saved."), "success")
    return redirect(back)


@bp.post("/merchant/quick-replies/<int:reply_id>/delete")
@login_required
def delete_quick_reply(reply_id: int):
    """Forget a saved answer."""
    store_id = services.delete_quick_reply(current_user, reply_id)
    db.session.commit()
    flash(_("Quick reply deleted."), "success")
    return redirect(url_for("conversations.store_inbox", store_id=store_id, _anchor="quick-replies"))


@bp.get("/conversations/<int:conversation_id>")
@login_required
def thread(conversation_id: int):
    conversation = services.get_conversation(current_user, conversation_id)
    messages = services.messages_after(current_user, conversation_id, 0, services.PAGE_MAX)
    side = services.side_of(current_user, conversation)
    replies = services.quick_replies_of(current_user, conversation.store_id) if side == services.Side.STORE else []
    return render_template("conversations/thread.html", conversation=conversation, messages=messages, side=side,
                           replies=replies)


@bp.post("/offerings/<int:offering_id>/ask")
@login_required
def ask(offering_id: int):
    offering = get_offering(current_user, offering_id)
    conversation = services.start_enquiry(current_user, offering.store_id, clock.now(), offering.id)
    db.session.commit()
    return redirect(url_for("conversations.thread", conversation_id=conversation.id))


@bp.post("/bookings/<int:booking_id>/conversation")
@login_required
def booking_thread(booking_id: int):
    conversation = services.booking_thread(current_user, booking_id, clock.now())
    db.session.commit()
    return redirect(url_for("conversations.thread", conversation_id=conversation.id))


@bp.app_template_global()
def reply_time(store_id: int) -> str:
    """'usually replies within 1 h' from the store's median first response over 30 days; '' with no data."""
    seconds = services.median_first_response_seconds(store_id, clock.now())
    if seconds is None:
        return ""
    if seconds < 3600:
        return _("usually replies within 1 h")
    hours = -(-seconds // 3600)
    if hours < 24:
        return ngettext("usually replies within %(num)d h", "usually replies within %(num)d h", hours)
    days = -(-seconds // 86400)
    return ngettext("usually replies within %(num)d day", "usually replies within %(num)d days", days)
