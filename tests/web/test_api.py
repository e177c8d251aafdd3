"""The JSON API under /api/v1: happy paths, the error envelope, validation, paging, and no 5xx."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from app.extensions import limiter
from app.merchants.models import Business, Store
from app.offerings.models import Offering, OfferingStatus
from geo.points import LngLat
from tests import factories as f

HUGE = "99999999999999999999"


@pytest.fixture
def shop(db):
    owner = f.create_merchant(email="owner@test.onsite")
    business = f.create_business(owner, name="Clay & Tea Co")
    store = f.create_store(business, name="Lakeside Studio", lng=120.1552, lat=30.2741)
    offering = f.create_offering(store, title="Pottery", price_amount=Decimal("88.00"))
    return {"owner": owner, "business": business, "store": store, "offering": offering,
            "headers": f.token_for(owner)}


def error_of(response, status: int, code: str) -> dict:
    """Check the JSON error envelope and return its inner object."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True)[:500])
    assert response.is_json, response.get_data(as_text=True)[:500]
    body = response.json
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)
    return error


def _count(db, model, *where) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


# -- accounts ----------------------------------------------------------------------

def test_register_then_token_then_write(client, db):
    created = client.post("/api/v1/auth/register", json={
        "email": "new@test.onsite", "password": "violet harbour 42", "display_name": "New", "role": "merchant"})
    assert created.status_code == 201
    token = client.post("/api/v1/auth/tokens", json={"email": "new@test.onsite", "password": "violet harbour 42"})
    assert token.status_code == 201
    headers = {"Authorization": f"Bearer {token.json['token']}"}
    business = client.post("/api/v1/businesses", json={"name": "New shop"}, headers=headers)
    assert business.status_code == 201
    assert client.get("/api/v1/businesses", headers=headers).json[0]["id"] == business.json["id"]


# -- businesses ---------------------------------------------------------------------

def test_business_create_list_and_patch(client, db, shop):
    response = client.post("/api/v1/businesses", headers=shop["headers"], json={
        "name": "  Second  ", "description": "More clay", "phone": "0571-1", "category": "crafts"})
    assert response.status_code == 201
    assert response.json == {"id": response.json["id"], "name": "Second", "description": "More clay",
                             "phone": "0571-1", "category": "crafts", "status": "active", "is_verified": False}
    listed = client.get("/api/v1/businesses", headers=shop["headers"])
    assert [b["id"] for b in listed.json] == [shop["business"].id, response.json["id"]]
    patched = client.patch(f"/api/v1/businesses/{response.json['id']}", headers=shop["headers"],
                           json={"phone": "0571-2"})
    assert patched.status_code == 200
    assert patched.json["phone"] == "0571-2" and patched.json["name"] == "Second"


def test_business_list_needs_login(client, db):
    error_of(client.get("/api/v1/businesses"), 401, "unauthenticated")


@pytest.mark.parametrize("body, field", [
    ({}, "name"), ({"name": ""}, "name"), ({"name": "x" * 121}, "name"), ({"name": "A", "category": "weapons"},
                                                                          "category"),
    ({"name": 5}, "name"), ({"name": "A", "phone": "1" * 41}, "phone"),
], ids=["missing", "empty", "too-long", "unknown-category", "number-name", "long-phone"])
def test_business_validation(client, db, shop, body, field):
    before = _count(db, Business)
    error = error_of(client.post("/api/v1/businesses", headers=shop["headers"], json=body), 422, "validation_failed")
    assert field in error["details"]
    assert _count(db, Business) == before


# -- stores -------------------------------------------------------------------------

def _store_body(shop, **overrides):
    return {"business_id": shop["business"].id, "name": "Wulin branch", "address": "1 Wulin Square",
            "lat": 30.274084, "lng": 120.15507, "timezone": "Asia/Shanghai", "geofence_m": 120,
            "hours": [{"weekday": 0, "opens": "09:00", "closes": "12:00"},
                      {"weekday": 0, "opens": "13:00", "closes": "18:00"},
                      {"weekday": 6, "opens": "10:00", "closes": "16:00"}], **overrides}


def test_store_create_get_and_list(client, db, shop):
    response = client.post("/api/v1/stores", headers=shop["headers"], json=_store_body(shop))
    assert response.status_code == 201
    store = response.json
    assert (store["lat"], store["lng"]) == (30.274084, 120.15507)
    assert store["business_id"] == shop["business"].id and store["business_name"] == "Clay & Tea Co"
    assert store["hours"] == [{"weekday": 0, "opens": "09:00", "closes": "12:00"},
                              {"weekday": 0, "opens": "13:00", "closes": "18:00"},
                              {"weekday": 6, "opens": "10:00", "closes": "16:00"}]
    assert store["timezone"] == "Asia/Shanghai" and store["geofence_m"] == 120 and store["status"] == "active"
    saved = db.session.get(Store, store["id"])
    assert LngLat.from_element(saved.location) == LngLat(lng=120.15507, lat=30.274084)

    public = client.get(f"/api/v1/stores/{store['id']}")
    assert public.status_code == 200 and public.json == store
    listed = client.get("/api/v1/stores", query_string={"business_id": shop["business"].id})
    assert [s["id"] for s in listed.json["items"]] == [shop["store"].id, store["id"]]
    assert all({"lat", "lng"} <= set(s) for s in listed.json["items"])
    assert listed.json["next_after_id"] is None


def test_store_patch_moves_its_offerings(client, db, shop):
    store, offering = shop["store"], shop["offering"]
    second = f.create_offering(store, title="Tea")
    response = client.patch(f"/api/v1/stores/{store.id}", headers=shop["headers"], json={"lat": 30.25, "lng": 120.17})
    assert response.status_code == 200
    assert (response.json["lat"], response.json["lng"]) == (30.25, 120.17)
    for item in (offering, second):
        got = client.get(f"/api/v1/offerings/{item.id}").json
        assert (got["lat"], got["lng"]) == (30.25, 120.17)
        assert (got["store"]["lat"], got["store"]["lng"]) == (30.25, 120.17)
    db.session.expire_all()
    locations = db.session.scalars(select(func.ST_AsText(Offering.location)).where(Offering.store_id == store.id))
    assert set(locations) == {"POINT(120.17 30.25)"}


def test_store_patch_with_one_coordinate_keeps_the_other(client, db, shop):
    response = client.patch(f"/api/v1/stores/{shop['store'].id}", headers=shop["headers"], json={"lat": 30.3})
    assert response.status_code == 200
    assert (response.json["lat"], response.json["lng"]) == (30.3, 120.1552)
    offering = client.get(f"/api/v1/offerings/{shop['offering'].id}").json
    assert (offering["lat"], offering["lng"]) == (30.3, 120.1552)


def test_store_patch_replaces_hours_and_renames(client, db, shop):
    response = client.patch(f"/api/v1/stores/{shop['store'].id}", headers=shop["headers"], json={
        "name": "Renamed", "hours": [{"weekday": 2, "opens": "08:30", "closes": "17:45"}]})
    assert response.status_code == 200
    assert response.json["name"] == "Renamed"
    assert response.json["hours"] == [{"weekday": 2, "opens": "08:30", "closes": "17:45"}]


def test_closed_store_leaves_the_public_api(client, db, shop):
    store = shop["store"]
    assert client.patch(f"/api/v1/stores/{store.id}", headers=shop["headers"],
                        json={"status": "closed_permanently"}).status_code == 200
    error_of(client.get(f"/api/v1/stores/{store.id}"), 404, "not_found")
    assert client.get(f"/api/v1/stores/{store.id}", headers=shop["headers"]).status_code == 200
    listed = client.get("/api/v1/stores", query_string={"business_id": shop["business"].id}).json
    assert listed["items"] == []
    assert client.get("/api/v1/offerings", query_string={"store_id": store.id}).json["items"] == []


@pytest.mark.parametrize("overrides, field", [
    ({"lat": 91}, "lat"),
    ({"lat": -90.000001}, "lat"),
    ({"lng": -181}, "lng"),
    ({"lng": 180.5}, "lng"),
    ({"lat": "NaN"}, "lat"),
    ({"lat": "nan"}, "lat"),
    ({"lng": "Infinity"}, "lng"),
    ({"lng": "-inf"}, "lng"),
    ({"lat": "abc"}, "lat"),
    ({"lat": "30,2"}, "lat"),
    ({"lat": True}, "lat"),
    ({"lat": None}, "lat"),
    ({"lat": [30.2]}, "lat"),
    ({"lat": {"value": 30.2}}, "lat"),
    ({"business_id": "abc"}, "business_id"),
    ({"geofence_m": 5}, "geofence_m"),
    ({"geofence_m": "wide"}, "geofence_m"),
    ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"hours": [{"weekday": 0, "opens": "18:00", "closes": "02:00"},
                {"weekday": 1, "opens": "01:00", "closes": "10:00"}]}, "hours"),  # Monday night runs into it
    ({"hours": [{"weekday": 0, "opens": "10:00", "closes": "10:00"},
                {"weekday": 0, "opens": "12:00", "closes": "13:00"}]}, "hours"),  # 24 hours, and more
    ({"hours": [{"weekday": 1, "opens": "09:00", "closes": "13:00"},
                {"weekday": 1, "opens": "12:00", "closes": "18:00"}]}, "hours"),
    ({"hours": [{"weekday": 7, "opens": "09:00", "closes": "10:00"}]}, "hours"),
    ({"hours": [{"weekday": -1, "opens": "09:00", "closes": "10:00"}]}, "hours"),
    ({"hours": [{"weekday": 0, "opens": "25:00", "closes": "26:00"}]}, "hours"),
    ({"hours": [{"weekday": 0, "opens": "9am", "closes": "5pm"}]}, "hours"),
    ({"hours": [{"weekday": 0, "opens": "09:00"}]}, "hours"),
    ({"hours": "Mon-Fri 9-5"}, "hours"),
], ids=lambda value: json.dumps(value, ensure_ascii=True)[:60] if isinstance(value, dict) else value)
def test_store_create_validation(client, db, shop, overrides, field):
    before = _count(db, Store)
    response = client.post("/api/v1/stores", headers=shop["headers"], json=_store_body(shop, **overrides))
    error = error_of(response, 422, "validation_failed")
    assert field in error["details"], error["details"]
    assert _count(db, Store) == before


@pytest.mark.parametrize("raw", [
    '{"business_id": %d, "name": "S", "lat": NaN, "lng": 120}',
    '{"business_id": %d, "name": "S", "lat": 30, "lng": Infinity}',
    '{"business_id": %d, "name": "S", "lat": 30, "lng": -Infinity}',
    '{"business_id": %d, "name": "S", "lat": 1e999, "lng": 120}',
], ids=["NaN-literal", "Infinity-literal", "minus-Infinity-literal", "overflow"])
def test_store_create_refuses_non_finite_json_numbers(client, db, shop, raw):
    before = _count(db, Store)
    response = client.post("/api/v1/stores", headers=shop["headers"], data=raw % shop["business"].id,
                           content_type="application/json")
    error = error_of(response, 422, "validation_failed")
    assert {"lat", "lng"} & set(error["details"])
    assert _count(db, Store) == before


def test_store_create_missing_fields(client, db, shop):
    error = error_of(client.post("/api/v1/stores", headers=shop["headers"], json={}), 422, "validation_failed")
    assert {"business_id", "name", "lat", "lng"} <= set(error["details"])


@pytest.mark.parametrize("body, field", [
    ({"lat": 91}, "lat"), ({"lng": -181}, "lng"), ({"lat": "NaN"}, "lat"), ({"timezone": "Mars/Olympus"}, "timezone"),
    ({"status": "demolished"}, "status"), ({"name": ""}, "name"),
    ({"hours": [{"weekday": 6, "opens": "22:00", "closes": "03:00"},
                {"weekday": 0, "opens": "02:00", "closes": "09:00"}]}, "hours"),
])
def test_store_patch_validation_changes_nothing(client, db, shop, body, field):
    store = shop["store"]
    response = client.patch(f"/api/v1/stores/{store.id}", headers=shop["headers"], json=body)
    error = error_of(response, 422, "validation_failed")
    assert field in error["details"]
    db.session.expire_all()
    fresh = db.session.get(Store, store.id)
    assert fresh.name == "Lakeside Studio" and fresh.timezone == "Asia/Shanghai" and len(fresh.hours) == 7
    assert LngLat.from_element(fresh.location) == LngLat(lng=120.1552, lat=30.2741)


def test_store_in_someone_elses_business_is_refused(client, db, shop):
    stranger = f.create_merchant()
    response = client.post("/api/v1/stores", headers=f.token_for(stranger), json=_store_body(shop))
    error_of(response, 403, "forbidden")


def test_store_in_unknown_business_is_404(client, db, shop):
    response = client.post("/api/v1/stores", headers=shop["headers"], json=_store_body(shop, business_id=987654321))
    error_of(response, 404, "not_found")


# -- offerings ------------------------------------------------------------------------

def _offering_body(shop, **overrides):
    return {"store_id": shop["store"].id, "title": "Tea ceremony", "description": "Longjing",
            "category": "food_tasting", "price_amount": "128.50", "currency": "CNY", "duration_min": 45,
            "capacity": 6, "cancel_cutoff_hours": 12, "policy_text": "Arrive early.", **overrides}


def test_offering_create_get_patch_archive(client, db, shop):
    response = client.post("/api/v1/offerings", headers=shop["headers"], json=_offering_body(shop))
    assert response.status_code == 201
    item = response.json
    assert item["price"] == {"amount": "128.50", "currency": "CNY", "free": False}
    assert (item["lat"], item["lng"]) == (30.2741, 120.1552)
    assert item["store"] == {"id": shop["store"].id, "name": "Lakeside Studio", "address": "1 Nanshan Road",
                             "lat": 30.2741, "lng": 120.1552}
    assert item["category"] == "food_tasting" and item["category_label"] == "Food & tasting"
    assert (item["duration_min"], item["capacity"], item["cancel_cutoff_hours"]) == (45, 6, 12)
    assert item["status"] == "active" and item["cover_image_url"] is None

    assert client.get(f"/api/v1/offerings/{item['id']}").json == item

    patched = client.patch(f"/api/v1/offerings/{item['id']}", headers=shop["headers"],
                           json={"price_amount": 0, "title": "Free tea"})
    assert patched.status_code == 200
    assert patched.json["price"] == {"amount": "0.00", "currency": "CNY", "free": True}
    assert patched.json["title"] == "Free tea"

    deleted = client.delete(f"/api/v1/offerings/{item['id']}", headers=shop["headers"])
    assert deleted.status_code == 204 and deleted.data == b""
    assert db.session.get(Offering, item["id"]).status == OfferingStatus.ARCHIVED
    error_of(client.get(f"/api/v1/offerings/{item['id']}"), 404, "not_found")
    ids = [o["id"] for o in client.get("/api/v1/offerings", query_string={"store_id": shop["store"].id}).json["items"]]
    assert item["id"] not in ids and shop["offering"].id in ids

    restored = client.patch(f"/api/v1/offerings/{item['id']}", headers=shop["headers"], json={"status": "active"})
    assert restored.status_code == 200 and restored.json["status"] == "active"
    assert client.get(f"/api/v1/offerings/{item['id']}").status_code == 200


def test_offering_price_accepts_numbers_and_strings(client, db, shop):
    prices = ((88, "88.00"), (88.5, "88.50"), ("0", "0.00"), ("12.3", "12.30"), ("99999999.99", "99999999.99"))
    for price, amount in prices:
        response = client.post("/api/v1/offerings", headers=shop["headers"],
                               json=_offering_body(shop, price_amount=price))
        assert response.status_code == 201, (price, response.json)
        assert response.json["price"]["amount"] == amount


@pytest.mark.parametrize("overrides, field", [
    ({"category": "weapons"}, "category"),
    ({"category": "Food & tasting"}, "category"),
    ({"price_amount": -1}, "price_amount"),
    ({"price_amount": "-0.01"}, "price_amount"),
    ({"price_amount": "1.234"}, "price_amount"),
    ({"price_amount": 1.234}, "price_amount"),
    ({"price_amount": "abc"}, "price_amount"),
    ({"price_amount": "NaN"}, "price_amount"),
    ({"price_amount": "Infinity"}, "price_amount"),
    ({"price_amount": "100000000"}, "price_amount"),
    ({"price_amount": None}, "price_amount"),
    ({"price_amount": True}, "price_amount"),
    ({"currency": "XXX"}, "currency"),
    ({"duration_min": 0}, "duration_min"),
    ({"duration_min": "sixty"}, "duration_min"),
    ({"capacity": 0}, "capacity"),
    ({"capacity": 1001}, "capacity"),
    ({"cancel_cutoff_hours": -1}, "cancel_cutoff_hours"),
    ({"title": ""}, "title"),
    ({"title": "x" * 141}, "title"),
    ({"store_id": "abc"}, "store_id"),
    ({"store_id": int(HUGE)}, "store_id"),
    ({"status": "archived"}, "status"),
], ids=lambda value: json.dumps(value, ensure_ascii=True)[:50] if isinstance(value, dict) else value)
def test_offering_create_validation(client, db, shop, overrides, field):
    before = _count(db, Offering)
    response = client.post("/api/v1/offerings", headers=shop["headers"], json=_offering_body(shop, **overrides))
    error = error_of(response, 422, "validation_failed")
    assert field in error["details"], error["details"]
    assert _count(db, Offering) == before


def test_offering_create_missing_fields(client, db, shop):
    error = error_of(client.post("/api/v1/offerings", headers=shop["headers"], json={}), 422, "validation_failed")
    assert {"store_id", "title", "category", "price_amount"} <= set(error["details"])


@pytest.mark.parametrize("body, field", [
    ({"price_amount": "1.234"}, "price_amount"), ({"price_amount": -5}, "price_amount"),
    ({"category": "weapons"}, "category"), ({"status": "deleted"}, "status"), ({"title": ""}, "title"),
    ({"capacity": 0}, "capacity"),
])
def test_offering_patch_validation_changes_nothing(client, db, shop, body, field):
    offering = shop["offering"]
    error = error_of(client.patch(f"/api/v1/offerings/{offering.id}", headers=shop["headers"], json=body),
                     422, "validation_failed")
    assert field in error["details"]
    db.session.expire_all()
    fresh = db.session.get(Offering, offering.id)
    assert (fresh.title, fresh.price_amount, fresh.status, fresh.capacity) == ("Pottery", Decimal("88.00"),
                                                                              "active", 1)


def test_offering_list_filters_by_category(client, db, shop):
    store = shop["store"]
    massage = f.create_offering(store, title="Massage", category="wellness_massage")
    response = client.get("/api/v1/offerings", query_string={"store_id": store.id, "category": "wellness_massage"})
    assert [o["id"] for o in response.json["items"]] == [massage.id]
    error_of(client.get("/api/v1/offerings", query_string={"category": "weapons"}), 422, "validation_failed")


# -- paging ------------------------------------------------------------------------------

def _walk(client, path: str, params: dict, limit: int) -> tuple[list[int], int]:
    ids, after, pages = [], 0, 0
    while True:
        page = client.get(path, query_string={**params, "limit": limit, "after_id": after})
        assert page.status_code == 200
        pages += 1
        assert len(page.json["items"]) <= limit
        ids.extend(item["id"] for item in page.json["items"])
        if page.json["next_after_id"] is None:
            return ids, pages
        assert page.json["next_after_id"] == page.json["items"][-1]["id"]
        after = page.json["next_after_id"]
        assert pages < 50


@pytest.mark.parametrize("total, limit", [(7, 3), (6, 3), (1, 1), (5, 200)])
def test_stores_page_without_duplicates_or_gaps(client, db, total, limit):
    business = f.create_business()
    created = [f.create_store(business, hours=False).id for _ in range(total)]
    f.create_store(f.create_business(), hours=False)  # another business's store stays out
    ids, pages = _walk(client, "/api/v1/stores", {"business_id": business.id}, limit)
    assert ids == sorted(created)
    assert pages >= -(-total // limit)


@pytest.mark.parametrize("total, limit", [(8, 3), (9, 3), (2, 100)])
def test_offerings_page_without_duplicates_or_gaps_or_archived(client, db, total, limit):
    store = f.create_store()
    created = [f.create_offering(store).id for _ in range(total)]
    archived = f.create_offering(store, status=OfferingStatus.ARCHIVED).id
    created.append(f.create_offering(store).id)
    ids, _ = _walk(client, "/api/v1/offerings", {"store_id": store.id}, limit)
    assert ids == sorted(created)
    assert archived not in ids


def test_archived_offerings_are_not_listed(client, db, shop):
    archived = f.create_offering(shop["store"], title="Gone", status=OfferingStatus.ARCHIVED)
    everything, _ = _walk(client, "/api/v1/offerings", {}, 100)
    assert shop["offering"].id in everything
    assert archived.id not in everything


@pytest.mark.parametrize("path, params", [
    ("/api/v1/stores", {"limit": 0}), ("/api/v1/stores", {"limit": 201}), ("/api/v1/stores", {"after_id": -1}),
    ("/api/v1/stores", {"limit": "ten"}), ("/api/v1/stores", {"after_id": HUGE}),
    ("/api/v1/stores", {"business_id": HUGE}), ("/api/v1/offerings", {"limit": 101}),
    ("/api/v1/offerings", {"after_id": HUGE}), ("/api/v1/offerings", {"store_id": HUGE}),
    ("/api/v1/offerings", {"store_id": "1; DROP TABLE stores"}),
])
def test_list_parameters_are_validated(client, db, path, params):
    error_of(client.get(path, query_string=params), 422, "validation_failed")


# -- errors ---------------------------------------------------------------------------------

@pytest.mark.parametrize("method, path", [
    ("GET", "/api/v1/stores/{huge}"), ("PATCH", "/api/v1/stores/{huge}"), ("GET", "/api/v1/offerings/{huge}"),
    ("PATCH", "/api/v1/offerings/{huge}"), ("DELETE", "/api/v1/offerings/{huge}"),
    ("PATCH", "/api/v1/businesses/{huge}"), ("GET", "/api/v1/stores/987654321"),
    ("PATCH", "/api/v1/stores/987654321"), ("GET", "/api/v1/offerings/987654321"),
    ("DELETE", "/api/v1/offerings/987654321"), ("PATCH", "/api/v1/businesses/987654321"),
    ("GET", "/api/v1/stores/2147483648"), ("GET", "/api/v1/stores/0"),
])
def test_unknown_and_huge_ids_are_404(client, db, shop, method, path):
    response = client.open(path.format(huge=HUGE), method=method, json={"name": "x"}, headers=shop["headers"])
    error_of(response, 404, "not_found")


@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v2/stores", "/api/v1/stores/abc", "/api/v1/offerings/1/x"])
def test_unknown_api_path_is_json_404(client, db, path):
    error_of(client.get(path), 404, "not_found")


def test_wrong_method_is_json_405(client, db, shop):
    error_of(client.put(f"/api/v1/stores/{shop['store'].id}", json={}, headers=shop["headers"]), 405,
             "method_not_allowed")
    error_of(client.delete(f"/api/v1/stores/{shop['store'].id}", headers=shop["headers"]), 405, "method_not_allowed")


@pytest.mark.parametrize("path, method", [
    ("/api/v1/stores", "POST"), ("/api/v1/offerings", "POST"), ("/api/v1/businesses", "POST"),
    ("/api/v1/stores/{store}", "PATCH"), ("/api/v1/offerings/{offering}", "PATCH"),
    ("/api/v1/businesses/{business}", "PATCH"), ("/api/v1/auth/register", "POST"), ("/api/v1/auth/tokens", "POST"),
])
@pytest.mark.parametrize("raw", ['{"name": ', "not json", "{'single': 'quotes'}", '{"a": 1,}', "\xff\xfe"],
                         ids=["truncated", "text", "single-quotes", "trailing-comma", "bad-bytes"])
def test_malformed_json_is_400(client, db, shop, path, method, raw):
    url = path.format(store=shop["store"].id, offering=shop["offering"].id, business=shop["business"].id)
    response = client.open(url, method=method, data=raw.encode("latin-1"), content_type="application/json",
                           headers=shop["headers"])
    error_of(response, 400, "malformed_json")


def test_form_encoded_body_is_a_clean_error(client, db, shop):
    response = client.post("/api/v1/stores", data={"name": "x"}, headers=shop["headers"])
    assert 400 <= response.status_code < 500
    assert response.json["error"]["code"] in ("validation_failed", "unsupported_media_type", "bad_request")


def test_permission_errors_use_the_envelope(client, db, shop):
    stranger = f.create_merchant()
    error_of(client.patch(f"/api/v1/stores/{shop['store'].id}", json={"name": "x"}, headers=f.token_for(stranger)),
             403, "forbidden")
    error_of(client.patch(f"/api/v1/stores/{shop['store'].id}", json={"name": "x"}), 401, "unauthenticated")


# -- nothing odd makes a 5xx ---------------------------------------------------------------

ODD_VALUES = [
    None, True, False, 0, -1, 1.5, 2**31, 2**63, 10**20, -(10**20), 1e308, -1e308, "", " ", "x" * 100_000,
    "🦄 東京 \u202e مرحبا", "a\u0000b", "\ud7ff\ue000", "NaN", "Infinity", "-1", "1.234", "12:00", "25:99",
    "Asia/Shanghai", "../../etc/passwd", "<script>alert(1)</script>", "' OR 1=1 --", [], [1, 2], [{}],
    [{"weekday": 0, "opens": "09:00", "closes": "10:00"}], {}, {"a": {"b": [1, {"c": None}]}}, ["x" * 10_000] * 10,
]
RAW_BODIES = [
    "[]", '"text"', "123", "null", "true", '{"lat": NaN, "lng": Infinity}', "[" * 50 + "]" * 50,
    '{"a": ' * 2000 + "1" + "}" * 2000, "[" * 100_000, '{"name": "\\ud800"}', '{"name": "x", "name": 5}', "",
]


def _targets(shop) -> list[tuple[str, str, dict]]:
    store, offering, business = shop["store"], shop["offering"], shop["business"]
    return [
        ("POST", "/api/v1/auth/register", {"email": "fuzz@test.onsite", "password": "violet harbour 42",
                                           "display_name": "Fuzz", "role": "resident"}),
        ("POST", "/api/v1/auth/tokens", {"email": "owner@test.onsite", "password": f.PASSWORD}),
        ("POST", "/api/v1/businesses", {"name": "Fuzz", "description": "", "phone": "", "category": "other"}),
        ("PATCH", f"/api/v1/businesses/{business.id}", {"name": "Fuzz", "description": "", "phone": "",
                                                         "category": "other"}),
        ("POST", "/api/v1/stores", _store_body(shop)),
        ("PATCH", f"/api/v1/stores/{store.id}", {**_store_body(shop), "status": "active", "business_id": None}),
        ("POST", "/api/v1/offerings", _offering_body(shop)),
        ("PATCH", f"/api/v1/offerings/{offering.id}", {**_offering_body(shop), "status": "active", "store_id": None}),
    ]


def test_odd_payloads_never_cause_a_server_error(client, db, shop):
    failures, sent = [], 0
    for method, path, base in _targets(shop):
        base = {k: v for k, v in base.items() if v is not None}
        payloads = [{**base, key: value} for key in base for value in ODD_VALUES]
        payloads += [{**base, "unexpected": {"deep": [1, 2, 3]}}, {key: None for key in base}]
        for payload in payloads:
            limiter.reset()
            response = client.open(path, method=method, json=payload, headers=shop["headers"])
            sent += 1
            if response.status_code >= 500 or not response.is_json:
                failures.append((method, path, json.dumps(payload, ensure_ascii=True)[:160], response.status_code))
        for raw in RAW_BODIES:
            limiter.reset()
            response = client.open(path, method=method, data=raw, content_type="application/json",
                                   headers=shop["headers"])
            sent += 1
            if response.status_code >= 500 or not response.is_json:
                failures.append((method, path, raw[:80], response.status_code))
    assert sent > 1000
    assert failures == [], "\n".join(map(str, failures))


@pytest.mark.parametrize("path", ["/api/v1/stores", "/api/v1/offerings"])
@pytest.mark.parametrize("params", [
    {"after_id": "x" * 100_000}, {"limit": "1e9"}, {"business_id": "\u0000"}, {"store_id": "NaN"},
    {"category": "\u0000"}, {"after_id": ["1", "2"]}, {"unknown": "1"},
], ids=["long", "float-limit", "nul", "nan", "nul-category", "repeated", "unknown"])
def test_odd_query_strings_never_cause_a_server_error(client, db, path, params):
    response = client.get(path, query_string=params)
    assert response.status_code < 500
    assert response.is_json


def test_the_openapi_document_lists_every_error_code(client, db):
    from app.error_codes import ERROR_CODES

    spec = client.get("/openapi.json").json
    assert spec["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]["enum"] == sorted(
        ERROR_CODES)
    for code in ("invalid_code", "already_checked_in", "not_confirmed", "wrong_store", "outside_window", "slot_full"):
        assert f"| `{code}` | {ERROR_CODES[code].http_status} |" in spec["info"]["description"]
    # Every body says whether it is required (tests/web/test_api_document.py checks which).
    assert all(isinstance(body.get("required"), bool) for path in spec["paths"].values()
               for operation in path.values()
               if isinstance(operation, dict) for body in [operation.get("requestBody", {"required": True})])
