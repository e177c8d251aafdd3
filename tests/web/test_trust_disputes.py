"""Disputes through the API and the pages: open with photos, the store's answer, the operator's decision, the
ledgers; who may do each write (every kind of visitor); bad input refused with a 4xx and its details, never a
500; deadlines shown on the store's clock."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from PIL import Image
from sqlalchemy import func, select

from app import clock
from app.extensions import db
from tests import factories as f
from tests.web._bookings_world import ACTORS, add_dispute, build_world
from trust import services
from trust.models import CompensationEntry, Dispute, DisputePhoto
from trust.models_admin import AdminAuditEntry

GOOD = {"reason": "turned_away", "description": "We came on time and nobody let us in.", "asks": "refund",
        "asked_amount": "88.00"}
PDF_AS_JPEG = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"


def png(shade: int = 90) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 90), (shade, 120, 200)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def world(db, app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    return build_world()


def api(client, user, method, path, **kw):
    headers = f.token_for(user) if user is not None else {}
    return client.open(path, method=method, headers=headers, **kw)


def dispute_of(world) -> Dispute:
    return services.get_dispute(world.resident, add_dispute(world))


def accepted(world) -> Dispute:
    dispute = dispute_of(world)
    services.answer_dispute(world.owner, dispute.id, {"action": "accept", "offer": "refund_at_store",
                                                      "amount": "30"}, [], clock.now())
    return dispute


def escalated(world) -> Dispute:
    dispute = dispute_of(world)
    services.answer_dispute(world.owner, dispute.id, {"action": "contest", "message": "We were open all day."}, [],
                            clock.now())
    return dispute


# -- the API ----------------------------------------------------------------------------------------------------

def test_the_whole_story_through_the_api(client, world):
    opened = api(client, world.resident, "POST", f"/api/v1/bookings/{world.ended.id}/dispute", json=GOOD)
    assert opened.status_code == 201, opened.json
    body = opened.json
    assert (body["status"], body["reason"], body["asked_amount"], body["store"]["timezone"]) == (
        "opened", "turned_away", {"amount": "88.00", "currency": "CNY"}, "Asia/Shanghai")
    assert body["respond_by"].endswith("+08:00") and "add_photos" in body["actions"]
    dispute_id = body["id"]
    photos = api(client, world.resident, "POST", f"/api/v1/disputes/{dispute_id}/photos",
                 data={"photos": [(io.BytesIO(png()), "door.png"), (io.BytesIO(png(30)), "sign.png")]},
                 content_type="multipart/form-data")
    assert photos.status_code == 201, photos.json
    assert [p["side"] for p in photos.json["photos"]] == ["resident", "resident"]
    assert photos.json["photos"][0]["url"].startswith("/media/")
    store_view = api(client, world.users["staff"], "GET", f"/api/v1/stores/{world.store.id}/disputes").json
    assert [d["id"] for d in store_view["items"]] == [dispute_id] and store_view["items"][0]["actions"] == [
        "answer", "add_photos"]
    contested = api(client, world.users["staff"], "POST", f"/api/v1/disputes/{dispute_id}/answer",
                    json={"action": "contest", "message": "The door was open; see the camera still."})
    assert contested.json["status"] == "escalated"
    assert [(e["by"], e["to_status"]) for e in contested.json["events"]] == [
        ("resident", "opened"), ("store", "merchant_contested"), ("system", "escalated")]
    queue = api(client, world.users["admin"], "GET", "/api/v1/disputes/escalated").json
    assert [d["id"] for d in queue["items"]] == [dispute_id] and queue["items"][0]["actions"] == ["decide"]
    decided = api(client, world.users["admin"], "POST", f"/api/v1/disputes/{dispute_id}/decide",
                  json={"outcome": "upheld", "note": "The booking was for a closed day.", "compensation": 50})
    assert decided.status_code == 200, decided.json
    assert decided.json["status"] == "upheld" and decided.json["actions"] == []
    assert [(e["debtor"], e["creditor"], e["amount"]) for e in decided.json["entries"]] == [
        ("platform", "resident", "50.00"), ("business", "platform", "50.00")]
    mine = api(client, world.resident, "GET", "/api/v1/me/compensation").json
    assert mine["balances"] == [{"currency": "CNY", "owed_to": "50.00", "owes": "0.00"}]
    business = api(client, world.owner, "GET", f"/api/v1/businesses/{world.store.business_id}/ledger").json
    assert business["balances"] == [{"currency": "CNY", "owed_to": "0.00", "owes": "50.00"}]
    confirmed = api(client, world.resident, "POST", f"/api/v1/disputes/{dispute_id}/confirm-received")
    assert confirmed.json["status"] == "closed"
    assert api(client, world.resident, "GET", "/api/v1/me/compensation").json["balances"] == []
    assert [d["id"] for d in api(client, world.resident, "GET", "/api/v1/disputes").json["items"]] == [dispute_id]


@pytest.mark.parametrize(("body", "fields"), [
    ({}, {"reason", "description", "asks"}),
    ({**GOOD, "reason": "bored"}, {"reason"}),
    ({**GOOD, "description": "short"}, {"description"}),
    ({**GOOD, "asked_amount": "-1"}, {"asked_amount"}),
    ({**GOOD, "asked_amount": "12.345"}, {"asked_amount"}),
    ({**GOOD, "asked_amount": None}, {"asked_amount"}),
    ({**GOOD, "description": ["a list"]}, {"description"}),
    ({**GOOD, "asks": "apology"}, {"asked_amount"}),
])
def test_bad_input_is_422_with_the_fields_named(client, world, body, fields):
    response = api(client, world.resident, "POST", f"/api/v1/bookings/{world.ended.id}/dispute", json=body)
    assert response.status_code == 422, response.json
    assert response.json["error"]["code"] == "validation_failed"
    assert fields <= set(response.json["error"]["details"])


def test_refusals_carry_their_codes(client, world):
    future = api(client, world.resident, "POST", f"/api/v1/bookings/{world.booking.id}/dispute", json=GOOD)
    assert (future.status_code, future.json["error"]["code"]) == (409, "not_disputable")
    overcharged = api(client, world.resident, "POST", f"/api/v1/bookings/{world.ended.id}/dispute",
                      json={**GOOD, "reason": "charged_more_than_listed"})
    assert (overcharged.status_code, overcharged.json["error"]["code"]) == (422, "not_overcharged")
    assert set(overcharged.json["error"]["details"]) == {"reason"} and "88.00" in overcharged.json["error"]["message"]
    no_show = api(client, world.resident, "POST", f"/api/v1/bookings/{world.ended.id}/dispute",
                  json={**GOOD, "reason": "wrongly_marked_no_show"})
    assert (no_show.status_code, no_show.json["error"]["code"]) == (422, "reason_not_applicable")
    assert api(client, world.resident, "POST", f"/api/v1/bookings/{world.ended.id}/dispute", json=GOOD).status_code \
        == 201
    again = api(client, world.resident, "POST", f"/api/v1/bookings/{world.ended.id}/dispute", json=GOOD)
    assert (again.status_code, again.json["error"]["code"]) == (409, "already_disputed")
    assert api(client, world.resident, "POST", "/api/v1/bookings/2147483647/dispute", json=GOOD).status_code == 404


def test_photos_are_refused_with_a_4xx(client, world, app, monkeypatch):
    dispute = dispute_of(world)
    path = f"/api/v1/disputes/{dispute.id}/photos"
    pdf = api(client, world.resident, "POST", path, data={"photos": [(io.BytesIO(PDF_AS_JPEG), "receipt.jpg")]},
              content_type="multipart/form-data")
    assert (pdf.status_code, pdf.json["error"]["code"]) == (422, "image_unreadable")
    assert "receipt.jpg" in pdf.json["error"]["message"]
    # Over the photo limit (lowered, so the body stays in memory: a spooled temporary file would outlive the test).
    monkeypatch.setitem(app.config, "MAX_PHOTO_BYTES", 100 * 1024)
    big = api(client, world.resident, "POST", path,
              data={"photos": [(io.BytesIO(b"\xff\xd8" + b"0" * (200 * 1024)), "big.jpg")]},
              content_type="multipart/form-data")
    assert big.status_code == 413 and big.json["error"]["code"] == "image_too_large"
    none = api(client, world.resident, "POST", path, data={}, content_type="multipart/form-data")
    assert none.status_code == 422
    too_many = api(client, world.resident, "POST", path,
                   data={"photos": [(io.BytesIO(png(n)), f"{n}.png") for n in range(5)]},
                   content_type="multipart/form-data")
    assert too_many.status_code == 422 and "photos" in too_many.json["error"]["details"]
    assert db.session.scalar(select(func.count()).select_from(DisputePhoto)) == 0


@pytest.mark.parametrize(("body", "fields"), [
    ({"action": "accept"}, {"offer"}),
    ({"action": "accept", "offer": "voucher"}, {"amount"}),
    ({"action": "contest", "message": "no"}, {"message"}),
    ({"action": "maybe"}, {"action"}),
    ({"action": "accept", "offer": "refund_at_store", "amount": "abc"}, {"amount"}),
])
def test_bad_answers_are_422(client, world, body, fields):
    dispute = dispute_of(world)
    response = api(client, world.owner, "POST", f"/api/v1/disputes/{dispute.id}/answer", json=body)
    assert response.status_code == 422, response.json
    assert fields <= set(response.json["error"]["details"])


def test_a_late_answer_is_refused(client, world):
    dispute = dispute_of(world)
    clock.travel(clock.now() + timedelta(hours=48, minutes=1), tick=False)
    late = api(client, world.owner, "POST", f"/api/v1/disputes/{dispute.id}/answer",
               json={"action": "accept", "offer": "none"})
    assert (late.status_code, late.json["error"]["code"]) == (409, "answer_window_closed")


# -- who may do what --------------------------------------------------------------------------------------------

def _multipart():
    return {"data": {"photos": [(io.BytesIO(png()), "p.png")]}, "content_type": "multipart/form-data"}


WRITES = {
    # name: (prepare(world) -> path, request kwargs, expected statuses in ACTORS order)
    "open": (lambda w: f"/api/v1/bookings/{w.ended.id}/dispute", lambda: {"json": GOOD},
             "401 201 404 403 404 403 404 403"),
    "photos": (lambda w: f"/api/v1/disputes/{dispute_of(w).id}/photos", _multipart,
               "401 201 404 201 404 201 404 403"),
    "answer": (lambda w: f"/api/v1/disputes/{dispute_of(w).id}/answer",
               lambda: {"json": {"action": "contest", "message": "We were open all day long."}},
               "401 403 404 200 404 200 404 403"),
    "withdraw": (lambda w: f"/api/v1/disputes/{dispute_of(w).id}/withdraw", lambda: {"json": {}},
                 "401 200 404 403 404 403 404 403"),
    "escalate": (lambda w: f"/api/v1/disputes/{accepted(w).id}/escalate",
                 lambda: {"json": {"note": "No refund came after a week."}}, "401 200 404 403 404 403 404 403"),
    "confirm": (lambda w: f"/api/v1/disputes/{accepted(w).id}/confirm-received", lambda: {},
                "401 200 404 403 404 403 404 403"),
    "decide": (lambda w: f"/api/v1/disputes/{escalated(w).id}/decide",
               lambda: {"json": {"outcome": "upheld", "note": "Closed on a booked day.", "compensation": "20"}},
               "401 403 404 403 404 403 404 200"),
}
CASES = [(name, index) for name in WRITES for index in range(len(ACTORS))]


@pytest.mark.parametrize(("write", "who"), CASES, ids=[f"{w}-{ACTORS[i]}" for w, i in CASES])
def test_who_may_write(client, world, write, who):
    path_of, request_of, expected = WRITES[write]
    path = path_of(world)
    before = db.session.execute(select(Dispute.id, Dispute.status)).all()
    response = api(client, world.users[ACTORS[who]], "POST", path, **request_of())
    assert str(response.status_code) == expected.split()[who], response.json
    if response.status_code >= 400:
        db.session.expire_all()
        assert db.session.execute(select(Dispute.id, Dispute.status)).all() == before


def test_reads_are_for_the_sides_and_the_operator(client, world):
    dispute = dispute_of(world)
    seen = [api(client, world.users[name], "GET", f"/api/v1/disputes/{dispute.id}").status_code for name in ACTORS]
    assert seen == [401, 200, 404, 200, 404, 200, 404, 200]
    ledger = [api(client, world.users[name], "GET", f"/api/v1/businesses/{world.store.business_id}/ledger").status_code
              for name in ACTORS]
    assert ledger == [401, 403, 403, 200, 403, 403, 403, 200]
    queue = [api(client, world.users[name], "GET", "/api/v1/disputes/escalated").status_code for name in ACTORS]
    assert queue == [401, 403, 403, 403, 403, 403, 403, 200]


# -- pages ------------------------------------------------------------------------------------------------------

def login(auth, user):
    assert auth.login(user.email).status_code == 302


def test_report_a_problem_from_the_booking_page_to_the_disputes_page(client, auth, world):
    login(auth, world.resident)
    form = client.get(f"/bookings/{world.ended.id}/dispute")
    assert form.status_code == 200
    page = form.get_data(as_text=True)
    assert 'data-testid="dispute-form"' in page and "(store time)" in page
    done = auth.post(f"/bookings/{world.ended.id}/dispute",
                     data={"reason": "turned_away", "description": "Nobody opened the door for us.",
                           "asks": "apology", "photos": (io.BytesIO(png()), "door.png")},
                     content_type="multipart/form-data")
    assert done.status_code == 302, done.get_data(as_text=True)
    dispute = db.session.scalar(select(Dispute).where(Dispute.booking_id == world.ended.id))
    assert done.headers["Location"].endswith(f"/disputes/{dispute.id}")
    page = client.get(f"/disputes/{dispute.id}").get_data(as_text=True)
    local = dispute.respond_by.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    assert 'data-testid="deadline"' in page and f"{local:%H:%M}" in page
    assert "Nobody opened the door for us." in page and "/media/" in page
    assert client.get(f"/bookings/{world.ended.id}/dispute").headers["Location"].endswith(f"/disputes/{dispute.id}")


def test_the_resident_sees_until_when_to_ask_onsite_and_is_refused_after(client, auth, world):
    dispute = accepted(world)
    until = services.escalate_by(dispute)
    login(auth, world.resident)
    page = client.get(f"/disputes/{dispute.id}").get_data(as_text=True)
    local = until.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai"))
    assert 'data-testid="escalate-deadline"' in page and f"{local:%H:%M}" in page
    assert api(client, world.resident, "GET", f"/api/v1/disputes/{dispute.id}").json["escalate_by"] == \
        local.isoformat()
    clock.travel(until + timedelta(minutes=1), tick=False)
    late = api(client, world.resident, "POST", f"/api/v1/disputes/{dispute.id}/escalate",
               json={"note": "They never gave the refund at the counter."})
    assert late.status_code == 409 and late.json["error"]["code"] == "escalation_window_closed"
    page = client.get(f"/disputes/{dispute.id}").get_data(as_text=True)
    assert 'data-testid="escalate-deadline"' not in page and f"/disputes/{dispute.id}/escalate" not in page


def upheld_with_recovery(world) -> tuple[Dispute, CompensationEntry]:
    """An escalated dispute upheld with 25 of compensation (committed), and the business's recovery entry."""
    dispute = escalated(world)
    services.decide_dispute(world.users["admin"], dispute.id, {"outcome": "upheld", "note": "Upheld.",
                                                               "compensation": "25"}, clock.now())
    db.session.commit()
    return dispute, db.session.scalars(select(CompensationEntry).where(CompensationEntry.dispute_id == dispute.id,
                                                                       CompensationEntry.reason == "recovery")).one()


def test_only_the_operator_settles_a_ledger_entry_through_the_api(client, world):
    dispute, entry = upheld_with_recovery(world)
    path = f"/api/v1/compensation/{entry.id}/close"
    body = {"action": "settle", "note": "Paid by bank transfer."}
    assert api(client, world.owner, "POST", path, json=body).status_code == 403
    assert api(client, world.users["admin"], "POST", path, json={"action": "pay", "note": "x"}).status_code == 422
    done = api(client, world.users["admin"], "POST", path, json=body)
    assert done.status_code == 200 and done.json["status"] == "settled" and done.json["settled_at"]
    again = api(client, world.users["admin"], "POST", path, json=body)
    assert again.status_code == 409 and again.json["error"]["code"] == "entry_not_owed"
    ledger = api(client, world.owner, "GET", f"/api/v1/businesses/{world.store.business_id}/ledger").json
    assert ledger["balances"] == [] and {e["status"] for e in ledger["entries"]} == {"settled"}


def test_the_operator_settles_an_entry_from_the_dispute_page(client, auth, world):
    dispute, entry = upheld_with_recovery(world)
    login(auth, world.resident)
    assert 'data-testid="close-entry"' not in client.get(f"/disputes/{dispute.id}").get_data(as_text=True)
    auth.logout()
    login(auth, world.users["admin"])
    page = client.get(f"/disputes/{dispute.id}").get_data(as_text=True)
    assert f"/operator/compensation/{entry.id}/close" in page
    empty = auth.post(f"/operator/compensation/{entry.id}/close", data={"action": "settle", "note": ""})
    assert empty.status_code == 302 and empty.headers["Location"].endswith(f"/disputes/{dispute.id}")
    db.session.expire_all()
    assert db.session.get(CompensationEntry, entry.id).status == "owed"
    done = auth.post(f"/operator/compensation/{entry.id}/close", data={"action": "settle", "note": "Bank transfer."})
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(CompensationEntry, entry.id).status == "settled"
    assert db.session.scalar(select(AdminAuditEntry.reason).where(AdminAuditEntry.action == "ledger_settle")) == \
        "Bank transfer."
    page = client.get(f"/disputes/{dispute.id}").get_data(as_text=True)
    assert f"/operator/compensation/{entry.id}/close" not in page


def test_the_form_says_what_is_wrong_without_a_500(client, auth, world):
    login(auth, world.resident)
    bad = auth.post(f"/bookings/{world.ended.id}/dispute",
                    data={"reason": "charged_more_than_listed", "description": "x", "asks": "refund"})
    assert bad.status_code == 422
    page = bad.get_data(as_text=True)
    assert 'data-testid="error-description"' in page and 'data-testid="error-asked_amount"' in page
    overcharged = auth.post(f"/bookings/{world.ended.id}/dispute",
                            data={"reason": "charged_more_than_listed", "description": "They charged us twice.",
                                  "asks": "apology"})
    assert overcharged.status_code == 422 and "not more than the listed" in overcharged.get_data(as_text=True)
    pdf = auth.post(f"/bookings/{world.ended.id}/dispute",
                    data={"reason": "other", "description": "Here is the receipt they gave.", "asks": "apology",
                          "photos": (io.BytesIO(PDF_AS_JPEG), "receipt.jpg")}, content_type="multipart/form-data")
    assert pdf.status_code == 422 and "receipt.jpg" in pdf.get_data(as_text=True)
    future = auth.post(f"/bookings/{world.booking.id}/dispute",
                       data={"reason": "other", "description": "Nothing happened yet, really.", "asks": "apology"})
    assert future.status_code == 302 and db.session.scalar(select(func.count()).select_from(Dispute)) == 0


def test_the_store_answers_on_the_page_and_the_operator_decides(client, auth, world):
    dispute = dispute_of(world)
    login(auth, world.users["staff"])
    listing = client.get(f"/merchant/stores/{world.store.id}/disputes").get_data(as_text=True)
    assert f"/disputes/{dispute.id}" in listing and "Answer by" in listing
    page = client.get(f"/disputes/{dispute.id}").get_data(as_text=True)
    assert 'data-testid="answer-form"' in page
    short = auth.post(f"/disputes/{dispute.id}/answer", data={"action": "contest", "message": "no"})
    assert short.status_code == 422 and 'data-testid="error-message"' in short.get_data(as_text=True)
    sent = auth.post(f"/disputes/{dispute.id}/answer",
                     data={"action": "contest", "message": "We were open; the camera shows the door.",
                           "photos": (io.BytesIO(png()), "camera.png")}, content_type="multipart/form-data")
    assert sent.status_code == 302
    auth.logout()
    login(auth, world.users["admin"])
    queue = client.get("/operator/disputes").get_data(as_text=True)
    assert f"/disputes/{dispute.id}" in queue
    assert 'data-testid="decide-form"' in client.get(f"/disputes/{dispute.id}").get_data(as_text=True)
    bad = auth.post(f"/disputes/{dispute.id}/decide", data={"outcome": "upheld", "note": "", "compensation": "x"})
    assert bad.status_code == 422
    done = auth.post(f"/disputes/{dispute.id}/decide",
                     data={"outcome": "upheld", "note": "The store was closed that day.", "compensation": "40"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/operator/disputes")
    auth.logout()
    login(auth, world.resident)
    mine = client.get("/me/compensation").get_data(as_text=True)
    assert 'data-testid="balances"' in mine and re.search(r"You are owed [^<]*40", mine)
    assert auth.post(f"/disputes/{dispute.id}/confirm").status_code == 302
    assert "Nothing is owed." in client.get("/me/compensation").get_data(as_text=True)
    auth.logout()
    login(auth, world.owner)
    ledger = client.get(f"/merchant/businesses/{world.store.business_id}/ledger").get_data(as_text=True)
    assert re.search(r"Your business owes [^<]*40", ledger)
    assert db.session.scalar(select(func.sum(CompensationEntry.amount))) == Decimal("80.00")


def test_the_booking_page_links_to_report_a_problem_or_to_the_dispute(client, auth, world):
    login(auth, world.resident)
    page = client.get(f"/bookings/{world.ended.id}").get_data(as_text=True)
    assert f"/bookings/{world.ended.id}/dispute" in page and 'data-testid="dispute-link"' in page
    dispute = dispute_of(world)
    assert f"/disputes/{dispute.id}" in client.get(f"/bookings/{world.ended.id}").get_data(as_text=True)
    assert f"/bookings/{world.booking.id}/dispute" not in client.get(f"/bookings/{world.booking.id}").get_data(
        as_text=True)


def test_opening_disputes_is_rate_limited_per_resident(client, world, app, monkeypatch):
    monkeypatch.setitem(app.config, "DISPUTE_OPENS_PER_USER", "1 per hour")
    path = f"/api/v1/bookings/{world.ended.id}/dispute"
    codes = [api(client, world.resident, "POST", path, json=GOOD).status_code for _ in range(2)]
    assert codes == [201, 429]  # without the limit the second is 409 already_disputed
    assert api(client, world.resident, "POST", path, json=GOOD).json["error"]["code"] == "rate_limited"
