"""The operator's console over HTTP: every /api/v1/admin endpoint with a valid body for every role (only the
admin gets through, the merchant is unchanged otherwise), the endpoints in /docs, and the pages: an admin
suspends a merchant from its console page, its experience page answers 404 and search drops it, reinstating
brings it back."""

from __future__ import annotations

import pytest

from app.auth.models import Role
from app.extensions import db as _db
from app.merchants.models import Business
from tests import factories as f

NO_SUCH = 2**31 - 1


def endpoints(business_id: int) -> list[tuple[str, str, dict | None]]:
    base = f"/api/v1/admin/merchants/{business_id}"
    return [("GET", "/api/v1/admin/merchants?q=Kiln", None), ("GET", base, None),
            ("GET", "/api/v1/admin/queues", None), ("GET", "/api/v1/admin/overview", None),
            ("POST", f"{base}/verify", {"note": "Licence seen"}), ("POST", f"{base}/warn", {"reason": "Late again"}),
            ("POST", f"{base}/suspend", {"reason": "Overcharging"}),
            ("POST", f"{base}/reinstate", {"reason": "Refunded"}),
            ("POST", f"/api/v1/admin/review-reports/{NO_SUCH}/decide", {"decision": "keep"}),
            ("GET", "/api/v1/admin/audits?status=failed", None),
            ("POST", "/api/v1/admin/audits", {"n": 1, "quarter": "2026Q4"}),  # no auditor exists: 409 for the admin
            ("POST", f"/api/v1/admin/audits/{NO_SUCH}/close", {"note": "Spoke to the owner"})]


def found(client) -> list[int]:
    search = client.get("/api/v1/offerings/nearby?lng=120.149&lat=30.246&radius_m=3000").get_json()
    return [item["id"] for item in search["items"]]


@pytest.fixture
def shop(db):
    owner = f.create_merchant()
    store = f.create_store(f.create_business(owner, name="Kiln Street Studio"))
    offering = f.create_offering(store, title="Raku firing")
    staff = f.add_staff(store, f.create_user(Role.STAFF))
    return {"owner": owner, "store": store, "offering": offering, "business_id": store.business_id,
            "users": {"resident": f.create_user(), "owner": owner, "staff": staff, "other_owner": f.create_merchant(),
                      "admin": f.create_user(Role.ADMIN)}}


@pytest.mark.parametrize("who", ["anonymous", "resident", "owner", "staff", "other_owner", "admin"])
def test_every_admin_endpoint_is_admin_only(client, shop, who):
    user = shop["users"].get(who)
    headers = f.token_for(user) if user else {}
    expected = {"anonymous": 401, "admin": None}.get(who, 403)
    for method, url, body in endpoints(shop["business_id"]):
        response = client.open(url, method=method, json=body, headers=headers)
        if expected is None:
            wanted = 404 if str(NO_SUCH) in url else 409 if url.endswith("/audits") and method == "POST" else 200
            assert response.status_code == wanted, (url, response.get_json())
        else:
            assert response.status_code == expected, url
            assert response.get_json()["error"]["code"] == ("unauthenticated" if expected == 401 else "forbidden")
    business = _db.session.get(Business, shop["business_id"])
    _db.session.refresh(business)
    assert business.is_verified == (who == "admin") and business.status == "active"


def test_api_suspend_twice_is_a_conflict_and_reinstate_an_active_one_too(client, shop):
    headers = f.token_for(shop["users"]["admin"])
    url = f"/api/v1/admin/merchants/{shop['business_id']}"
    assert client.post(f"{url}/suspend", json={"reason": "Overcharging"}, headers=headers).get_json()["status"] \
        == "suspended"
    again = client.post(f"{url}/suspend", json={"reason": "Overcharging"}, headers=headers)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "already_suspended"
    client.post(f"{url}/reinstate", json={"reason": "Refunded"}, headers=headers)
    twice = client.post(f"{url}/reinstate", json={"reason": "Refunded"}, headers=headers)
    assert twice.status_code == 409 and twice.get_json()["error"]["code"] == "not_suspended"
    short = client.post(f"{url}/warn", json={"reason": " "}, headers=headers)
    assert short.status_code == 422 and "reason" in short.get_json()["error"]["details"]
    history = client.get(url, headers=headers).get_json()
    assert [a["action"] for a in history["audit"]] == ["reinstate", "suspend"]


def test_admin_endpoints_are_in_the_docs(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    for path in ("/api/v1/admin/merchants", "/api/v1/admin/merchants/{business_id}/suspend",
                 "/api/v1/admin/merchants/{business_id}/reinstate", "/api/v1/admin/merchants/{business_id}/verify",
                 "/api/v1/admin/merchants/{business_id}/warn", "/api/v1/admin/queues", "/api/v1/admin/overview",
                 "/api/v1/admin/review-reports/{report_id}/decide", "/api/v1/admin/audits",
                 "/api/v1/admin/audits/{audit_id}/close", "/api/v1/audits", "/api/v1/audits/{audit_id}/checklist"):
        assert path in paths, path


def test_pages_suspend_and_reinstate(client, auth, shop):
    admin = shop["users"]["admin"]
    auth.login(admin.email)
    page = client.get("/admin/merchants?q=kiln")
    assert page.status_code == 200 and b"Kiln Street Studio" in page.data
    offering_url = f"/experiences/{shop['offering'].id}"
    assert client.get(offering_url).status_code == 200
    assert shop["offering"].id in found(client)
    merchant_url = f"/admin/merchants/{shop['business_id']}"
    before = client.get(merchant_url).data.decode()
    assert 'data-testid="form-suspend"' in before and 'data-testid="form-reinstate"' not in before, before[-3000:]
    auth.post(f"{merchant_url}/suspend", {"reason": "Overcharging residents"})
    shown = client.get(merchant_url)
    assert b'data-testid="suspended-badge"' in shown.data and b"Overcharging residents" in shown.data
    auth.logout()
    assert client.get(offering_url).status_code == 404
    assert shop["offering"].id not in found(client)
    auth.login(admin.email)
    auth.post(f"{merchant_url}/reinstate", {"reason": "Refunded everyone"})
    auth.logout()
    assert client.get(offering_url).status_code == 200 and shop["offering"].id in found(client)
    for path in ("/admin", "/admin/queues"):
        auth.login(admin.email)
        assert client.get(path).status_code == 200


def test_the_verified_badge_shows_on_the_store_and_experience_pages(client, shop):
    from app import clock
    from trust import services

    store_url, offering_url = f"/stores/{shop['store'].id}", f"/experiences/{shop['offering'].id}"
    assert b'data-testid="verified-badge"' not in client.get(offering_url).data
    services.verify_merchant(shop["users"]["admin"], shop["business_id"], "Licence checked at the counter",
                             clock.now())
    for url in (store_url, offering_url):
        page = client.get(url)
        assert b'data-testid="verified-badge"' in page.data and b"Licence checked at the counter" in page.data


def test_a_merchant_with_a_score_disputes_and_reports_renders(client, auth, shop):
    from datetime import timedelta

    from app import clock
    from trust import services
    from trust.models import Review

    now = clock.now()
    for i in range(12):
        f.create_booking(f.create_slot(shop["offering"], now - timedelta(days=i + 1)), status="checked_in")
    booking = f.create_booking(f.create_slot(shop["offering"], now - timedelta(hours=5)), status="checked_in")
    review = Review(booking_id=booking.id, offering_id=shop["offering"].id, store_id=shop["store"].id,
                    resident_id=booking.resident_id, rating=4, rating_described=4, rating_service=4, rating_value=4,
                    body="Good class, a little rushed at the end.", created_at=now - timedelta(hours=1))
    _db.session.add(review)
    _db.session.flush()
    services.report_review(shop["users"]["resident"], review.id, "fake", "", now)
    services.recompute_business(shop["business_id"], now)
    services.warn_merchant(shop["users"]["admin"], shop["business_id"], "Late twice", now)
    auth.login(shop["users"]["admin"].email)
    page = client.get(f"/admin/merchants/{shop['business_id']}")
    assert page.status_code == 200 and b"Good class" in page.data and b'data-testid="score-weeks"' in page.data
    assert client.get("/admin/queues").status_code == 200 and client.get("/admin").status_code == 200


def test_audits_through_the_api_from_schedule_to_closed_case(client, shop, clock):
    from datetime import timedelta

    now = clock.now()
    admin, auditor = shop["users"]["admin"], f.create_user(Role.AUDITOR)
    made = client.post("/api/v1/admin/audits", json={"n": 1, "quarter": "2026Q4"}, headers=f.token_for(admin))
    assert made.status_code == 201, made.get_json()
    (audit,) = made.get_json()["items"]
    assert (audit["business_id"], audit["auditor_id"], audit["status"]) == (shop["business_id"], auditor.id,
                                                                           "scheduled")
    mine = client.get("/api/v1/audits", headers=f.token_for(auditor)).get_json()["items"]
    assert [(a["id"], a["visit_ids"]) for a in mine] == [(audit["id"], [])]
    other = f.create_user(Role.AUDITOR)
    assert client.get(f"/api/v1/audits/{audit['id']}", headers=f.token_for(other)).status_code == 404
    assert client.get("/api/v1/audits", headers=f.token_for(other)).get_json()["items"] == []
    answers = {key: True for key in ("price_as_listed", "as_described", "duration_kept", "hygiene",
                                     "staff_courtesy")}
    early = client.post(f"/api/v1/audits/{audit['id']}/checklist", json={"answers": answers},
                        headers=f.token_for(auditor))
    assert early.status_code == 409 and early.get_json()["error"]["code"] == "audit_not_visited"
    visit = f.create_booking(f.create_slot(shop["offering"], now + timedelta(hours=1)), auditor, status="checked_in")
    bad = client.post(f"/api/v1/audits/{audit['id']}/checklist", json={"answers": {**answers, "hygiene": "maybe"}},
                      headers=f.token_for(auditor))
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "validation_failed"
    filed = client.post(f"/api/v1/audits/{audit['id']}/checklist",
                        json={"answers": {**answers, "hygiene": False}, "notes": "Dusty cups"},
                        headers=f.token_for(auditor))
    assert filed.status_code == 200 and (filed.get_json()["status"], filed.get_json()["booking_id"]) == (
        "failed", visit.id)
    queues = client.get("/api/v1/admin/queues", headers=f.token_for(admin)).get_json()
    assert queues["failed_audits"]["count"] == 1 and queues["audits_due"]["count"] == 0
    history = client.get(f"/api/v1/admin/merchants/{shop['business_id']}", headers=f.token_for(admin)).get_json()
    assert [a["status"] for a in history["audits"]] == ["failed"]
    url = f"/api/v1/admin/audits/{audit['id']}/close"
    assert client.post(url, json={"note": "x"}, headers=f.token_for(admin)).status_code == 422
    closed = client.post(url, json={"note": "Spoke to the owner"}, headers=f.token_for(admin))
    assert closed.status_code == 200 and closed.get_json()["case_note"] == "Spoke to the owner"
    again = client.post(url, json={"note": "Spoke to the owner"}, headers=f.token_for(admin))
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "audit_case_closed"
    listed = client.get("/api/v1/admin/audits?status=failed", headers=f.token_for(admin)).get_json()["items"]
    assert [a["case_closed_at"] is not None for a in listed] == [True]
    assert client.get("/api/v1/admin/audits?status=nope", headers=f.token_for(admin)).status_code == 422
    # the merchant's view of the auditor's booking says nothing of the audit
    page = client.get(f"/api/v1/bookings/{visit.id}", headers=f.token_for(shop["owner"]))
    assert page.status_code == 200 and "audit" not in page.get_data(as_text=True).lower()
