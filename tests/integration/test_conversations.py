"""Conversations: who may start and see a thread, messages in order, read marks, blocks, reports,
the store's first-response time, and 20 sends at once landing once each in one order."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from app.auth.models import Role, User
from app.conversations import services as conv
from app.conversations.models import Conversation, Message
from app.errors import NotFound, PermissionDenied, ValidationFailed
from app.extensions import db as _db
from tests import factories as f
from tests.integration._conversations import committed_thread as thread_committed

NOW = datetime(2030, 3, 5, 6, 0, tzinfo=UTC)


@pytest.fixture
def shop(db, clock):
    clock.travel(NOW, tick=False)
    store = f.create_store(name="Pottery corner")
    offering = f.create_offering(store)
    clerk = f.add_staff(store, f.create_user(Role.STAFF))
    return store, offering, clerk


def test_resident_asks_and_only_the_two_sides_see_it(db, shop):
    store, offering, clerk = shop
    resident, other = f.create_user(), f.create_user()
    thread = conv.start_enquiry(resident, store.id, NOW, offering_id=offering.id)
    assert conv.start_enquiry(resident, store.id, NOW, offering_id=offering.id).id == thread.id
    conv.send_message(resident, thread.id, "Can I bring my 6-year-old?", NOW)
    owner = store.business.owner
    for reader in (resident, clerk, owner):
        assert [m.body for m in conv.messages_after(reader, thread.id)] == ["Can I bring my 6-year-old?"]
    other_staff = f.add_staff(f.create_store(), f.create_user(Role.STAFF))
    for stranger in (other, other_staff, None):
        with pytest.raises(NotFound):
            conv.get_conversation(stranger, thread.id)
    with pytest.raises(NotFound):
        conv.send_message(other, thread.id, "hi", NOW)
    with pytest.raises(PermissionDenied):
        conv.start_enquiry(clerk, store.id, NOW)


@pytest.mark.parametrize("body", ["", "   ", "x" * 2001])
def test_message_text_is_one_to_two_thousand_characters(db, shop, body):
    store, _offering, _clerk = shop
    resident = f.create_user()
    thread = conv.start_enquiry(resident, store.id, NOW)
    with pytest.raises(ValidationFailed) as excinfo:
        conv.send_message(resident, thread.id, body, NOW)
    assert "body" in excinfo.value.details
    assert conv.send_message(resident, thread.id, "x" * 2000, NOW).seq == 1


def test_store_writes_only_to_residents_who_wrote_or_booked(db, shop):
    store, offering, clerk = shop
    stranger, asker = f.create_user(), f.create_user()
    with pytest.raises(PermissionDenied):
        conv.start_with_resident(clerk, store.id, stranger.id, NOW)
    thread = conv.start_enquiry(asker, store.id, NOW)
    with pytest.raises(PermissionDenied):  # an opened thread with no message is not yet a conversation
        conv.start_with_resident(clerk, store.id, asker.id, NOW)
    conv.send_message(asker, thread.id, "Hello", NOW)
    assert conv.start_with_resident(clerk, store.id, asker.id, NOW).id == thread.id
    booking = f.create_booking_starting_in(120, now=NOW, offering=offering)
    booked = conv.start_with_resident(clerk, store.id, booking.resident_id, NOW)
    assert booked.resident_id == booking.resident_id
    with pytest.raises(NotFound):
        conv.start_with_resident(f.create_user(Role.STAFF), store.id, asker.id, NOW)


def test_booking_thread_is_one_per_booking(db, shop):
    store, offering, clerk = shop
    booking = f.create_booking_starting_in(120, now=NOW, offering=offering)
    thread = conv.booking_thread(booking.resident, booking.id, NOW)
    assert conv.booking_thread(clerk, booking.id, NOW).id == thread.id
    assert (thread.store_id, thread.resident_id) == (store.id, booking.resident_id)
    with pytest.raises(NotFound):
        conv.booking_thread(f.create_user(), booking.id, NOW)


def test_read_marks_unread_counts_and_inbox_filters(db, shop):
    store, offering, clerk = shop
    resident = f.create_user()
    thread = conv.start_enquiry(resident, store.id, NOW, offering_id=offering.id)
    for n in range(3):
        conv.send_message(resident, thread.id, f"question {n}", NOW)
    assert conv.unread_for(conv.Side.STORE, thread) == 3
    assert conv.unread_for(conv.Side.RESIDENT, thread) == 0
    assert [c.id for c in conv.store_inbox(clerk, store.id, unanswered=True)] == [thread.id]
    assert [c.id for c in conv.store_inbox(clerk, store.id, offering_id=offering.id)] == [thread.id]
    conv.mark_read(clerk, thread.id, 2)
    conv.mark_read(clerk, thread.id, 1)  # never moves back
    assert conv.unread_for(conv.Side.STORE, thread) == 1
    conv.mark_read(clerk, thread.id, 99)  # never past the last message
    assert thread.store_read_seq == 3
    conv.send_message(clerk, thread.id, "Yes, of course", NOW)
    assert conv.store_inbox(clerk, store.id, unanswered=True) == []
    assert conv.unread_for(conv.Side.RESIDENT, thread) == 1
    assert [c.id for c in conv.conversations_of_resident(resident)] == [thread.id]
    with pytest.raises(NotFound):
        conv.store_inbox(resident, store.id)


def test_blocked_store_cannot_write_and_reports_reach_the_queue(db, shop):
    store, _offering, clerk = shop
    resident = f.create_user()
    thread = conv.start_enquiry(resident, store.id, NOW)
    conv.send_message(resident, thread.id, "Hello", NOW)
    spam = conv.send_message(clerk, thread.id, "Buy our gift cards!", NOW)
    report = conv.report_message(resident, spam.id, "spam", NOW, note="again")
    assert conv.report_message(resident, spam.id, "spam", NOW).id == report.id
    assert report.id in [r.id for r in conv.open_reports()]
    with pytest.raises(ValidationFailed):
        conv.report_message(resident, spam.id, "boring", NOW)
    with pytest.raises(ValidationFailed):  # one's own message
        conv.report_message(clerk, spam.id, "spam", NOW)
    with pytest.raises(NotFound):
        conv.report_message(f.create_user(), spam.id, "spam", NOW)
    conv.block_store(resident, store.id, NOW)
    with pytest.raises(PermissionDenied):
        conv.send_message(clerk, thread.id, "Hello?", NOW)
    conv.send_message(resident, thread.id, "I can still write", NOW)
    conv.unblock_store(resident, store.id)
    assert conv.send_message(clerk, thread.id, "Thanks", NOW).seq == 4


def test_quick_replies_belong_to_the_store(db, shop):
    store, _offering, clerk = shop
    reply = conv.save_quick_reply(clerk, store.id, "Kids", "Children from 6 are welcome.", NOW)
    assert [r.id for r in conv.quick_replies_of(store.business.owner, store.id)] == [reply.id]
    with pytest.raises(ValidationFailed):
        conv.save_quick_reply(clerk, store.id, "", "x", NOW)
    with pytest.raises(NotFound):
        conv.quick_replies_of(f.create_user(), store.id)
    with pytest.raises(NotFound):
        conv.delete_quick_reply(f.create_user(Role.STAFF), reply.id)
    conv.delete_quick_reply(clerk, reply.id)
    assert conv.quick_replies_of(clerk, store.id) == []


def test_median_first_response_over_thirty_days(db, shop):
    store, _offering, clerk = shop
    assert conv.median_first_response_seconds(store.id, NOW) is None
    for wait_min, days_ago in ((10, 1), (30, 2), (120, 3), (5, 40)):
        asked = NOW - timedelta(days=days_ago)
        thread = conv.start_enquiry(f.create_user(), store.id, asked)
        conv.send_message(thread_resident(thread), thread.id, "Question", asked)
        conv.send_message(thread_resident(thread), thread.id, "Another", asked + timedelta(minutes=1))
        conv.send_message(clerk, thread.id, "Answer", asked + timedelta(minutes=wait_min))
        conv.send_message(clerk, thread.id, "Later", asked + timedelta(minutes=wait_min + 60))
    assert conv.median_first_response_seconds(store.id, NOW) == 30 * 60  # of 10, 30, 120; the 40-day one is out
    assert conv.unanswered_count(store.id) == 0


def thread_resident(thread: Conversation) -> User:
    return _db.session.get(User, thread.resident_id)


# -- 20 sends at once ----------------------------------------------------------------------------------

@pytest.fixture
def committed_thread(app, clock):
    clock.travel(NOW, tick=False)
    with thread_committed(app, NOW, "Conversation race store") as ids:
        yield ids


def test_twenty_concurrent_sends_land_once_each_in_one_order(app, committed_thread):
    started = threading.Barrier(20, timeout=20)

    def send(n: int) -> int:
        sender_id = committed_thread["resident"] if n % 2 else committed_thread["clerk"]
        with app.app_context():  # its own session on its own pooled connection
            started.wait()  # before any connection is taken: the pool holds fewer than 20
            sender = _db.session.get(User, sender_id)
            seq = conv.send_message(sender, committed_thread["thread"], f"message {n}", NOW).seq
            _db.session.commit()
            return seq

    with ThreadPoolExecutor(max_workers=20) as pool:
        seqs = list(pool.map(send, range(20)))
    assert sorted(seqs) == list(range(1, 21))
    with app.app_context():
        rows = _db.session.execute(select(Message.seq, Message.body).where(
            Message.conversation_id == committed_thread["thread"]).order_by(Message.seq)).all()
        assert [seq for seq, _ in rows] == list(range(1, 21))
        assert sorted(body for _, body in rows) == sorted(f"message {n}" for n in range(20))
        assert _db.session.get(Conversation, committed_thread["thread"]).last_seq == 20
        # Both sides read the same order.
        resident = _db.session.get(User, committed_thread["resident"])
        clerk = _db.session.get(User, committed_thread["clerk"])
        assert [m.id for m in conv.messages_after(resident, committed_thread["thread"])] == \
            [m.id for m in conv.messages_after(clerk, committed_thread["thread"])]


def test_demo_conversations_one_answered_one_waiting(db, shop):
    from app.conversations.demo import load_demo_conversations

    store, offering, _clerk = shop
    f.create_offering(store)
    resident = f.create_user()
    load_demo_conversations(store.business.owner.email, resident.email)
    load_demo_conversations(store.business.owner.email, resident.email)  # twice: nothing new
    threads = conv.conversations_of_resident(resident)
    assert len(threads) == 2
    assert [c.awaiting_since is not None for c in sorted(threads, key=lambda c: c.id)] == [False, True]
    assert conv.unanswered_count(store.id) == 1
    assert conv.median_first_response_seconds(store.id, NOW) == 35 * 60


def _message_notices(user: User) -> list:
    from bookings.models import Notification

    return list(_db.session.scalars(select(Notification).where(Notification.user_id == user.id,
                                                               Notification.kind == "message")))


def test_a_message_leaves_one_unread_notice_per_thread_for_the_other_side(db, shop):
    store, _offering, clerk = shop
    owner = store.business.owner
    resident = f.create_user(display_name="Mei")
    thread = conv.start_enquiry(resident, store.id, NOW)
    conv.send_message(resident, thread.id, "Hello", NOW)
    conv.send_message(resident, thread.id, "Are you open on Sunday?", NOW)
    for reader in (owner, clerk):
        [notice] = _message_notices(reader)
        assert notice.body.endswith(f"\n/conversations/{thread.id}") and "Mei" in notice.title
    assert _message_notices(resident) == []  # the sender is not told of their own message
    conv.send_message(clerk, thread.id, "Yes, 10 to 6", NOW)
    [told] = _message_notices(resident)
    assert store.name in told.title and told.body.endswith(f"/conversations/{thread.id}")
    told.read_at = NOW
    conv.send_message(clerk, thread.id, "See you", NOW)
    assert len(_message_notices(resident)) == 2  # once read, the next message gets a fresh notice
    other = conv.start_enquiry(resident, store.id, NOW, offering_id=f.create_offering(store).id)
    conv.send_message(resident, other.id, "And this one?", NOW)
    assert len(_message_notices(owner)) == 2  # a second thread has its own notice


def test_digest_mails_each_reader_one_list_of_threads_unread_for_15_minutes(db, shop, clock):
    from bookings.models import OutboxEmail

    def mails_to(user):
        return list(_db.session.scalars(select(OutboxEmail).where(OutboxEmail.to_email == user.email)))

    store, offering, clerk = shop
    owner = store.business.owner
    resident = f.create_user()
    first = conv.start_enquiry(resident, store.id, NOW)
    second = conv.start_enquiry(resident, store.id, NOW, offering_id=offering.id)
    for n in range(3):
        conv.send_message(resident, first.id, f"question {n}", NOW)
    conv.send_message(resident, second.id, "and this", NOW + timedelta(minutes=1))
    assert conv.digest_unread(NOW + timedelta(minutes=14)) == 0
    clock.travel(NOW + timedelta(minutes=16), tick=False)
    assert conv.digest_unread(clock.now()) == 2  # the owner's and the clerk's, one each for both threads
    for reader in (owner, clerk):
        [mail] = mails_to(reader)
        assert f"/conversations/{first.id}" in mail.body and f"/conversations/{second.id}" in mail.body
    conv.send_message(resident, first.id, "hello?", clock.now())  # still unread: no new notice, no new mail
    assert conv.digest_unread(NOW + timedelta(hours=2)) == 0
    assert len(mails_to(owner)) == 1
    conv.mark_read(clerk, first.id, 99)  # the store has read it: its notice is read, and nothing more is mailed
    conv.send_message(clerk, first.id, "Yes!", clock.now())
    assert conv.digest_unread(clock.now() + timedelta(minutes=10)) == 0
    conv.mark_read(owner, second.id, 99)
    assert conv.digest_unread(clock.now() + timedelta(minutes=20)) == 1  # the resident's reply waited 20 min
    [mail] = mails_to(resident)
    assert f"/conversations/{first.id}" in mail.body and f"/conversations/{second.id}" not in mail.body
    assert mails_to(owner) == [mails_to(owner)[0]] and len(mails_to(clerk)) == 1
