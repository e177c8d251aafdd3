"""Discovery over HTTP: /api/v1/offerings/nearby, /in-view, /places, and the map pages."""

from __future__ import annotations

import json
import random
import re
import string
from decimal import Decimal
from urllib.parse import quote

import pytest
from sqlalchemy import text

from app.demo import generate_offerings
from app.discovery import services
from app.offerings.models import Category
from app.web import HANGZHOU
from geo.points import LngLat
from tests import factories as f

WEST_LAKE = LngLat(lng=120.1490, lat=30.2460)
NEARBY = "/api/v1/offerings/nearby"
IN_VIEW = "/api/v1/offerings/in-view"
CITY_BOX = {"min_lng": 119.95, "min_lat": 30.05, "max_lng": 120.40, "max_lat": 30.45}


def nearby_url(**params) -> str:
    query = {"lat": WEST_LAKE.lat, "lng": WEST_LAKE.lng, **params}
    parts = []
    for key, value in query.items():
        for item in value if isinstance(value, list | tuple) else [value]:
            parts.append(f"{key}={quote(str(item), safe='')}")
    return f"{NEARBY}?{'&'.join(parts)}"


def ok(response) -> dict:
    assert response.status_code == 200, (response.status_code, response.get_data(as_text=True)[:800])
    return response.get_json()


def validation_details(response) -> dict:
    assert response.status_code == 422, (response.status_code, response.get_data(as_text=True)[:800])
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert isinstance(error["message"], str) and error["message"]
    return error["details"]


def near(metres_north: float, metres_east: float = 0.0) -> dict[str, float]:
    return {"lat": WEST_LAKE.lat + metres_north / 111_320,
            "lng": WEST_LAKE.lng + metres_east / 96_200}


# -- nearby: the happy path -----------------------------------------------------------

def test_nearby_item_shape(client, db):
    store = f.create_store(name="Lakeside Studio", address="1 Nanshan Road", **near(400))
    offering = f.create_offering(store, title="Pottery wheel taster", category=Category.CLASS,
                                 price_amount=Decimal("88"), currency="CNY", duration_min=90)

    body = ok(client.get(nearby_url()))

    assert set(body) == {"items", "next_cursor"}
    assert body["next_cursor"] is None
    [item] = body["items"]
    assert {"id", "title", "category", "price", "duration_min", "store", "distance_m", "open_now",
            "rating"} <= set(item)
    assert item["id"] == offering.id
    assert item["title"] == "Pottery wheel taster"
    assert item["category"] == "class_workshop"
    assert item["price"] == {"amount": "88.00", "currency": "CNY", "free": False}
    assert item["duration_min"] == 90
    assert item["store"]["id"] == store.id
    assert item["store"]["name"] == "Lakeside Studio"
    assert item["store"]["address"] == "1 Nanshan Road"
    assert item["store"]["lat"] == pytest.approx(near(400)["lat"], abs=1e-9)
    assert item["store"]["lng"] == pytest.approx(near(400)["lng"], abs=1e-9)
    assert isinstance(item["distance_m"], float) and item["distance_m"] == pytest.approx(400, rel=0.01)
    assert isinstance(item["open_now"], bool)
    assert item["rating"] is None


def test_nearby_free_and_rated_items(client, db):
    f.create_offering(price_amount=Decimal("0"), rating_avg=Decimal("4.50"), rating_count=7)

    [item] = ok(client.get(nearby_url()))["items"]

    assert item["price"] == {"amount": "0.00", "currency": "CNY", "free": True}
    assert item["rating"] == {"avg": 4.5, "count": 7}


def test_nearby_cursor_pages_through_everything(client, db):
    stores = [f.create_store(**near(100 * n, 50 * n)) for n in range(9)]
    created = {f.create_offering(store).id for store in stores for _ in range(3)}  # ties at every store
    everything = [item["id"] for item in ok(client.get(nearby_url(limit=50)))["items"]]
    assert set(everything) == created

    seen: list[int] = []
    cursor = None
    for _ in range(10):
        body = ok(client.get(nearby_url(limit=10, **({"cursor": cursor} if cursor else {}))))
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert cursor is None
    assert seen == everything


def test_nearby_repeated_category_params(client, db):
    food = f.create_offering(category=Category.FOOD, **near(100))
    yoga = f.create_offering(category=Category.FITNESS, **near(200))
    f.create_offering(category=Category.CLASS, **near(300))

    both = ok(client.get(nearby_url(category=["food_tasting", "fitness_coaching"])))
    one = ok(client.get(nearby_url(category=["fitness_coaching"])))
    twice = ok(client.get(nearby_url(category=["fitness_coaching", "fitness_coaching"])))

    assert [item["id"] for item in both["items"]] == [food.id, yoga.id]
    assert [item["id"] for item in one["items"]] == [yoga.id]
    assert [item["id"] for item in twice["items"]] == [yoga.id]


# -- nearby: bad input ---------------------------------------------------------------

@pytest.mark.parametrize(("params", "field"), [
    ({"lat": "91"}, "lat"),
    ({"lat": "-90.0001"}, "lat"),
    ({"lng": "-181"}, "lng"),
    ({"lng": "180.5"}, "lng"),
    ({"lat": "NaN"}, "lat"),
    ({"lat": "nan"}, "lat"),
    ({"lng": "Infinity"}, "lng"),
    ({"lat": "abc"}, "lat"),
    ({"lat": ""}, "lat"),
    ({"radius_m": "-1"}, "radius_m"),
    ({"radius_m": "0"}, "radius_m"),
    ({"radius_m": "50001"}, "radius_m"),
    ({"radius_m": "1e9"}, "radius_m"),
    ({"limit": "0"}, "limit"),
    ({"limit": "51"}, "limit"),
    ({"sort": "bogus"}, "sort"),
    ({"category": "bogus"}, "category"),
    ({"min_price": "-1"}, "min_price"),
    ({"min_price": "abc"}, "min_price"),
    ({"free": "maybe"}, "free"),
    ({"min_price": "100", "max_price": "50"}, "max_price"),
])
def test_nearby_rejects_bad_input_with_field_details(client, db, params, field):
    details = validation_details(client.get(nearby_url(**params)))

    assert field in details, details
    assert details[field] and all(isinstance(message, str) for message in details[field])


def test_nearby_requires_lat_and_lng(client, db):
    details = validation_details(client.get(NEARBY))
    assert {"lat", "lng"} <= set(details)


@pytest.fixture
def first_page(client, db):
    store = f.create_store(**near(300))
    for _ in range(3):
        f.create_offering(store, title="Pottery evening")
    body = ok(client.get(nearby_url(limit=2, q="pottery")))
    assert body["next_cursor"]
    return body


_B64 = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"


def _edit(cursor: str, position: int) -> str:
    """Change one character so that the decoded bytes change too (flip the top bit of its 6)."""
    char = cursor[position]
    replacement = _B64[_B64.index(char) ^ 32] if char in _B64 else "A"
    return cursor[:position] + replacement + cursor[position + 1:]


def test_a_cursor_with_any_one_character_changed_is_refused(client, first_page):
    cursor = first_page["next_cursor"]
    assert ok(client.get(nearby_url(limit=2, q="pottery", cursor=cursor)))["items"]
    for position in range(len(cursor)):
        edited = _edit(cursor, position)
        assert edited != cursor
        response = client.get(nearby_url(limit=2, q="pottery", cursor=edited))
        details = validation_details(response)
        assert "cursor" in details, (position, details)


def test_a_cursor_belongs_to_its_own_search(client, first_page):
    cursor = first_page["next_cursor"]

    for other in ({"lat": WEST_LAKE.lat + 0.001}, {"lng": WEST_LAKE.lng - 0.001}, {"q": "potter"},
                  {"sort": "rating"}, {"radius_m": 2999}, {"category": "class_workshop"}):
        params = {"limit": 2, "q": "pottery", "cursor": cursor, **other}
        details = validation_details(client.get(nearby_url(**params)))
        assert "cursor" in details, (other, details)
    # Another page size is still the same search.
    assert len(ok(client.get(nearby_url(limit=5, q="pottery", cursor=cursor)))["items"]) == 1


@pytest.mark.parametrize("cursor", ["x", "abc.def", "." * 50, "é", "A" * 500])
def test_a_made_up_cursor_is_refused(client, db, cursor):
    assert "cursor" in validation_details(client.get(nearby_url(cursor=cursor)))


# -- in view -------------------------------------------------------------------------

def in_view_url(**params) -> str:
    return IN_VIEW + "?" + "&".join(f"{k}={quote(str(v), safe='')}" for k, v in params.items())


@pytest.mark.parametrize(("box", "field"), [
    ({"min_lng": 120.2, "min_lat": 30.2, "max_lng": 120.1, "max_lat": 30.3}, "max_lng"),
    ({"min_lng": 120.1, "min_lat": 30.3, "max_lng": 120.2, "max_lat": 30.2}, "max_lat"),
    ({"min_lng": 120.1, "min_lat": 30.2, "max_lng": 120.1, "max_lat": 30.3}, "max_lng"),
    ({"min_lng": 119.0, "min_lat": 30.0, "max_lng": 121.01, "max_lat": 30.5}, "max_lng"),
    ({"min_lng": 120.0, "min_lat": 29.0, "max_lng": 120.5, "max_lat": 31.5}, "max_lat"),
    ({"min_lng": -181, "min_lat": 30.0, "max_lng": 120.5, "max_lat": 30.5}, "min_lng"),
    ({"min_lng": "nan", "min_lat": 30.0, "max_lng": 120.5, "max_lat": 30.5}, "min_lng"),
    ({"min_lat": 30.0, "max_lng": 120.5, "max_lat": 30.5}, "min_lng"),
])
def test_in_view_rejects_bad_boxes(client, db, box, field):
    details = validation_details(client.get(in_view_url(**box)))
    assert field in details, details


def test_in_view_few_offerings_come_as_features(client, db):
    placed = {f.create_offering(**near(200 * n)).id for n in range(4)}

    body = ok(client.get(in_view_url(**CITY_BOX)))

    assert body["mode"] == "features"
    assert {feature["id"] for feature in body["features"]} == placed
    assert body["total"] == 4
    for feature in body["features"]:
        assert {"id", "title", "category", "lat", "lng", "price", "store"} <= set(feature)
        assert WEST_LAKE.lat - 0.01 < feature["lat"] < WEST_LAKE.lat + 0.01


@pytest.fixture
def city(db):
    """600 offerings spread over the city, more than one response may carry."""
    assert generate_offerings(600, seed=5) == 600
    services.refresh_grid(db.session.connection(), concurrently=False)


@pytest.mark.parametrize(("extra", "matching"), [
    ({}, "true"),
    ({"category": "food_tasting"}, "category = 'food_tasting'"),
    ({"q": "synthetic"}, "search_text LIKE '%synthetic%'"),
    ({"open_now": "true"}, None),  # depends on the clock; only the cap is checked
], ids=["grid", "grid-category", "live-q", "live-open-now"])
def test_the_whole_city_in_view_never_carries_more_than_500(client, db, city, extra, matching):
    body = ok(client.get(in_view_url(**CITY_BOX, zoom=10, **extra)))

    assert len(body["features"]) + len(body["clusters"]) <= 500
    if matching is not None:
        expected = db.session.scalar(text(f"SELECT count(*) FROM offerings WHERE {matching}"))  # noqa: S608
        assert expected > 0
        assert body["total"] == expected
        shown = len(body["features"]) if body["mode"] == "features" else sum(c["count"] for c in body["clusters"])
        assert shown == expected
    if not extra:
        assert body["mode"] == "clusters"
        assert body["total"] == 600
    for cluster in body["clusters"]:
        assert CITY_BOX["min_lat"] <= cluster["lat"] <= CITY_BOX["max_lat"]
        assert CITY_BOX["min_lng"] <= cluster["lng"] <= CITY_BOX["max_lng"]
        assert cluster["count"] >= 1


# -- places --------------------------------------------------------------------------

def test_places_by_chinese_name(client, db):
    places = ok(client.get("/api/v1/places?q=" + quote("西湖")))

    assert places[0]["name"] == "West Lake, Hangzhou"
    assert places[0]["local_name"] == "西湖"
    assert places[0]["lat"] == pytest.approx(30.246, abs=0.01)
    assert places[0]["lng"] == pytest.approx(120.149, abs=0.01)


def test_places_by_english_name(client, db):
    places = ok(client.get("/api/v1/places?q=hangzhou"))

    hangzhou = [place for place in places if place["name"] == "Hangzhou" and place["country"] == "CN"]
    assert hangzhou, places
    assert hangzhou[0]["lat"] == pytest.approx(30.29, abs=0.1)
    assert hangzhou[0]["lng"] == pytest.approx(120.16, abs=0.1)
    assert ok(client.get("/api/v1/places?q=HANGZHOU")) == places


@pytest.mark.parametrize("query", ["", "?q=", "?limit=3", "?q=x&limit=0", "?q=x&limit=abc"])
def test_places_needs_a_name(client, db, query):
    details = validation_details(client.get("/api/v1/places" + query))
    assert set(details) <= {"q", "limit"} and details


# -- pages ---------------------------------------------------------------------------

def initial_results(response) -> dict:
    assert response.status_code == 200, response.status_code
    page = response.get_data(as_text=True)
    match = re.search(r'<script type="application/json" id="initial-results">(.*?)</script>', page, re.S)
    assert match, "no initial results embedded"
    return json.loads(match.group(1))


@pytest.mark.parametrize("path", ["/", "/explore"])
def test_pages_embed_the_initial_results(client, db, path):
    offering = f.create_offering(title="Tea tasting by the lake", lat=HANGZHOU.lat + 0.001, lng=HANGZHOU.lng)

    initial = initial_results(client.get(path))

    assert (initial["lat"], initial["lng"]) == pytest.approx((HANGZHOU.lat, HANGZHOU.lng))
    assert [item["id"] for item in initial["items"]] == [offering.id]
    assert initial["items"][0]["title"] == "Tea tasting by the lake"


def test_explore_centres_on_the_given_point(client, db):
    initial = initial_results(client.get("/explore?lat=31.2304&lng=121.4737"))
    assert (initial["lat"], initial["lng"]) == pytest.approx((31.2304, 121.4737))


@pytest.mark.parametrize("query", [
    "lat=91&lng=0", "lat=0&lng=181", "lat=nan&lng=nan", "lat=inf&lng=-inf", "lat=1e999&lng=1", "lat=abc",
    "lng=120", "lat=&lng=", "lat=%00&lng=%00", "lat=30.2&lat=31&lng=120.1", "lat=" + "9" * 5000,
    "lat=%E2%80%AE&lng=%F0%9F%98%80", "lat=%ff%fe&lng=%c3%28", "category=bogus&radius_m=-5", "lat[]=1&lng[]=2",
])
def test_explore_survives_odd_query_strings(client, db, query):
    # Text PostgreSQL cannot store (NUL) is refused app-wide with a flash and a redirect home.
    initial = initial_results(client.get("/explore?" + query, follow_redirects=True))
    assert -90 <= initial["lat"] <= 90 and -180 <= initial["lng"] <= 180


def test_explore_falls_back_to_the_default_centre(client, db):
    initial = initial_results(client.get("/explore?lat=91&lng=0"))
    assert (initial["lat"], initial["lng"]) == pytest.approx((HANGZHOU.lat, HANGZHOU.lng))


# -- fuzz ----------------------------------------------------------------------------

FILTER_KEYS = ["category", "q", "min_price", "max_price", "free", "open_now", "available_on", "part_of_day", "party"]
NEARBY_KEYS = ["lat", "lng", "radius_m", "sort", "limit", "cursor", *FILTER_KEYS]
IN_VIEW_KEYS = ["min_lng", "min_lat", "max_lng", "max_lat", "zoom", *FILTER_KEYS]
ODD_VALUES = [
    "", " ", "0", "-0", "1", "-1", "0.5", "30.25", "120.16", "91", "-181", "180", "-90", "50000", "50001",
    "1e400", "-1e400", "1e308", "1e-320", "9" * 400, "99999999999999999999999", "0x1A", "1_000", " 12 ",
    "nan", "NaN", "-nan", "inf", "-Infinity", "true", "false", "yes", "0", "maybe", "null", "None", "[]", "{}",
    "class_workshop", "food_tasting", "distance", "rating", "relevance", "2026-11-23", "2026-02-30", "9999-99-99",
    "morning", "evening", "50", "51",
    "陶艺", "西湖", "é", "\u202e", "😀", "\x00", "a\x00b", "\x1f", "%", "_", "%%", "\\", "'", "\"", "';--",
    "<script>", "a" * 101, "a" * 1000, "x.y", "eyJrIjpbMV19.abc",
]


def _random_query(rng: random.Random, keys: list[str], base: dict[str, str]) -> str:
    params: list[tuple[str, str]] = []
    if rng.random() < 0.6:
        params += list(base.items())
    for _ in range(rng.randint(0, 6)):
        key = rng.choice([*keys, "bogus", "lat[]", ""])
        value = rng.choice(ODD_VALUES) if rng.random() < 0.8 else "".join(
            chr(rng.randint(0, 0x2FFF)) for _ in range(rng.randint(1, 12)))
        params.append((key, value))
    rng.shuffle(params)
    return "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params)


@pytest.mark.parametrize(("path", "keys", "base"), [
    (NEARBY, NEARBY_KEYS, {"lat": "30.246", "lng": "120.149"}),
    (IN_VIEW, IN_VIEW_KEYS, {k: str(v) for k, v in CITY_BOX.items()}),
], ids=["nearby", "in-view"])
def test_fuzzed_query_strings_never_give_a_5xx(client, db, path, keys, base):
    for n in range(3):
        f.create_offering(title=f"Pottery {n} 陶艺", **near(100 * n))
    rng = random.Random(20261123)
    statuses: dict[int, int] = {}
    for _ in range(200):
        query = _random_query(rng, keys, base)
        response = client.get(f"{path}?{query}")
        assert response.status_code < 500, (query, response.get_data(as_text=True)[:500])
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    # The fuzz reached both the validation and the search itself.
    assert statuses.get(200, 0) >= 10 and statuses.get(422, 0) >= 10, statuses


@pytest.mark.parametrize(("path", "keys", "base"), [
    (NEARBY, NEARBY_KEYS, {"lat": "30.246", "lng": "120.149"}),
    (IN_VIEW, IN_VIEW_KEYS, {k: str(v) for k, v in CITY_BOX.items()}),
], ids=["nearby", "in-view"])
def test_every_odd_value_in_every_param_gives_no_5xx(client, db, path, keys, base):
    f.create_offering(title="Pottery 陶艺")
    for key in keys:
        for value in ODD_VALUES:
            for params in ({**base, key: value}, {key: value}):
                query = "&".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in params.items())
                response = client.get(f"{path}?{query}")
                assert response.status_code < 500, (query, response.get_data(as_text=True)[:500])
                assert response.status_code in (200, 422), (query, response.status_code)
