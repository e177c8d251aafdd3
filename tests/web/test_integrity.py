"""The integrity score over HTTP: the public JSON (GET /api/v1/businesses/<id>/integrity), the card on the store
and experience pages, and its effect on nearby's "Best match" (a merchant below the lower line leaves it;
sort=distance stays pure distance)."""

from __future__ import annotations

import itertools
from datetime import timedelta

import pytest

from app.merchants.models import BusinessStatus
from tests import factories as f
from trust.models_score import BusinessIntegrity
from trust.services import integrity as svc

_apart = itertools.count()


@pytest.fixture
def now(clock):
    instant = clock.now().replace(microsecond=0)
    clock.travel(instant, tick=False)
    return instant


def visits(offering, now, n: int) -> None:
    for i in range(n):
        slot = f.create_slot(offering, now - timedelta(days=i % 80 + 1, seconds=next(_apart) % 600))
        f.create_booking(slot, status="checked_in", created_at=slot.starts_at - timedelta(days=1))


def test_api_scored_merchant(client, db, now):
    offering = f.create_offering(capacity=50)
    business_id = offering.store.business_id
    visits(offering, now, 30)
    svc.recompute_business(business_id, now)

    body = client.get(f"/api/v1/businesses/{business_id}/integrity").get_json()
    assert body["score"] == 97 and body["status"] == "scored" and body["level"] == "good"
    assert body["visits"] == 30 and body["min_visits"] == 10 and body["window_days"] == 90
    parts = {p["key"]: p for p in body["parts"]}
    assert sum(p["weight"] for p in parts.values()) == 100
    assert parts["disputes"]["reason"] == "No upheld disputes in 90 days"
    assert parts["audits"]["reason"] == "No mystery-shopper audits yet" and parts["audits"]["weight"] == 5
    assert parts["reviews"]["points"] == 12.0
    (week,) = body["history"]
    assert week["score"] == 97 and week["moves"] == []


def test_api_new_and_never_computed(client, db, now):
    offering = f.create_offering()
    business_id = offering.store.business_id
    body = client.get(f"/api/v1/businesses/{business_id}/integrity").get_json()
    assert body["status"] == "new" and body["score"] is None and body["parts"] == [] and body["history"] == []
    visits(offering, now, 3)
    svc.recompute_business(business_id, now)
    body = client.get(f"/api/v1/businesses/{business_id}/integrity").get_json()
    assert body["status"] == "new" and body["score"] is None and body["visits"] == 3
    assert len(body["parts"]) == 7  # the parts so far


def test_api_unknown_and_suspended(client, db, auth):
    assert client.get(f"/api/v1/businesses/{2**31 - 1}/integrity").status_code == 404
    owner = f.create_merchant()
    business = f.create_business(owner)
    business.status = BusinessStatus.SUSPENDED
    db.session.flush()
    response = client.get(f"/api/v1/businesses/{business.id}/integrity")
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    assert client.get(f"/api/v1/businesses/{business.id}/integrity", headers=f.token_for(owner)).status_code == 200


def test_store_and_experience_pages_show_the_score_and_reasons(client, db, now):
    offering = f.create_offering(capacity=50)
    visits(offering, now, 20)
    svc.recompute_business(offering.store.business_id, now)
    for path in (f"/stores/{offering.store_id}", f"/experiences/{offering.id}"):
        page = client.get(path).get_data(as_text=True)
        assert 'data-testid="integrity"' in page and 'data-level="good"' in page, path
        assert "97 / 100" in page
        assert "No upheld disputes in 90 days" in page
        assert "Upheld disputes (25 of 25)" in page


def test_pages_say_new_with_the_parts_so_far(client, db, now):
    offering = f.create_offering(capacity=50)
    visits(offering, now, 2)
    svc.recompute_business(offering.store.business_id, now)
    page = client.get(f"/stores/{offering.store_id}").get_data(as_text=True)
    assert 'data-level="new"' in page
    assert "New on Onsite: a score shows after 10 visits in 90 days." in page
    assert "No upheld disputes in 90 days" in page


def _nearby(client, point, sort):
    body = client.get(f"/api/v1/offerings/nearby?lat={point.lat}&lng={point.lng}&radius_m=500&sort={sort}"
                      f"&limit=50").get_json()
    return [item["id"] for item in body["items"]]


def test_best_match_blends_integrity_and_drops_the_lowest(client, db, now):
    point = f.WEST_LAKE
    far_lng = point.lng + 0.002  # about 190 m east
    near_low = f.create_offering(lng=point.lng, lat=point.lat)
    near_warned = f.create_offering(lng=point.lng + 0.0001, lat=point.lat)
    far_good = f.create_offering(lng=far_lng, lat=point.lat)
    far_new = f.create_offering(lng=far_lng + 0.0001, lat=point.lat)
    for offering, score in ((near_low, 30), (near_warned, 55), (far_good, 100)):
        db.session.add(BusinessIntegrity(business_id=offering.store.business_id, score=score, visits=50, parts=[],
                                         counts={}, computed_at=now))
    db.session.flush()
    mine = {near_low.id, near_warned.id, far_good.id, far_new.id}

    best = [i for i in _nearby(client, point, "relevance") if i in mine]
    assert near_low.id not in best  # below the lower line: out of "Best match"
    assert best.index(far_good.id) < best.index(near_warned.id)  # 190 m further, but trusted
    nearest = [i for i in _nearby(client, point, "distance") if i in mine]
    assert nearest[0] == near_low.id and set(nearest) == mine  # distance stays distance, nobody hidden


def test_dashboard_draws_the_weekly_chart_with_what_moved_it(client, db, auth, now):
    from trust.models import Dispute, DisputeEvent

    offering = f.create_offering(capacity=50)
    business = offering.store.business
    visits(offering, now, 40)
    svc.recompute_business(business.id, now - timedelta(days=14))
    svc.recompute_business(business.id, now - timedelta(days=7))
    booking = f.create_booking(f.create_slot(offering, now - timedelta(days=3)), status="checked_in")
    dispute = Dispute(booking_id=booking.id, store_id=booking.store_id, resident_id=booking.resident_id,
                      reason="not_as_described", description="Not what the page said.", asks="apology",
                      currency="CNY", status="upheld", opened_at=now - timedelta(days=2),
                      respond_by=now + timedelta(hours=1))
    db.session.add(dispute)
    db.session.flush()
    db.session.add(DisputeEvent(dispute_id=dispute.id, from_status="escalated", to_status="upheld",
                                created_at=now - timedelta(days=1)))
    db.session.flush()
    svc.recompute_business(business.id, now)

    auth.login(business.owner.email)
    page = client.get("/merchant/").get_data(as_text=True)
    assert 'data-testid="integrity-chart"' in page
    assert page.count("<circle") >= 3 and "<polyline" in page
    assert "Upheld disputes -" in page and "1 upheld dispute in 90 days" in page
