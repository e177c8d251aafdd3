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
            ("POST", f"/api/v1/admin/review-reports/{NO_SUCH}/decide", {"decision": "keep"})]


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
            wanted = 404 if "review-reports" in url else 200
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
                 "/api/v1/admin/review-reports/{report_id}/decide"):
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
