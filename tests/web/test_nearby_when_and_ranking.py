"""'When can I go?' (available_on + part_of_day + party) and the "Best match" / "Rating" orders, over HTTP,
compared with straightforward reference answers on a random world and random searches.

The references are written the plain way: every visible offering's distance from PostGIS (ST_Distance for the
radius, ``<->`` for the order, as the API documents), each slot's store-local time from zoneinfo in Python,
and the ranking formula of the README evaluated in Python.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from app.discovery import services
from app.offerings.models import OfferingStatus
from bookings.models import Schedule, Slot
from geo.points import LngLat
from tests import factories as f

WEST_LAKE = LngLat(lng=120.1490, lat=30.2460)
NEARBY = "/api/v1/offerings/nearby"
IN_VIEW = "/api/v1/offerings/in-view"
SHANGHAI = ZoneInfo("Asia/Shanghai")
ZONES = ["Asia/Shanghai", "Asia/Shanghai", "America/New_York", "Europe/London"]
WORDS = ["pottery", "tea", "glaze", "evening", "yoga", "silk", "陶艺"]
PARTS = {"morning": (0, 12), "afternoon": (12, 17), "evening": (17, 24)}  # store-local start hours, [from, to)


def url(path: str, **params) -> str:
    return path + "?" + "&".join(f"{k}={quote(str(v), safe='')}" for k, v in params.items() if v is not None)


def ok(response) -> dict:
    assert response.status_code == 200, (response.status_code, response.get_data(as_text=True)[:800])
    return response.get_json()


def all_pages(client, limit: int, **params) -> list[dict]:
    """Follow next_cursor to the end; every item in order."""
    items: list[dict] = []
    cursor = None
    for _ in range(100):
        body = ok(client.get(url(NEARBY, limit=limit, cursor=cursor, **params)))
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items
        assert body["items"], "a page with a next_cursor must not be empty"
    raise AssertionError("paging does not end")


def random_point(rng: random.Random, around: LngLat, max_m: float) -> LngLat:
    metres, bearing = max_m * math.sqrt(rng.random()), rng.uniform(0, 2 * math.pi)
    return LngLat(lng=around.lng + metres * math.sin(bearing) / (111_320 * math.cos(math.radians(around.lat))),
                  lat=around.lat + metres * math.cos(bearing) / 111_320)


@dataclass
class Row:
    """What the references need to know of one offering."""

    id: int
    title: str
    zone: str
    created_at: datetime
    notice_min: int
    visible: bool
    slots: list[Slot]


@pytest.fixture
def world(db, clock) -> dict[int, Row]:
    """About 70 offerings within 4 km of West Lake, stores in four zones, random ages, notices and slots
    over the next days (some full, some cancelled, some inside the notice, some on the parts' edges)."""
    rng = random.Random(20261128)
    now = clock.now()
    rows: dict[int, Row] = {}
    for _ in range(35):
        point = random_point(rng, WEST_LAKE, 4_000)
        zone = rng.choice(ZONES)
        store = f.create_store(lng=point.lng, lat=point.lat, timezone=zone)
        for _ in range(rng.choice((1, 2, 2, 3))):
            title = " ".join(rng.sample(WORDS, rng.randint(1, 3))).capitalize()
            offering = f.create_offering(
                store, title=title, description=" ".join(rng.sample(WORDS, 2)), capacity=8,
                status=OfferingStatus.ARCHIVED if rng.random() < 0.05 else OfferingStatus.ACTIVE)
            offering.created_at = now - timedelta(days=rng.choice((0, 0.5, 3, 10, 30, 90, 400)),
                                                  minutes=rng.randint(0, 600))
            notice = rng.choice((0, 30, 120, 600, None))
            if notice is not None:
                db.session.add(Schedule(offering_id=offering.id, min_notice_minutes=notice))
            slots = []
            local_today = now.astimezone(ZoneInfo(zone)).date()
            for _ in range(rng.randint(0, 7)):
                day = local_today + timedelta(days=rng.randint(-1, 3))
                hour = rng.choice((0, 6, 9, 11, 12, 12, 14, 16, 17, 17, 19, 21, 23))
                minute = rng.choice((0, 0, 30, 59))
                starts = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZoneInfo(zone))
                capacity = rng.randint(1, 8)
                slots.append(Slot(offering_id=offering.id, starts_at=starts, ends_at=starts + timedelta(hours=1),
                                  capacity=capacity, seats_taken=rng.randint(0, capacity),
                                  status="cancelled" if rng.random() < 0.1 else "open"))
            if rng.random() < 0.3:  # starts soon: inside some notices, outside others
                starts = now + timedelta(minutes=rng.choice((20, 90, 300)))
                slots.append(Slot(offering_id=offering.id, starts_at=starts, ends_at=starts + timedelta(hours=1),
                                  capacity=4, seats_taken=0, status="open"))
            unique = {slot.starts_at: slot for slot in slots}  # one slot per start (uq_slots_offering_start)
            db.session.add_all(unique.values())
            rows[offering.id] = Row(offering.id, title, zone, offering.created_at, notice or 0,
                                    offering.status == OfferingStatus.ACTIVE, list(unique.values()))
    db.session.flush()
    return rows


def in_reach(db, point: LngLat, radius_m: float) -> dict[int, float]:
    """Every offering within the radius (ST_Distance on the spheroid), with its ``<->`` distance."""
    found = db.session.execute(text(
        "SELECT id, location <-> ST_GeogFromText(:p) AS knn FROM offerings "
        "WHERE ST_Distance(location, ST_GeogFromText(:p)) <= :r"),
        {"p": f"SRID=4326;{point.to_wkt()}", "r": radius_m}).all()
    return {row.id: row.knn for row in found}


def bookable(row: Row, now: datetime, day: date, part: str | None, party: int) -> bool:
    """Whether a resident could book ``party`` seats on ``day`` (``part`` of it) at ``now``, store-local."""
    low, high = PARTS[part] if part else (0, 24)
    for slot in row.slots:
        local = slot.starts_at.astimezone(ZoneInfo(row.zone))
        if (slot.status == "open" and local.date() == day and low <= local.hour < high
                and slot.starts_at > now + timedelta(minutes=row.notice_min)
                and slot.capacity - slot.seats_taken >= party):
            return True
    return False


def best_match(row: Row, knn: float, q: str | None, ranked_at: datetime) -> float:
    """The README's formula, in Python."""
    terms = (q or "").lower().split()
    score = 1 / (1 + knn / 1000)
    if terms:
        score += 1.0 * sum(term in row.title.lower() for term in terms) / len(terms)
    age_days = max(0.0, (ranked_at - row.created_at).total_seconds() / 86400)
    return score + 0.3 * 2 ** (-age_days / 14)


def random_search(rng: random.Random) -> dict:
    point = random_point(rng, WEST_LAKE, 3_000)
    return {"lat": round(point.lat, 6), "lng": round(point.lng, 6), "radius_m": rng.choice((800, 1500, 3000, 6000))}


# -- when can I go? ----------------------------------------------------------------------

def test_when_filter_matches_the_reference_on_random_searches(client, db, clock, world):
    rng = random.Random(7)
    now = clock.now()
    today = now.astimezone(SHANGHAI).date()
    narrowed = 0
    for _ in range(30):
        search = random_search(rng)
        day = today + timedelta(days=rng.randint(-1, 3))
        part = rng.choice((None, "morning", "afternoon", "evening"))
        party = rng.choice((None, 1, 2, 3, 5, 8))
        items = all_pages(client, rng.choice((3, 7, 50)), **search, available_on=day.isoformat(),
                          part_of_day=part, party=party, sort="distance")

        reach = in_reach(db, LngLat(lng=search["lng"], lat=search["lat"]), search["radius_m"])
        expected = sorted((oid for oid in reach if world[oid].visible
                           and bookable(world[oid], now, day, part, party or 1)), key=lambda oid: (reach[oid], oid))
        got = [item["id"] for item in items]
        assert got == expected, (search, day, part, party)
        narrowed += len(expected) < sum(world[oid].visible for oid in reach)
    assert narrowed >= 10, "the random searches must exercise the filter"


def test_the_parts_of_a_day_split_it(client, db, clock, world):
    now = clock.now()
    day = now.astimezone(SHANGHAI).date() + timedelta(days=1)
    search = {"lat": WEST_LAKE.lat, "lng": WEST_LAKE.lng, "radius_m": 6000, "limit": 50}

    def found(**when) -> set[int]:
        return {item["id"] for item in all_pages(client, **search, available_on=day.isoformat(), **when)}

    whole = found()
    parts = [found(part_of_day=part) for part in PARTS]
    assert whole and all(parts)
    assert set().union(*parts) == whole
    assert found(party=8) < whole


def test_edges_of_the_parts_and_the_notice(client, db, clock):
    now = clock.now()
    zone = ZoneInfo("America/New_York")
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    store = f.create_store(timezone="America/New_York")

    def offering_at(hour: int, minute: int = 0, *, capacity: int = 4, taken: int = 0, starts=None):
        offering = f.create_offering(store, capacity=capacity)
        f.create_slot(offering, starts or datetime(tomorrow.year, tomorrow.month, tomorrow.day, hour, minute,
                                                   tzinfo=zone), capacity=capacity, seats_taken=taken)
        return offering.id

    noon, last_morning, five_pm, late = offering_at(12), offering_at(11, 59), offering_at(17), offering_at(23, 59)
    two_left = offering_at(14, capacity=6, taken=4)
    soon, soon_enough = f.create_offering(store), f.create_offering(store)
    db.session.add_all([Schedule(offering_id=soon.id, min_notice_minutes=120),
                        Schedule(offering_id=soon_enough.id, min_notice_minutes=60)])
    f.create_slot(soon, now + timedelta(minutes=90))
    f.create_slot(soon_enough, now + timedelta(minutes=90))
    db.session.flush()

    def found(day: date, **when) -> set[int]:
        return {item["id"] for item in ok(client.get(url(NEARBY, lat=WEST_LAKE.lat, lng=WEST_LAKE.lng,
                                                             available_on=day.isoformat(), **when)))["items"]}

    # Of the five slots placed tomorrow (the two 90 minutes ahead are tomorrow too when the run starts late in
    # New York's evening: they are checked below).
    placed = {noon, last_morning, five_pm, late, two_left}
    assert found(tomorrow, part_of_day="morning") & placed == {last_morning}
    assert found(tomorrow, part_of_day="afternoon") & placed == {noon, two_left}
    assert found(tomorrow, part_of_day="evening") & placed == {five_pm, late}
    assert found(tomorrow, party=2) & placed == {noon, last_morning, five_pm, late, two_left}
    assert found(tomorrow, party=3) & placed == {noon, last_morning, five_pm, late}
    # 90 minutes ahead: bookable with an hour's notice, not with two, so not listed on its day.
    that_day = found((now + timedelta(minutes=90)).astimezone(zone).date())
    assert soon_enough.id in that_day
    assert soon.id not in that_day


def test_in_view_takes_the_same_when_filter(client, db, clock, world):
    now = clock.now()
    day = now.astimezone(SHANGHAI).date() + timedelta(days=1)
    box = {"min_lng": WEST_LAKE.lng - 0.05, "min_lat": WEST_LAKE.lat - 0.05,
           "max_lng": WEST_LAKE.lng + 0.05, "max_lat": WEST_LAKE.lat + 0.05}
    inside = set(db.session.scalars(text(
        "SELECT id FROM offerings WHERE ST_X(location::geometry) BETWEEN :min_lng AND :max_lng "
        "AND ST_Y(location::geometry) BETWEEN :min_lat AND :max_lat"), box))

    body = ok(client.get(url(IN_VIEW, **box, available_on=day.isoformat(), part_of_day="evening", party=2)))

    assert body["mode"] == "features"
    expected = {oid for oid in inside if world[oid].visible and bookable(world[oid], now, day, "evening", 2)}
    assert expected
    assert {feature["id"] for feature in body["features"]} == expected


@pytest.mark.parametrize(("params", "field"), [
    ({"part_of_day": "morning"}, "part_of_day"),
    ({"party": "2"}, "party"),
    ({"available_on": "2026-12-01", "part_of_day": "night"}, "part_of_day"),
    ({"available_on": "2026-12-01", "party": "0"}, "party"),
    ({"available_on": "2026-12-01", "party": "51"}, "party"),
    ({"available_on": "2026-12-01", "party": "two"}, "party"),
])
def test_when_filter_refuses_what_it_cannot_mean(client, db, params, field):
    for path, base in ((NEARBY, {"lat": WEST_LAKE.lat, "lng": WEST_LAKE.lng}),
                       (IN_VIEW, {"min_lng": 120.1, "min_lat": 30.2, "max_lng": 120.2, "max_lat": 30.3})):
        response = client.get(url(path, **base, **params))
        assert response.status_code == 422, response.get_data(as_text=True)
        assert field in response.get_json()["error"]["details"]


# -- ranking -------------------------------------------------------------------------------

def check_best_match_order(items: list[dict], world: dict[int, Row], reach: dict[int, float], q: str | None,
                           ranked_at: datetime) -> None:
    """Scores never rise down the list (ties by id)."""
    scored = [(best_match(world[item["id"]], reach[item["id"]], q, ranked_at), item["id"]) for item in items]
    for (score_a, a), (score_b, b) in zip(scored, scored[1:], strict=False):
        assert score_a >= score_b - 1e-9, (a, score_a, b, score_b)
        if abs(score_a - score_b) <= 1e-12:
            assert a < b


def test_best_match_matches_the_formula_on_random_searches(client, db, clock, world):
    rng = random.Random(11)
    now = clock.now()
    reordered = 0
    for _ in range(25):
        search = random_search(rng)
        q = rng.choice((None, None, "pottery", "tea glaze", "evening", "陶艺"))
        items = all_pages(client, rng.choice((2, 5, 50)), **search, q=q, sort="relevance")

        reach = in_reach(db, LngLat(lng=search["lng"], lat=search["lat"]), search["radius_m"])
        by_distance = [item["id"] for item in all_pages(client, 50, **search, q=q, sort="distance")]
        assert sorted(item["id"] for item in items) == sorted(by_distance), "the same results, another order"
        assert len({item["id"] for item in items}) == len(items)
        check_best_match_order(items, world, reach, q, now)
        reordered += [item["id"] for item in items] != by_distance
    assert reordered >= 10, "freshness and titles must move results"


def test_rating_is_best_match_until_there_are_ratings(client, db, clock, world):
    rng = random.Random(13)
    for _ in range(10):
        search = random_search(rng)
        q = rng.choice((None, "pottery", "tea"))
        rating = [item["id"] for item in all_pages(client, 4, **search, q=q, sort="rating")]
        assert rating == [item["id"] for item in all_pages(client, 50, **search, q=q, sort="relevance")]


def test_rating_puts_rated_first_by_average_then_best_match(client, db, clock, world):
    rng = random.Random(17)
    rated = {}
    for oid in rng.sample(sorted(world), 20):
        avg = Decimal(rng.choice(("3.50", "4.20", "4.80", "5.00")))
        db.session.execute(text("UPDATE offerings SET rating_avg = :a, rating_score = :a, rating_count = :c "
                                "WHERE id = :i"),
                           {"a": avg, "c": rng.randint(1, 30), "i": oid})
        rated[oid] = float(avg)
    now = clock.now()
    for _ in range(10):
        search = random_search(rng)
        items = all_pages(client, 3, **search, sort="rating")
        reach = in_reach(db, LngLat(lng=search["lng"], lat=search["lat"]), search["radius_m"])
        expected = sorted((oid for oid in reach if world[oid].visible),
                          key=lambda oid: (-rated.get(oid, 0), -best_match(world[oid], reach[oid], None, now), oid))
        got = [item["id"] for item in items]
        assert sorted(got) == sorted(expected)
        assert [rated.get(oid, 0) for oid in got] == [rated.get(oid, 0) for oid in expected]
        for avg in set(rated.values()) | {0}:
            check_best_match_order([item for item in items if rated.get(item["id"], 0) == avg], world, reach,
                                   None, now)


def test_distance_stays_pure_distance(client, db, clock, world):
    rng = random.Random(19)
    for _ in range(10):
        search = random_search(rng)
        items = all_pages(client, 6, **search, sort="distance")
        reach = in_reach(db, LngLat(lng=search["lng"], lat=search["lat"]), search["radius_m"])
        assert [item["id"] for item in items] == sorted((oid for oid in reach if world[oid].visible),
                                                        key=lambda oid: (reach[oid], oid))


def test_a_new_experience_outranks_an_older_one_a_little_closer(client, db, clock):
    now = clock.now()
    old_near = f.create_offering(**near(800))
    new_far = f.create_offering(**near(2000))
    old_far = f.create_offering(**near(2000, 10))
    old_near.created_at = old_far.created_at = now - timedelta(days=120)
    new_far.created_at = now - timedelta(hours=2)
    db.session.flush()

    def ids(sort: str) -> list[int]:
        return [item["id"] for item in ok(client.get(url(NEARBY, lat=WEST_LAKE.lat, lng=WEST_LAKE.lng,
                                                             sort=sort)))["items"]]

    # 1/(1+0.8) = 0.556 against 1/(1+2) + 0.3 = 0.633
    assert ids("relevance") == [new_far.id, old_near.id, old_far.id]
    assert ids("distance") == [old_near.id, new_far.id, old_far.id]


def test_later_pages_rank_as_of_the_first_page(client, db, clock, world):
    """Freshness moves with time; a cursor carries the first page's instant, so paging stays exact."""
    search = {"lat": WEST_LAKE.lat, "lng": WEST_LAKE.lng, "radius_m": 6000, "sort": "relevance"}
    everything = [item["id"] for item in all_pages(client, 50, **search)]
    assert len(everything) > 20
    started = clock.now()
    seen: list[int] = []
    cursor = None
    for page in range(20):
        clock.travel(started + timedelta(days=5 * page), tick=False)
        body = ok(client.get(url(NEARBY, **search, limit=7, cursor=cursor)))
        seen += [item["id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == everything
    # Without the carried instant the order would have changed by then.
    assert [item["id"] for item in all_pages(client, 50, **search)] != everything


def near(metres_north: float, metres_east: float = 0.0) -> dict[str, float]:
    return {"lat": WEST_LAKE.lat + metres_north / 111_320, "lng": WEST_LAKE.lng + metres_east / 96_200}


def test_the_sorts_are_the_services_sorts():
    assert set(services.SORTS) == {"distance", "relevance", "rating"}
    assert set(services.PARTS_OF_DAY) == set(PARTS)


def test_the_explore_page_asks_when_and_hides_rating_until_there_are_ratings(client, db):
    page = client.get("/explore").get_data(as_text=True)

    for control in ('id="available_on"', 'id="part_of_day"', 'id="party"', 'value="morning"', 'value="afternoon"',
                    'value="evening"', 'id="map-summary"'):
        assert control in page, control
    assert '<option value="rating" id="sort-rating" hidden disabled>' in page
    assert '<option value="relevance">Best match</option>' in page


def test_the_default_order_is_best_match(client, db, clock, world):
    rng = random.Random(23)
    for _ in range(5):
        search = random_search(rng)
        default = [item["id"] for item in all_pages(client, 50, **search)]
        assert default == [item["id"] for item in all_pages(client, 50, **search, sort="relevance")]
