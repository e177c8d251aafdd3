"""The conversations API: a resident asks, the store answers, cursors page, read marks, limits, errors."""

from __future__ import annotations

from app.auth.models import Role
from tests import factories as f


def _thread(client, store, offering, resident):
    response = client.post("/api/v1/conversations", json={"store_id": store.id, "offering_id": offering.id},
                           headers=f.token_for(resident))
    assert response.status_code == 201, response.json
    return response.json["id"]


def test_ask_answer_page_and_read(client, db):
    store = f.create_store()
    offering = f.create_offering(store)
    clerk = f.add_staff(store, f.create_user(Role.STAFF))
    resident = f.create_user()
    thread = _thread(client, store, offering, resident)
    for n in range(3):
        sent = client.post(f"/api/v1/conversations/{thread}/messages", json={"body": f" q{n} "},
                           headers=f.token_for(resident))
        assert sent.status_code == 201 and sent.json["seq"] == n + 1 and sent.json["body"] == f"q{n}"
    inbox = client.get(f"/api/v1/conversations?store_id={store.id}&unanswered=1", headers=f.token_for(clerk))
    assert [(c["id"], c["unread"], c["side"]) for c in inbox.json["items"]] == [(thread, 3, "store")]
    page = client.get(f"/api/v1/conversations/{thread}/messages?since=1&limit=1", headers=f.token_for(clerk))
    assert [m["body"] for m in page.json["items"]] == ["q1"]
    assert page.json["next_since"] == 2 and page.json["has_more"] is True
    read = client.post(f"/api/v1/conversations/{thread}/read", json={"seq": 3}, headers=f.token_for(clerk))
    assert read.json["unread"] == 0
    assert client.get(f"/api/v1/conversations/{thread}", headers=f.token_for(resident)).json["read_by_other"] == 3
    answer = client.post(f"/api/v1/conversations/{thread}/messages", json={"body": "Yes"}, headers=f.token_for(clerk))
    assert answer.json["sender_side"] == "store"
    stranger = client.get(f"/api/v1/conversations/{thread}/messages", headers=f.token_for(f.create_user()))
    assert stranger.status_code == 404 and stranger.json["error"]["code"] == "not_found"


def test_bad_text_and_cold_messages_are_refused(client, db):
    store = f.create_store()
    offering = f.create_offering(store)
    clerk = f.add_staff(store, f.create_user(Role.STAFF))
    resident = f.create_user()
    thread = _thread(client, store, offering, resident)
    too_long = client.post(f"/api/v1/conversations/{thread}/messages", json={"body": "x" * 2001},
                           headers=f.token_for(resident))
    assert too_long.status_code == 422 and "body" in too_long.json["error"]["details"]
    cold = client.post("/api/v1/conversations", json={"store_id": store.id, "resident_id": f.create_user().id},
                       headers=f.token_for(clerk))
    assert cold.status_code == 403 and cold.json["error"]["code"] == "forbidden"


def test_sends_are_rate_limited_per_sender(client, db, app, monkeypatch):
    monkeypatch.setitem(app.config, "CONVERSATION_SENDS_PER_MINUTE", "3 per minute")
    store = f.create_store()
    resident = f.create_user()
    thread = _thread(client, store, f.create_offering(store), resident)
    codes = [client.post(f"/api/v1/conversations/{thread}/messages", json={"body": "hi"},
                         headers=f.token_for(resident)).status_code for _ in range(4)]
    assert codes == [201, 201, 201, 429]


def test_reports_are_listed_for_the_operator(app, client, db):
    store = f.create_store()
    clerk = f.add_staff(store, f.create_user(Role.STAFF))
    resident = f.create_user()
    thread = _thread(client, store, f.create_offering(store), resident)
    client.post(f"/api/v1/conversations/{thread}/messages", json={"body": "Hi"}, headers=f.token_for(resident))
    spam = client.post(f"/api/v1/conversations/{thread}/messages", json={"body": "Cheap gift cards!"},
                       headers=f.token_for(clerk)).json
    reported = client.post(f"/api/v1/messages/{spam['id']}/report", json={"reason": "spam"},
                           headers=f.token_for(resident))
    assert reported.status_code == 201 and reported.json["status"] == "open"
    output = app.test_cli_runner().invoke(args=["conversations", "reports"]).output
    assert f"#{reported.json['id']}" in output and "Cheap gift cards!" in output


def test_ask_the_shop_opens_the_thread_page_and_the_inbox_counts_it(client, auth, db):
    store = f.create_store()
    offering = f.create_offering(store)
    resident = f.create_user()
    auth.login(resident.email)
    asked = client.post(f"/offerings/{offering.id}/ask", data={"csrf_token": auth.csrf("/")})
    assert asked.status_code == 302 and "/conversations/" in asked.headers["Location"]
    thread_id = int(asked.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    client.post(f"/api/v1/conversations/{thread_id}/messages", json={"body": "Is it <b>in English</b>?"},
                headers=f.token_for(resident))
    page = client.get(f"/conversations/{thread_id}").get_data(as_text=True)
    assert 'data-seq="1"' in page and "Is it &lt;b&gt;in English&lt;/b&gt;?" in page
    assert 'js/conversations.js' in page
    auth.logout()
    auth.login(store.business.owner.email)
    inbox = client.get(f"/merchant/stores/{store.id}/conversations?unanswered=1").get_data(as_text=True)
    assert f'data-conversation-id="{thread_id}"' in inbox and 'data-testid="unread"' in inbox


def test_reply_time_for_the_store_page(app, db, clock):
    from datetime import timedelta

    from app.conversations import services
    from app.conversations.routes import reply_time

    store = f.create_store()
    assert reply_time(store.id) == ""
    now = clock.now()
    for wait in (timedelta(minutes=20), timedelta(hours=3), timedelta(hours=5)):
        resident = f.create_user()
        thread = services.start_enquiry(resident, store.id, now - timedelta(days=1))
        services.send_message(resident, thread.id, "?", now - timedelta(days=1))
        services.send_message(store.business.owner, thread.id, "!", now - timedelta(days=1) + wait)
    with app.test_request_context():
        assert reply_time(store.id) == "usually replies within 3 h"
        assert "reply_time" in app.jinja_env.globals


def test_the_booking_page_opens_the_visit_thread(client, auth, db, clock):
    booking = f.create_booking_starting_in(180, now=clock.now())
    auth.login(booking.resident.email)
    page = client.get(f"/bookings/{booking.id}").get_data(as_text=True)
    assert f'action="/bookings/{booking.id}/conversation"' in page
    opened = client.post(f"/bookings/{booking.id}/conversation", data={"csrf_token": auth.csrf("/")})
    assert opened.status_code == 302
    again = client.post(f"/bookings/{booking.id}/conversation", data={"csrf_token": auth.csrf("/")})
    assert again.headers["Location"] == opened.headers["Location"]


def test_the_experience_and_store_pages_offer_the_conversation(client, auth, db, clock):
    from datetime import timedelta

    from app.conversations import services

    store = f.create_store()
    offering = f.create_offering(store)
    anonymous = client.get(f"/experiences/{offering.id}").get_data(as_text=True)
    assert 'data-testid="ask-shop"' in anonymous and "/auth/login?next=" in anonymous
    assert 'data-testid="reply-time"' not in anonymous
    earlier = f.create_user()
    thread = services.start_enquiry(earlier, store.id, clock.now() - timedelta(days=1))
    services.send_message(earlier, thread.id, "?", clock.now() - timedelta(days=1))
    services.send_message(store.business.owner, thread.id, "!", clock.now() - timedelta(days=1, minutes=-25))
    auth.login(f.create_user().email)
    page = client.get(f"/experiences/{offering.id}").get_data(as_text=True)
    assert f'action="/offerings/{offering.id}/ask"' in page
    assert "usually replies within 1 h" in page
    assert "usually replies within 1 h" in client.get(f"/stores/{store.id}").get_data(as_text=True)
    auth.logout()
    auth.login(store.business.owner.email)
    own_page = client.get(f"/experiences/{offering.id}").get_data(as_text=True)
    assert f'action="/offerings/{offering.id}/ask"' not in own_page


def test_threads_show_display_names_never_account_emails(client, db, auth):
    store = f.create_store(name="Kiln and Co")
    offering = f.create_offering(store)
    clerk = f.add_staff(store, f.create_user(Role.STAFF, email="clerk.private@test.onsite"))
    owner = store.business.owner
    resident = f.create_user(email="mei.private@test.onsite", display_name="Mei L.")
    thread = _thread(client, store, offering, resident)
    for who, body in ((resident, "Hello"), (clerk, "Hi Mei")):
        assert client.post(f"/api/v1/conversations/{thread}/messages", json={"body": body},
                           headers=f.token_for(who)).status_code == 201
    hidden = {resident: (clerk.email, owner.email), clerk: (resident.email, owner.email)}
    for viewer, others in hidden.items():
        api = [client.get(path, headers=f.token_for(viewer)) for path in (
            f"/api/v1/conversations/{thread}", f"/api/v1/conversations/{thread}/messages",
            "/api/v1/conversations" + (f"?store_id={store.id}" if viewer is clerk else ""))]
        auth.login(viewer.email)
        pages = [client.get(path) for path in (
            f"/conversations/{thread}",
            f"/merchant/stores/{store.id}/conversations" if viewer is clerk else "/conversations")]
        auth.logout()
        for response in api + pages:
            assert response.status_code == 200
            text = response.get_data(as_text=True)
            for email in others:
                assert email not in text
    auth.login(clerk.email)
    assert "Mei L." in client.get(f"/merchant/stores/{store.id}/conversations").get_data(as_text=True)
    assert "Mei L." in client.get(f"/conversations/{thread}").get_data(as_text=True)


def test_store_inbox_filters_by_experience_and_booking_day_and_offers_quick_replies(client, db, auth, clock):
    from datetime import UTC, datetime

    from app.conversations import services as conv
    from app.extensions import db as _db

    now = datetime(2030, 3, 5, 2, 0, tzinfo=UTC)  # 10:00 in the store's city
    clock.travel(now, tick=False)
    store = f.create_store()
    pottery, tea = f.create_offering(store, title="Pottery"), f.create_offering(store, title="Tea tasting")
    clerk = f.add_staff(store, f.create_user(Role.STAFF))
    asker = f.create_user(display_name="Asks about tea")
    conv.send_message(asker, conv.start_enquiry(asker, store.id, now, offering_id=tea.id).id, "Tea?", now)
    booking = f.create_booking_starting_in(24 * 60, now=now, offering=pottery)
    booked = conv.booking_thread(booking.resident, booking.id, now)
    conv.send_message(booking.resident, booked.id, "Booked pottery", now)
    conv.save_quick_reply(clerk, store.id, "Parking", "Free parking behind the shop <b>", now)
    _db.session.commit()
    auth.login(clerk.email)
    inbox = f"/merchant/stores/{store.id}/conversations"

    def listed(query: str) -> set[str]:
        page = client.get(inbox + query)
        assert page.status_code == 200
        return {m for m in ("Asks about tea", booking.resident.display_name) if m in page.get_data(as_text=True)}

    assert listed("") == {"Asks about tea", booking.resident.display_name}
    assert listed(f"?offering_id={tea.id}") == {"Asks about tea"}
    assert listed("?day=2030-03-06") == {booking.resident.display_name}
    assert listed("?day=2030-03-05") == set()
    bad = client.get(inbox + "?day=tomorrow&offering_id=x")
    assert bad.status_code == 200 and "Enter a date like 2030-03-05." in bad.get_data(as_text=True)
    thread = client.get(f"/conversations/{booked.id}").get_data(as_text=True)
    assert 'data-body="Free parking behind the shop &lt;b&gt;"' in thread and ">Parking</button>" in thread
    auth.logout()
    auth.login(booking.resident.email)
    assert "quick-replies" not in client.get(f"/conversations/{booked.id}").get_data(as_text=True)


def test_quick_replies_are_saved_and_deleted_from_the_inbox_page_and_the_api(client, db, auth):
    from app.extensions import db as _db

    store = f.create_store()
    clerk = f.add_staff(store, f.create_user(Role.STAFF))
    other_owner = f.create_merchant()
    _db.session.commit()
    auth.login(clerk.email)
    inbox = f"/merchant/stores/{store.id}/conversations"
    saved = auth.post(f"/merchant/stores/{store.id}/quick-replies", {"title": "Kids", "body": "From six years."},
                      follow_redirects=True)
    page = saved.get_data(as_text=True)
    assert "Quick reply saved." in page and "From six years." in page
    empty = auth.post(f"/merchant/stores/{store.id}/quick-replies", {"title": "", "body": "x"},
                      follow_redirects=True)
    assert "The quick reply was not saved" in empty.get_data(as_text=True)
    listed = client.get(f"/api/v1/stores/{store.id}/quick-replies", headers=f.token_for(clerk)).get_json()["items"]
    assert [r["title"] for r in listed] == ["Kids"]
    reply_id = listed[0]["id"]
    assert client.delete(f"/api/v1/quick-replies/{reply_id}", headers=f.token_for(other_owner)).status_code == 404
    deleted = auth.post(f"/merchant/quick-replies/{reply_id}/delete", follow_redirects=True)
    assert "Quick reply deleted." in deleted.get_data(as_text=True)
    assert "From six years." not in client.get(inbox).get_data(as_text=True)
    gone = client.delete(f"/api/v1/quick-replies/{reply_id}", headers=f.token_for(clerk))
    assert gone.status_code == 404 and gone.get_json()["error"]["code"] == "not_found"
    auth.logout()
    auth.login(f.create_user().email)
    assert 'id="quick-replies"' not in client.get("/conversations").get_data(as_text=True)


def test_photo_messages_reach_the_two_sides_only(client, db):
    import io

    from PIL import Image

    from app.extensions import db as _db

    def jpeg():
        out = io.BytesIO()
        Image.new("RGB", (320, 240), (30, 120, 60)).save(out, "JPEG")
        return out.getvalue()

    store = f.create_store()
    clerk = f.add_staff(store, f.create_user(Role.STAFF))
    resident, stranger = f.create_user(), f.create_user()
    _db.session.commit()
    started = client.post("/api/v1/conversations", json={"store_id": store.id}, headers=f.token_for(resident))
    thread_id = started.get_json()["id"]
    url = f"/api/v1/conversations/{thread_id}/photo-messages"

    def send(who, body="Here is the vase", photos=1, data=None):
        files = [(io.BytesIO(data or jpeg()), f"vase{i}.jpg") for i in range(photos)]
        return client.post(url, data={"body": body, "photos": files}, headers=f.token_for(who),
                           content_type="multipart/form-data")

    sent = send(resident, photos=2)
    assert sent.status_code == 201, sent.get_json()
    photos = sent.get_json()["photos"]
    assert len(photos) == 2 and all(p["url"].startswith("/media/") and p["thumb"] for p in photos)
    page = client.get(f"/api/v1/conversations/{thread_id}/messages", headers=f.token_for(clerk)).get_json()
    assert [len(m["photos"]) for m in page["items"]] == [2]
    assert send(stranger).status_code == 404
    too_many = send(resident, photos=4)
    assert too_many.status_code == 422 and "photos" in too_many.get_json()["error"]["details"]
    broken = send(resident, data=b"not an image")
    assert broken.status_code == 422 and broken.get_json()["error"]["code"].startswith("image_")
    assert send(resident, body="  ").status_code == 422
    listed = client.get(f"/api/v1/conversations/{thread_id}/messages", headers=f.token_for(resident)).get_json()
    assert len(listed["items"]) == 1  # nothing of the refused ones was kept
