"""Reviews through the API and the pages: writing with photos, edits, lists and filters, the store's reply,
helpful votes, reports, who may do each (every kind of visitor), and bad input refused with a 4xx, never a 500."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest
from PIL import Image
from sqlalchemy import func, select, text

from app.auth.models import Role
from app.extensions import db
from bookings.models import CheckIn
from tests import factories as f
from tests.web._bookings_world import ACTORS, add_review, build_world, hour
from trust.models import Review, ReviewPhoto, ReviewReport

GOOD = {"rating": 5, "rating_described": 4, "rating_service": 5, "rating_value": 4,
        "body": "The teacher was patient and the clay was ready for us."}
PDF_AS_JPEG = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def png(shade: int = 90) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 90), (shade, 120, 200)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def world(db, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    world = build_world()
    world.review_id = add_review(world)
    return world


def checked_in_visit(world, resident=None, *, hours_ago: float = 3, verification: str = "staff_verified"):
    """A visit of the world's experience that ended ``hours_ago``, checked in."""
    resident = resident or world.resident
    slot = f.create_slot(world.offering, hour(hours=-hours_ago - 1) - timedelta(minutes=len(db.session.new) + 7))
    booking = f.create_booking(slot, resident, status="checked_in")
    db.session.add(CheckIn(booking_id=booking.id, store_id=world.store.id,
                           method="self_geofence" if verification == "verified" else "staff_typed",
                           verification=verification, checked_in_at=booking.starts_at))
    db.session.flush()
    return booking


def multipart(fields: dict[str, str], files: list[tuple[str, str, bytes]]) -> dict:
    """A multipart/form-data body built in memory (the test client spools a large one to a file it never closes)."""
    boundary = "----onsite-review-test"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
             for name, value in fields.items()]
    parts += [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
              f"Content-Type: application/octet-stream\r\n\r\n".encode() + content + b"\r\n"
              for name, filename, content in files]
    return {"data": b"".join(parts) + f"--{boundary}--\r\n".encode(),
            "content_type": f"multipart/form-data; boundary={boundary}"}


def api(client, user, method, path, **kw):
    headers = f.token_for(user) if user is not None else {}
    return client.open(path, method=method, headers=headers, **kw)


# -- the API -----------------------------------------------------------------------------------------

def test_write_a_review_then_add_photos_and_see_it_listed(client, world):
    visit = checked_in_visit(world, verification="verified")
    created = api(client, world.resident, "POST", f"/api/v1/bookings/{visit.id}/review", json=GOOD)
    assert created.status_code == 201, created.json
    review = created.json
    assert review["badge"] == "verified" and review["status"] == "published" and review["edited"] is False
    assert review["booking_id"] == visit.id and review["photos"] == []
    photos = api(client, world.resident, "POST", f"/api/v1/reviews/{review['id']}/photos",
                 data={"photos": [(io.BytesIO(png(10)), "a.png"), (io.BytesIO(png(20)), "b.png")]},
                 content_type="multipart/form-data")
    assert photos.status_code == 201, photos.json
    assert len(photos.json["photos"]) == 2 and photos.json["photos"][0]["url"].startswith("/media/")

    listed = client.get(f"/api/v1/offerings/{world.offering.id}/reviews")
    assert listed.status_code == 200, listed.get_data(as_text=True)
    listed = listed.json
    assert [r["id"] for r in listed["items"]] == [review["id"], world.review_id]  # newest first
    assert listed["items"][0]["booking_id"] is None  # only its author sees which booking
    assert [r["id"] for r in client.get(f"/api/v1/offerings/{world.offering.id}/reviews?with_photos=1")
            .json["items"]] == [review["id"]]
    assert [r["id"] for r in client.get(f"/api/v1/stores/{world.store.id}/reviews?rating=4").json["items"]] == \
        [world.review_id]
    db.session.expire_all()
    assert (world.offering.rating_count, world.offering.rating_avg) == (2, Decimal("4.50"))


def test_edit_within_7_days_keeps_history(client, world, clock):
    path = f"/api/v1/reviews/{world.review_id}"
    edited = api(client, world.resident, "PATCH", path, json={**GOOD, "rating": 2, "body": "On reflection, meh."})
    assert edited.status_code == 200 and edited.json["edited"] is True and edited.json["rating"] == 2
    assert db.session.get(Review, world.review_id).revisions[0].rating == 4
    assert api(client, world.users["other_resident"], "PATCH", path, json=GOOD).status_code == 404
    clock.travel(clock.now() + timedelta(days=8), tick=False)
    late = api(client, world.resident, "PATCH", path, json=GOOD)
    assert late.status_code == 409 and late.json["error"]["code"] == "edit_window_closed"


def test_reply_once_then_edit(client, world):
    path = f"/api/v1/reviews/{world.review_id}/reply"
    staff = world.users["staff"]
    first = api(client, staff, "POST", path, json={"body": "Thank you, see you soon!"})
    assert first.status_code == 201 and first.json["reply"]["body"] == "Thank you, see you soon!"
    again = api(client, world.owner, "POST", path, json={"body": "Another one"})
    assert again.status_code == 409 and again.json["error"]["code"] == "already_replied"
    changed = api(client, world.owner, "PUT", path, json={"body": "Thanks again!"})
    assert changed.status_code == 200 and changed.json["reply"]["edited_at"]
    unreplied = api(client, world.owner, "GET", "/api/v1/merchant/reviews?unreplied=1").json
    assert unreplied["total"] == 0
    assert api(client, world.owner, "GET", "/api/v1/merchant/reviews").json["total"] == 1
    assert api(client, world.users["other_owner"], "GET", "/api/v1/merchant/reviews").json["total"] == 0


def test_helpful_and_report(client, world):
    voter = world.users["other_resident"]
    path = f"/api/v1/reviews/{world.review_id}"
    assert api(client, voter, "POST", f"{path}/helpful").json["helpful_count"] == 1
    twice = api(client, voter, "POST", f"{path}/helpful")
    assert twice.status_code == 409 and twice.json["error"]["code"] == "already_voted"
    assert api(client, voter, "GET", path).json["helpful_by_me"] is True
    reported = api(client, voter, "POST", f"{path}/report", json={"reason": "fake", "note": "Odd"})
    assert reported.status_code == 201 and reported.json["status"] == "open"
    again = api(client, voter, "POST", f"{path}/report", json={"reason": "offensive"})
    assert again.status_code == 409 and again.json["error"]["code"] == "already_reported"
    bad = api(client, world.owner, "POST", f"{path}/report", json={"reason": "boring"})
    assert bad.status_code == 422 and "reason" in bad.json["error"]["details"]


# -- who may do what ---------------------------------------------------------------------------------

def _statuses(client, world, call) -> str:
    seen = []
    for name in ACTORS:
        # Plain SQL: the session's own nested transactions would be undone by the requests' rollbacks.
        db.session.execute(text("SAVEPOINT each_actor"))
        try:
            seen.append(str(call(world.users[name]).status_code))
        finally:
            db.session.execute(text("ROLLBACK TO SAVEPOINT each_actor"))
            db.session.expire_all()
    return " ".join(seen)


def test_who_may_write_a_review_of_the_residents_visit(client, world):
    visit = checked_in_visit(world)
    assert _statuses(client, world, lambda u: api(client, u, "POST", f"/api/v1/bookings/{visit.id}/review",
                                                  json=GOOD)) == "401 201 404 404 404 404 404 404"


def test_who_may_edit_reply_vote_and_report(client, world):
    path = f"/api/v1/reviews/{world.review_id}"
    assert _statuses(client, world, lambda u: api(client, u, "PATCH", path, json=GOOD)) == \
        "401 200 404 404 404 404 404 404"
    assert _statuses(client, world, lambda u: api(client, u, "POST", f"{path}/reply", json={"body": "Thanks!"})) == \
        "401 403 403 201 403 201 403 403"
    assert _statuses(client, world, lambda u: api(client, u, "POST", f"{path}/helpful")) == \
        "401 409 200 403 200 403 200 403"
    assert _statuses(client, world, lambda u: api(client, u, "POST", f"{path}/report", json={"reason": "fake"})) == \
        "401 201 201 201 201 201 201 201"


def test_staff_cannot_review_their_own_booking_at_their_store(client, world):
    staff = world.users["staff"]
    visit = checked_in_visit(world, staff)
    refused = api(client, staff, "POST", f"/api/v1/bookings/{visit.id}/review", json=GOOD)
    assert refused.status_code == 409 and refused.json["error"]["code"] == "not_reviewable"
    assert refused.json["error"]["details"]["reason"] == "works_at_store"


# -- bad input ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("change", "field"), [
    ({"rating": 6}, "rating"), ({"rating_value": 0}, "rating_value"), ({"rating_service": 4.5}, "rating_service"),
    ({"body": "short"}, "body"), ({"body": "x" * 2001}, "body"), ({"rating_described": None}, "rating_described"),
])
def test_bad_fields_get_422_with_details(client, world, change, field):
    visit = checked_in_visit(world)
    reply = api(client, world.resident, "POST", f"/api/v1/bookings/{visit.id}/review", json={**GOOD, **change})
    assert reply.status_code == 422 and field in reply.json["error"]["details"], reply.json


def test_refusals_are_clear_4xx(client, world):
    upcoming = api(client, world.resident, "POST", f"/api/v1/bookings/{world.booking.id}/review", json=GOOD)
    assert upcoming.status_code == 409 and upcoming.json["error"]["code"] == "not_reviewable"
    someone_elses = api(client, world.users["other_resident"], "POST",
                        f"/api/v1/bookings/{checked_in_visit(world).id}/review", json=GOOD)
    assert someone_elses.status_code == 404 and someone_elses.json["error"]["code"] == "not_found"
    assert api(client, world.resident, "POST", "/api/v1/bookings/2147483647/review", json=GOOD).status_code == 404
    assert api(client, world.resident, "POST", f"/api/v1/bookings/{world.booking.id}/review",
               data="{", content_type="application/json").status_code == 400


def test_a_10_mb_photo_and_a_pdf_named_jpg_are_refused(client, world, app):
    path = f"/api/v1/reviews/{world.review_id}/photos"
    huge = api(client, world.resident, "POST", path,
               **multipart({}, [("photos", "huge.jpg", b"\xff" * (10 * 1024 * 1024))]))
    assert huge.status_code == 413 and huge.json["error"]["code"] in ("image_too_large", "payload_too_large")
    pdf = api(client, world.resident, "POST", path, data={"photos": [(io.BytesIO(PDF_AS_JPEG), "menu.jpg")]},
              content_type="multipart/form-data")
    assert pdf.status_code == 422 and pdf.json["error"]["code"] == "image_unreadable"
    five = api(client, world.resident, "POST", path,
               data={"photos": [(io.BytesIO(png(n)), f"{n}.png") for n in range(5)]},
               content_type="multipart/form-data")
    assert five.status_code == 422
    as_json = api(client, world.resident, "POST", path, json={"photos": []})
    assert as_json.status_code == 415
    assert db.session.scalar(select(func.count()).select_from(ReviewPhoto)) == 0


def test_posting_reviews_is_rate_limited(client, world, app, monkeypatch):
    monkeypatch.setitem(app.config, "REVIEW_POSTS_PER_USER", "2 per hour")
    visits = [checked_in_visit(world, hours_ago=3 + n) for n in range(3)]
    codes = [api(client, world.resident, "POST", f"/api/v1/bookings/{v.id}/review", json=GOOD).status_code
             for v in visits]
    assert codes == [201, 201, 429]


def test_the_document_lists_the_review_endpoints(client):
    paths = client.get("/openapi.json").json["paths"]
    for path in ("/api/v1/bookings/{booking_id}/review", "/api/v1/reviews/{review_id}/photos",
                 "/api/v1/offerings/{offering_id}/reviews", "/api/v1/merchant/reviews",
                 "/api/v1/reviews/{review_id}/reply", "/api/v1/reviews/{review_id}/helpful",
                 "/api/v1/reviews/{review_id}/report"):
        assert path in paths, path


# -- pages -------------------------------------------------------------------------------------------

def test_review_form_writes_a_review_with_a_photo(client, auth, world):
    visit = checked_in_visit(world)
    auth.login(world.resident.email)
    form = client.get(f"/bookings/{visit.id}/review")
    page = form.get_data(as_text=True)
    assert form.status_code == 200 and 'type="radio" name="rating_service"' in page and 'name="photos"' in page
    done = auth.post(f"/bookings/{visit.id}/review", {**{k: str(v) for k, v in GOOD.items()},
                                                      "photos": (io.BytesIO(png(30)), "visit.png")},
                     content_type="multipart/form-data", follow_redirects=True)
    text = done.get_data(as_text=True)
    assert done.status_code == 200 and "Thank you for your review!" in text
    assert "The teacher was patient" in text and "Visited" in text
    review = db.session.scalar(select(Review).where(Review.booking_id == visit.id))
    assert len(review.photos) == 1


def test_review_form_says_what_is_wrong(client, auth, world):
    visit = checked_in_visit(world)
    auth.login(world.resident.email)
    short = auth.post(f"/bookings/{visit.id}/review", {"rating": "5", "body": "ok"})
    text = short.get_data(as_text=True)
    assert short.status_code == 422 and "Choose from 1 to 5 stars." in text and "Write from 10 to 2000" in text
    pdf = auth.post(f"/bookings/{visit.id}/review", {**{k: str(v) for k, v in GOOD.items()},
                                                     "photos": (io.BytesIO(PDF_AS_JPEG), "menu.jpg")},
                    content_type="multipart/form-data")
    assert pdf.status_code == 422 and "error-photos" in pdf.get_data(as_text=True)
    body = multipart({**{k: str(v) for k, v in GOOD.items()}, "csrf_token": auth.csrf("/")},
                     [("photos", "big.jpg", b"\xff" * (10 * 1024 * 1024))])
    huge = client.post(f"/bookings/{visit.id}/review", **body)
    assert 400 <= huge.status_code < 500
    assert db.session.scalar(select(func.count()).select_from(Review).where(Review.booking_id == visit.id)) == 0


def test_someone_elses_visit_has_no_review_form(client, auth, world):
    visit = checked_in_visit(world)
    auth.login(world.users["other_resident"].email)
    assert client.get(f"/bookings/{visit.id}/review").status_code == 404
    assert auth.post(f"/bookings/{visit.id}/review", {**{k: str(v) for k, v in GOOD.items()}}).status_code == 404


def test_reviews_page_filters_votes_and_reports(client, auth, world):
    page = client.get(f"/experiences/{world.offering.id}/reviews").get_data(as_text=True)
    assert "Friendly teacher" in page and "Visited" in page and 'name="rating"' in page
    assert "Friendly teacher" not in client.get(f"/experiences/{world.offering.id}/reviews?rating=5").get_data(
        as_text=True)
    assert "No reviews match these filters." in client.get(
        f"/stores/{world.store.id}/reviews?photos=1").get_data(as_text=True)
    auth.login(world.users["other_resident"].email)
    voted = auth.post(f"/reviews/{world.review_id}/helpful", {"next": f"/experiences/{world.offering.id}/reviews"},
                      follow_redirects=True).get_data(as_text=True)
    assert "1 person found this helpful" in voted and "You found this helpful" in voted
    auth.post(f"/reviews/{world.review_id}/report", {"reason": "offensive", "note": "rude words"})
    assert db.session.scalar(select(ReviewReport.reason).where(ReviewReport.review_id == world.review_id)) == \
        "offensive"


def test_merchant_replies_from_their_reviews_page(client, auth, world):
    auth.login(world.users["staff"].email)
    page = client.get("/merchant/reviews?unreplied=1").get_data(as_text=True)
    assert "Friendly teacher" in page and 'data-testid="reply-form"' in page
    auth.post(f"/reviews/{world.review_id}/reply", {"body": "Thank you for coming!", "next": "/merchant/reviews"})
    assert "Friendly teacher" not in client.get("/merchant/reviews?unreplied=1").get_data(as_text=True)
    shown = client.get(f"/experiences/{world.offering.id}/reviews").get_data(as_text=True)
    assert "Thank you for coming!" in shown and "Reply from Clay Corner" in shown


def test_an_admin_account_never_gets_a_review_form(client, auth, world):
    admin = world.users["admin"]
    assert admin.role == Role.ADMIN
    visit = checked_in_visit(world, admin)
    auth.login(admin.email)
    answer = client.get(f"/bookings/{visit.id}/review", follow_redirects=True).get_data(as_text=True)
    assert "You work at this store" in answer


def test_experience_and_store_pages_show_reviews_and_my_visits_offers_one(client, auth, world):
    for path in (f"/experiences/{world.offering.id}", f"/stores/{world.store.id}"):
        page = client.get(path).get_data(as_text=True)
        assert 'data-testid="reviews"' in page and "Friendly teacher" in page and "Visited" in page, path
        assert 'data-testid="rating-summary"' in page, path
    visit = checked_in_visit(world)
    auth.login(world.resident.email)
    visits = client.get("/me/visits").get_data(as_text=True)
    assert f'href="/bookings/{visit.id}/review"' in visits
    assert "Review your visit" in client.get(f"/bookings/{visit.id}").get_data(as_text=True)
