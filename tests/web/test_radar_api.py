"""The radar's JSON API: a store's demand for its owner and staff (anyone else 404), the city's for admins (403),
bad parameters answered 422 with the field named, and never a cell under k or anything finer than a cell."""

from __future__ import annotations

import json

import h3
import pytest

from app.auth.models import Role
from tests import factories as f
from tests.web.test_insights import WEST_LAKE, searches
from tests.web.test_insights import shop as shop  # noqa: F401,PLC0414 - the same world as the pages' tests


def demand(client, store_id, user, query=""):
    return client.get(f"/api/v1/insights/stores/{store_id}/demand{query}", headers=f.token_for(user))


def test_the_owner_gets_cells_as_features_opportunities_and_peak_hours(client, db, shop):  # noqa: F811
    searches(db, 12, each=2)  # 24 searches by 12 people, all found nothing
    response = demand(client, shop["store"].id, shop["owner"])
    assert response.status_code == 200
    body = response.get_json()
    assert (body["store_id"], body["radius"], body["days"], body["k"], body["resolution"]) == (
        shop["store"].id, 3000, 7, 10, 9)
    (cell,) = body["cells"]
    assert cell["type"] == "Feature" and h3.is_valid_cell(cell["id"]) and h3.get_resolution(cell["id"]) == 9
    assert cell["id"] == h3.latlng_to_cell(*WEST_LAKE, 9)
    ring = cell["geometry"]["coordinates"][0]
    assert cell["geometry"]["type"] == "Polygon" and ring[0] == ring[-1] and len(ring) == 7
    assert cell["properties"] == {"searches": 25, "zero_results": 25, "few_results": 0, "waitlist_overflows": 0}
    (o,) = body["opportunities"]
    assert (o["category"], o["searches"], o["offers"], o["words"]) == ("class_workshop", 25, 1, None)
    assert o["own_offerings"] == [{"id": shop["offering"].id, "title": shop["offering"].title}]
    assert 1 <= len(o["peak_hours"]) <= 3 and all(1 <= h["weekday"] <= 7 for h in o["peak_hours"])
    assert body["peak_hours"] and set(body["peak_hours"][0]) == {"weekday", "hour"}
    assert demand(client, shop["store"].id, shop["staff"]).status_code == 200


def test_the_api_never_returns_a_cell_an_opportunity_or_peak_hours_under_k(client, db, shop):  # noqa: F811
    searches(db, 9, each=30)  # 270 searches by 9 people
    for radius in (1000, 3000, 5000):
        body = demand(client, shop["store"].id, shop["owner"], f"?days=90&radius={radius}").get_json()
        assert (body["cells"], body["opportunities"], body["peak_hours"]) == ([], [], [])
    admin = f.create_user(Role.ADMIN)
    body = client.get("/api/v1/admin/demand?days=90", headers=f.token_for(admin)).get_json()
    assert body["cells"] == [] and body["resolution"] == 7


def test_no_answer_holds_a_searcher_hash_or_a_searchs_exact_position(client, db, shop):  # noqa: F811
    searches(db, 12, each=1, lat=30.24612, lng=120.14937, who_from=987654321012)
    admin = f.create_user(Role.ADMIN)
    for response in (demand(client, shop["store"].id, shop["owner"]),
                     client.get("/api/v1/admin/demand", headers=f.token_for(admin))):
        text = json.dumps(response.get_json())
        assert response.get_json()["cells"]
        assert "98765432101" not in text and "30.24612" not in text and "120.14937" not in text


def test_another_merchants_store_and_an_unknown_one_are_not_found(client, db, shop):  # noqa: F811
    other = f.create_merchant()
    assert demand(client, shop["store"].id, other).status_code == 404
    assert demand(client, shop["store"].id, f.create_user()).status_code == 404
    assert demand(client, 2147483647, shop["owner"]).status_code == 404
    assert client.get(f"/api/v1/insights/stores/{shop['store'].id}/demand").status_code == 401
    assert client.get("/api/v1/admin/demand", headers=f.token_for(shop["owner"])).status_code == 403


@pytest.mark.parametrize(("query", "field"), [
    ("?radius=42", "radius"), ("?radius=abc", "radius"), ("?days=8", "days"), ("?days=-1", "days"),
    ("?category=nonsense", "category"), ("?days=99999999999999999999", "days"),
])
def test_bad_parameters_are_422_with_the_field_named(client, db, shop, query, field):  # noqa: F811
    for response in (demand(client, shop["store"].id, shop["owner"], query),
                     client.get(f"/api/v1/admin/demand{query}", headers=f.token_for(f.create_user(Role.ADMIN)))):
        if field == "radius" and "admin" in response.request.path:
            assert response.status_code == 200  # the city has no radius: an unknown parameter is ignored
            continue
        assert response.status_code == 422, (query, response.status_code)
        body = response.get_json()
        assert body["error"]["code"] == "validation_failed"
        assert field in body["error"]["details"]
