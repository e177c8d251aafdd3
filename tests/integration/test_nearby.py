"""Nearby search, what is in view and the search log, against real PostGIS with known points."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
from sqlalchemy import select, text, update

from app.demo import generate_offerings
from app.discovery import services
from app.discovery.models import SearchLog
from app.merchants.models import BusinessStatus, StoreStatus
from app.offerings.models import Category, Offering, OfferingStatus
from geo.points import BBox, LngLat, haversine_m
from geo.queries import cluster_cell_deg
from tests import factories as f

CENTRE = LngLat(lng=120.1490, lat=30.2460)  # West Lake
MONDAY_1030_SHANGHAI = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)  # 2026-11-23 is a Monday
MOMENT = MONDAY_1030_SHANGHAI
METRES_PER_DEGREE = 111_320.0


# -- helpers ---------------------------------------------------------------------

def offset(origin: LngLat, north_m: float, east_m: float) -> LngLat:
    """A point roughly ``north_m`` north and ``east_m`` east of ``origin`` (placement only, not a check)."""
    return LngLat(lng=origin.lng + east_m / (METRES_PER_DEGREE * math.cos(math.radians(origin.lat))),
                  lat=origin.lat + north_m / METRES_PER_DEGREE)


def towards(origin: LngLat, metres: float, bearing_deg: float) -> LngLat:
    b = math.radians(bearing_deg)
    return offset(origin, metres * math.cos(b), metres * math.sin(b))


def search(point: LngLat = CENTRE, *, moment: datetime = MOMENT, radius_m: int = 3000, sort: str = "distance",
           limit: int = 50, after: tuple | None = None, **filters) -> services.NearbyPage:
    query = services.NearbyQuery(point=point, radius_m=radius_m, filters=services.Filters(**filters), sort=sort,
                                 limit=limit, after=after)
    return services.nearby(query, moment)


def ids(page: services.NearbyPage) -> list[int]:
    return [item.offering.id for item in page.items]


def all_pages(limit: int = 20, **kw) -> tuple[list[int], list[int]]:
    """Follow next_key to the end; return every id in order and the size of each page."""
    seen: list[int] = []
    sizes: list[int] = []
    after = None
    while True:
        page = search(limit=limit, after=after, **kw)
        seen += ids(page)
        sizes.append(len(page.items))
        assert len(sizes) < 20, "paging does not end"
        if page.next_key is None:
            return seen, sizes
        assert page.items, "a page with a next_key must not be empty"
        after = page.next_key


def db_distance(db, a: LngLat, b: LngLat) -> float:
    return db.session.scalar(text("SELECT ST_Distance(ST_GeogFromText(:a), ST_GeogFromText(:b))"),
                             {"a": f"SRID=4326;{a.to_wkt()}", "b": f"SRID=4326;{b.to_wkt()}"})


def point_at_db_distance(db, origin: LngLat, metres: float, bearing_deg: float) -> LngLat:
    """Walk from ``origin`` along a bearing, binary-searching the offset until PostGIS says ``metres``.

    The spheroid-agnostic way: whatever distance PostGIS computes is the one the radius uses.
    """
    b = math.radians(bearing_deg)
    d_lat, d_lng = math.cos(b), math.sin(b) / math.cos(math.radians(origin.lat))
    low, high = 0.0, 2 * metres / METRES_PER_DEGREE
    for _ in range(80):
        step = (low + high) / 2
        candidate = LngLat(lng=origin.lng + step * d_lng, lat=origin.lat + step * d_lat)
        distance = db_distance(db, origin, candidate)
        if abs(distance - metres) <= 0.01:
            return candidate
        if distance < metres:
            low = step
        else:
            high = step
    raise AssertionError(f"could not place a point {metres} m from {origin}")


def at(point: LngLat) -> dict[str, float]:
    """Keyword arguments placing a factory row at ``point``."""
    return {"lng": point.lng, "lat": point.lat}


def store_with_hours(hours=(), exceptions=(), *, timezone: str = "Asia/Shanghai"):
    """A store with exactly these weekly hours and dated exceptions, and one offering there."""
    store = f.set_hours(f.create_store(hours=False, timezone=timezone), hours, exceptions)
    return f.create_offering(store, title=f"At {store.name}")


def open_state(offering: Offering, moment: datetime) -> bool:
    """Whether the offering's store is open at ``moment``, checked two ways that must agree."""
    flags = {item.offering.id: item.open_now for item in search(moment=moment).items}
    filtered = set(ids(search(moment=moment, open_now=True)))
    assert offering.id in flags
    assert flags[offering.id] == (offering.id in filtered), "open_now flag and open_now filter disagree"
    return flags[offering.id]


# -- distances -------------------------------------------------------------------

@pytest.mark.parametrize(("metres", "bearing"), [(100, 0), (1_000, 90), (10_000, 225), (40_000, 135)])
def test_distance_matches_an_independent_haversine(db, metres, bearing):
    point = towards(CENTRE, metres, bearing)
    offering = f.create_offering(lng=point.lng, lat=point.lat)

    page = search(radius_m=50_000)

    [item] = [item for item in page.items if item.offering.id == offering.id]
    expected = haversine_m(CENTRE, point)
    assert expected == pytest.approx(metres, rel=0.01)  # the placement itself is sane
    assert item.distance_m == pytest.approx(expected, rel=5e-3)
    assert (item.lng, item.lat) == pytest.approx((point.lng, point.lat), abs=1e-9)


def test_results_are_nearest_first_with_ties_broken_by_id(db):
    far = f.create_offering(**at(towards(CENTRE, 2_500, 10)))
    near = f.create_offering(**at(towards(CENTRE, 50, 200)))
    shared = f.create_store(**at(towards(CENTRE, 900, 300)))
    tied = [f.create_offering(shared) for _ in range(4)]
    middle = f.create_offering(**at(towards(CENTRE, 1_400, 75)))
    # Rewrite the lower ids so the heap holds them after the higher ones: only an explicit
    # tie-break by id can still put them first.
    db.session.execute(update(Offering).where(Offering.id.in_([tied[0].id, tied[1].id]))
                       .values(duration_min=90))
    db.session.flush()

    page = search()

    assert ids(page) == [near.id, *[o.id for o in tied], middle.id, far.id]
    distances = [item.distance_m for item in page.items]
    assert distances == sorted(distances)
    assert len({item.distance_m for item in page.items if item.offering.id in {o.id for o in tied}}) == 1


@pytest.mark.parametrize("bearing", [0, 37, 90, 215])
def test_radius_edge_2999_in_3001_out(db, bearing):
    inside = point_at_db_distance(db, CENTRE, 2_999, bearing)
    outside = point_at_db_distance(db, CENTRE, 3_001, bearing)
    in_offering = f.create_offering(lng=inside.lng, lat=inside.lat)
    out_offering = f.create_offering(lng=outside.lng, lat=outside.lat)
    stored = {row.id: row.d for row in db.session.execute(
        text("SELECT id, ST_Distance(location, ST_GeogFromText(:c)) AS d FROM offerings WHERE id IN (:a, :b)"),
        {"c": f"SRID=4326;{CENTRE.to_wkt()}", "a": in_offering.id, "b": out_offering.id})}
    assert stored[in_offering.id] == pytest.approx(2_999.0, abs=0.2)
    assert stored[out_offering.id] == pytest.approx(3_001.0, abs=0.2)

    found = search(radius_m=3_000)
    assert ids(found) == [in_offering.id]
    assert found.items[0].distance_m == pytest.approx(2_999.0, abs=0.2)
    # Nothing else keeps the far one out: a slightly larger radius finds both.
    assert ids(search(radius_m=3_002)) == [in_offering.id, out_offering.id]


# -- visibility ------------------------------------------------------------------

def test_archived_suspended_and_closed_never_appear(db):
    store = f.create_store()
    visible = [f.create_offering(store, title="Visible pottery") for _ in range(2)]
    archived = f.create_offering(title="Archived pottery", status=OfferingStatus.ARCHIVED)
    suspended = f.create_offering(f.create_store(f.create_business(status=BusinessStatus.SUSPENDED)),
                                  title="Suspended pottery")
    closed = f.create_offering(f.create_store(status=StoreStatus.CLOSED), title="Closed pottery")
    hidden = {archived.id, suspended.id, closed.id}
    shown = [o.id for o in visible]
    box = box_around(CENTRE, 0.01)

    for page in (search(), search(q="pottery"), search(sort="rating"), search(sort="relevance", q="pottery"),
                 search(open_now=True), search(categories=(Category.CLASS,)), search(radius_m=50_000)):
        assert ids(page) == shown
    view = services.in_view(box, services.Filters(), MOMENT)
    assert [feature["id"] for feature in view.features] == shown
    live = services.in_view(box, services.Filters(q="pottery"), MOMENT, max_features=1)
    assert (live.mode, [c["count"] for c in live.clusters]) == ("clusters", [2])
    services.refresh_grid(db.session.connection(), concurrently=False)
    assert db.session.scalar(text("SELECT sum(n) FROM offering_grid")) == 2, "the grid counts hidden offerings"
    assert not hidden & set(ids(search(q="pottery", radius_m=50_000)))


# -- filters ---------------------------------------------------------------------

def test_category_filter_one_and_several(db):
    food = f.create_offering(category=Category.FOOD)
    yoga = f.create_offering(category=Category.FITNESS)
    craft = f.create_offering(category=Category.CLASS)

    assert ids(search(categories=(Category.FOOD,))) == [food.id]
    assert ids(search(categories=(Category.FOOD, Category.FITNESS))) == [food.id, yoga.id]
    assert ids(search(categories=(Category.BEAUTY,))) == []
    assert ids(search()) == [food.id, yoga.id, craft.id]


@pytest.fixture
def texts(db):
    celadon = f.create_store(name="Celadon Studio 青瓷工坊", **at(towards(CENTRE, 300, 0)))
    return {
        "pottery": f.create_offering(title="Pottery Wheel Taster", **at(towards(CENTRE, 100, 0))),
        "chinese": f.create_offering(title="周末陶艺体验课", **at(towards(CENTRE, 200, 0))),
        "store": f.create_offering(celadon, title="Afternoon session"),
        "description": f.create_offering(title="Evening session", description="Bring an apron for the glaze",
                                         **at(towards(CENTRE, 400, 0))),
        "percent": f.create_offering(title="100% silk scarf fitting", **at(towards(CENTRE, 500, 0))),
        "no_percent": f.create_offering(title="1000 silk threads", **at(towards(CENTRE, 600, 0))),
        "underscore": f.create_offering(title="a_b testing workshop", **at(towards(CENTRE, 700, 0))),
        "no_underscore": f.create_offering(title="axb testing workshop", **at(towards(CENTRE, 800, 0))),
    }


@pytest.mark.parametrize(("q", "expected"), [
    ("pottery", ["pottery"]),
    ("POTTERY", ["pottery"]),
    ("wheel", ["pottery"]),
    ("pottery taster", ["pottery"]),
    ("pottery yoga", []),
    ("陶艺", ["chinese"]),
    ("体验", ["chinese"]),
    ("celadon", ["store"]),
    ("CeLaDoN", ["store"]),
    ("青瓷", ["store"]),
    ("glaze", ["description"]),
    ("100%", ["percent"]),
    ("%", ["percent"]),
    ("a_b", ["underscore"]),
    ("_", ["underscore"]),
    ("silk", ["percent", "no_percent"]),
    ("nothing-like-this", []),
])
def test_text_filter(db, texts, q, expected):
    assert ids(search(q=q)) == [texts[name].id for name in expected]


def test_price_and_free_filters(db):
    by_price = {price: f.create_offering(price_amount=Decimal(price), **at(towards(CENTRE, 100 * (n + 1), 45)))
                for n, price in enumerate(["0.00", "50.00", "88.00", "120.00", "300.00"])}

    def found(**filters) -> set[str]:
        got = set(ids(search(**filters)))
        return {price for price, offering in by_price.items() if offering.id in got}

    assert found(min_price=Decimal("50"), max_price=Decimal("120")) == {"50.00", "88.00", "120.00"}
    assert found(min_price=Decimal("88.01")) == {"120.00", "300.00"}
    assert found(max_price=Decimal("49.99")) == {"0.00"}
    assert found(free=True) == {"0.00"}
    assert found(free=False) == {"50.00", "88.00", "120.00", "300.00"}
    assert found(free=False, max_price=Decimal("88")) == {"50.00", "88.00"}
    assert found(free=True, min_price=Decimal("1")) == set()
    assert found() == set(by_price)


# -- open now ----------------------------------------------------------------------

DAILY_10_20 = [(d, time(10), time(20)) for d in range(7)]


def test_open_now_in_shanghai(db):
    offering = store_with_hours(DAILY_10_20)

    assert open_state(offering, datetime(2026, 11, 23, 2, 30, tzinfo=UTC)) is True  # 10:30 local
    assert open_state(offering, datetime(2026, 11, 23, 1, 30, tzinfo=UTC)) is False  # 09:30 local
    assert open_state(offering, datetime(2026, 11, 23, 11, 59, tzinfo=UTC)) is True  # 19:59 local
    assert open_state(offering, datetime(2026, 11, 23, 12, 0, tzinfo=UTC)) is False  # 20:00: closed


def test_open_now_in_new_york_uses_the_store_weekday_not_utc(db):
    # Monday 09:00-17:00 and 18:00-23:00 in New York, nothing on other days.
    offering = store_with_hours([(0, time(9), time(17)), (0, time(18), time(23))], timezone="America/New_York")

    # Monday 16:30 EST is 21:30 UTC.
    assert open_state(offering, datetime(2026, 11, 23, 21, 30, tzinfo=UTC)) is True
    # Monday 21:00 EST is already Tuesday 02:00 in UTC (and Tuesday 10:00 in Shanghai): still open.
    assert open_state(offering, datetime(2026, 11, 24, 2, 0, tzinfo=UTC)) is True
    # Monday 17:30 EST, between the two intervals.
    assert open_state(offering, datetime(2026, 11, 23, 22, 30, tzinfo=UTC)) is False
    # Monday 08:30 EST is 13:30 UTC on Monday: not yet open.
    assert open_state(offering, datetime(2026, 11, 23, 13, 30, tzinfo=UTC)) is False
    # Tuesday 16:30 EST: no hours on Tuesday.
    assert open_state(offering, datetime(2026, 11, 24, 21, 30, tzinfo=UTC)) is False
    # In summer (EDT, UTC-4) Monday 16:30 is 20:30 UTC.
    assert open_state(offering, datetime(2026, 7, 6, 20, 30, tzinfo=UTC)) is True
    assert open_state(offering, datetime(2026, 7, 6, 21, 30, tzinfo=UTC)) is False  # 17:30 EDT


def test_open_now_late_hours_and_midnight(db):
    offering = store_with_hours([(d, time(22), time(23, 59)) for d in range(7)])

    assert open_state(offering, datetime(2026, 11, 23, 15, 30, tzinfo=UTC)) is True  # 23:30 local
    assert open_state(offering, datetime(2026, 11, 23, 16, 10, tzinfo=UTC)) is False  # 00:10 next day


def test_a_closed_exception_overrides_weekly_hours(db):
    closed_today = store_with_hours(DAILY_10_20, [(date(2026, 11, 23), True, None, None)])
    closed_tomorrow = store_with_hours(DAILY_10_20, [(date(2026, 11, 24), True, None, None)])

    assert open_state(closed_today, MOMENT) is False
    assert open_state(closed_tomorrow, MOMENT) is True
    # 2026-11-24 00:30 in Shanghai is still 2026-11-23 in UTC: the store's own date decides.
    late = store_with_hours([(d, time(0), time(2)) for d in range(7)], [(date(2026, 11, 24), True, None, None)])
    assert open_state(late, datetime(2026, 11, 23, 16, 30, tzinfo=UTC)) is False
    assert open_state(late, datetime(2026, 11, 22, 16, 30, tzinfo=UTC)) is True


def test_special_hours_open_a_normally_closed_day(db):
    # Closed on Mondays, but open 09:00-12:00 on Monday 2026-11-23 by exception.
    special = store_with_hours([(d, time(10), time(20)) for d in range(1, 7)],
                               [(date(2026, 11, 23), False, time(9), time(12))])
    # Open all week, but only 14:00-16:00 that Monday.
    shortened = store_with_hours(DAILY_10_20, [(date(2026, 11, 23), False, time(14), time(16))])

    assert open_state(special, MOMENT) is True  # 10:30
    assert open_state(special, datetime(2026, 11, 23, 4, 30, tzinfo=UTC)) is False  # 12:30
    assert open_state(special, datetime(2026, 11, 30, 2, 30, tzinfo=UTC)) is False  # the next Monday
    assert open_state(shortened, MOMENT) is False  # 10:30: the exception replaces the week's hours
    assert open_state(shortened, datetime(2026, 11, 23, 6, 30, tzinfo=UTC)) is True  # 14:30


# -- sorting -----------------------------------------------------------------------

def test_sort_by_rating(db):
    def rated(metres: float, avg: str | None, count: int) -> Offering:
        # rating_score as trust.services.reviews keeps it: 10 reviews' worth of a category mean of 4.0.
        score = (10 * Decimal("4.0") + Decimal(avg) * count) / (10 + count) if avg else None
        return f.create_offering(rating_avg=Decimal(avg) if avg else None, rating_count=count,
                                 rating_score=score.quantize(Decimal("0.001")) if score else None,
                                 **at(towards(CENTRE, metres, 120)))

    unrated_near = rated(50, None, 0)
    good_far = rated(2_000, "4.80", 12)  # score 4.436
    good_near = rated(1_000, "4.80", 3)  # 4.185
    fair = rated(100, "3.10", 40)  # 3.280
    best = rated(2_900, "5.00", 1)  # 4.091: one 5-star review does not beat twelve at 4.8

    assert ids(search(sort="rating")) == [good_far.id, good_near.id, best.id, fair.id, unrated_near.id]
    assert ids(search()) == [unrated_near.id, fair.id, good_near.id, good_far.id, best.id]


def test_sort_by_relevance_puts_title_matches_first(db):
    description_only = f.create_offering(title="Afternoon class", description="Includes a pottery glaze demo",
                                         **at(towards(CENTRE, 50, 0)))
    title_far = f.create_offering(title="Pottery wheel", **at(towards(CENTRE, 2_500, 0)))
    unrelated = f.create_offering(title="Yoga", **at(towards(CENTRE, 10, 0)))

    relevant = ids(search(sort="relevance", q="pottery"))

    assert relevant == [title_far.id, description_only.id]
    assert unrelated.id not in relevant
    assert ids(search(q="pottery")) == [description_only.id, title_far.id]  # distance order differs


# -- paging ------------------------------------------------------------------------

@pytest.fixture
def forty_five(db):
    """45 offerings: 15 stores at distinct distances with three offerings each (distance ties)."""
    offerings = []
    categories = [Category.FOOD, Category.CLASS, Category.FITNESS]
    ratings = [None, "4.50", "4.50", "3.00", "5.00"]
    for n in range(15):
        store = f.create_store(**at(towards(CENTRE, 150 * (n + 1), 24 * n)))
        for k in range(3):
            rating = ratings[(n + k) % len(ratings)]
            offerings.append(f.create_offering(
                store, category=categories[(n + k) % 3], price_amount=Decimal(40 * ((n * 3 + k) % 7)),
                rating_avg=Decimal(rating) if rating else None, rating_count=1 if rating else 0,
                rating_score=Decimal(rating) if rating else None,
                title=f"Pottery {n}-{k}" if k != 1 else f"Yoga {n}-{k}",
                description="pottery glaze" if k == 1 and n % 2 else ""))
    return offerings


@pytest.mark.parametrize("options", [
    {},
    {"sort": "rating"},
    {"sort": "relevance"},
    {"sort": "relevance", "q": "pottery"},
    {"categories": (Category.FOOD, Category.CLASS)},
    {"min_price": Decimal("40"), "free": False},
    {"q": "pottery", "sort": "rating"},
    {"open_now": True},
], ids=lambda options: ",".join(f"{k}={v}" for k, v in options.items()) or "no-filter")
def test_paging_has_no_duplicates_or_gaps(db, forty_five, options):
    one_page = ids(search(limit=50, **options))
    assert search(limit=50, **options).next_key is None
    if not options:
        assert len(one_page) == 45
    assert len(one_page) >= 20, "the case must span several pages"

    paged, sizes = all_pages(limit=20, **options)

    assert paged == one_page
    assert len(set(paged)) == len(paged)
    assert sizes[:-1] == [20] * (len(sizes) - 1)


def test_paging_ends_without_an_empty_page(db, forty_five):
    paged, sizes = all_pages(limit=15)

    assert sizes == [15, 15, 15]
    assert paged == ids(search(limit=50))
    assert set(paged) == {o.id for o in forty_five}


# -- in view -----------------------------------------------------------------------

def box_around(point: LngLat, half_deg: float) -> BBox:
    return BBox(point.lng - half_deg, point.lat - half_deg, point.lng + half_deg, point.lat + half_deg)


def cell_centre(box: BBox, column: int, row: int) -> LngLat:
    """The centre of a display cell of ``box``, ``column``/``row`` cells from its south-west cell."""
    cell = cluster_cell_deg(box)
    point = LngLat(lng=(math.floor(box.min_lng / cell) + column + 0.5) * cell,
                   lat=(math.floor(box.min_lat / cell) + row + 0.5) * cell)
    assert box.min_lng < point.lng < box.max_lng and box.min_lat < point.lat < box.max_lat, "place inside the box"
    return point


def test_in_view_features_with_their_positions(db):
    box = box_around(CENTRE, 0.01)
    placed = {}
    for n in range(5):
        point = offset(CENTRE, 150 * n - 300, 120 * n - 250)
        placed[f.create_offering(lng=point.lng, lat=point.lat).id] = point
    outside = offset(CENTRE, 0, 2_000)
    f.create_offering(lng=outside.lng, lat=outside.lat)
    f.create_offering(status=OfferingStatus.ARCHIVED)

    view = services.in_view(box, services.Filters(), MOMENT)

    assert view.mode == "features"
    assert view.total == 5
    assert {feature["id"] for feature in view.features} == set(placed)
    for feature in view.features:
        point = placed[feature["id"]]
        assert (feature["lng"], feature["lat"]) == pytest.approx((point.lng, point.lat), abs=1e-9)
        assert feature["price"] == {"amount": "88.00", "currency": "CNY", "free": False}


def place_groups(box: BBox, cells: list[tuple[int, int]], per_group: int, **kw) -> list[Offering]:
    """``per_group`` offerings close together at the centre of each display cell."""
    placed = []
    for column, row in cells:
        centre = cell_centre(box, column, row)
        store = f.create_store(lng=centre.lng, lat=centre.lat)
        placed += [f.create_offering(store, **kw) for _ in range(per_group)]
    return placed


def check_clusters(view: services.InView, expected_total: int, max_features: int, box: BBox) -> None:
    assert view.mode == "clusters"
    assert not view.features
    assert 0 < len(view.clusters) <= max_features
    assert sum(c["count"] for c in view.clusters) == expected_total
    assert view.total == expected_total
    for cluster in view.clusters:
        assert box.min_lng <= cluster["lng"] <= box.max_lng and box.min_lat <= cluster["lat"] <= box.max_lat


def test_in_view_live_clusters_when_there_are_many(db):
    box = box_around(CENTRE, 0.05)
    place_groups(box, [(1, 1), (3, 7), (8, 2), (12, 12), (5, 10)], 10, title="Pottery evening")
    place_groups(box, [(2, 2), (9, 9)], 4, title="Yoga morning")

    view = services.in_view(box, services.Filters(q="pottery"), MOMENT, max_features=10)

    check_clusters(view, 50, 10, box)
    assert sorted(c["count"] for c in view.clusters) == [10] * 5


def test_in_view_live_clusters_never_exceed_max_features_nor_lose_offerings(db):
    box = box_around(CENTRE, 0.05)
    place_groups(box, [(column, row) for column in range(1, 21, 2) for row in range(1, 16, 3)], 1,
                 title="Pottery evening")  # 50 offerings in 50 different cells

    view = services.in_view(box, services.Filters(q="pottery"), MOMENT, max_features=10)

    check_clusters(view, 50, 10, box)


def test_in_view_grid_clusters_for_categories(db):
    box = box_around(CENTRE, 0.1)
    assert cluster_cell_deg(box) >= 1 / services.GRID_SCALE, "the grid path needs cells of 400 m or more"
    place_groups(box, [(1, 1), (3, 7), (8, 2), (12, 12), (5, 10)], 10, category=Category.FOOD)
    place_groups(box, [(2, 2), (9, 9)], 4, category=Category.FITNESS)
    services.refresh_grid(db.session.connection(), concurrently=False)

    food = services.in_view(box, services.Filters(categories=(Category.FOOD,)), MOMENT, max_features=10)
    check_clusters(food, 50, 10, box)
    assert sorted(c["count"] for c in food.clusters) == [10] * 5
    everything = services.in_view(box, services.Filters(), MOMENT, max_features=10)
    check_clusters(everything, 58, 10, box)


def test_in_view_grid_clusters_never_exceed_max_features_nor_lose_offerings(db):
    box = box_around(CENTRE, 0.1)
    place_groups(box, [(column, row) for column in range(1, 21, 2) for row in range(1, 16, 3)], 1,
                 category=Category.FOOD)
    services.refresh_grid(db.session.connection(), concurrently=False)

    view = services.in_view(box, services.Filters(categories=(Category.FOOD,)), MOMENT, max_features=10)

    check_clusters(view, 50, 10, box)


# -- the plan ----------------------------------------------------------------------

def _plan_nodes(node: dict):
    yield node
    for child in node.get("Plans", ()):
        yield from _plan_nodes(child)


def explain(db, query: services.NearbyQuery) -> dict:
    stmt = services.nearby_statement(query, MOMENT)
    connection = db.session.connection()
    compiled = stmt.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    raw = connection.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params).scalar()
    return (raw if isinstance(raw, list) else json.loads(raw))[0]["Plan"]


BULK_MIDDLE = LngLat(lng=120.16, lat=30.25)  # where app.demo.generate_offerings puts its data


def add_bulk_slots(db) -> None:
    """Slots for every offering at 10:00, 14:00 and 19:00 Shanghai time on 2026-11-24 and 25 (MOMENT's next
    days), a few seats each and some of them taken, as a city's week looks to the planner."""
    db.session.execute(text("""
        INSERT INTO slots (offering_id, starts_at, ends_at, capacity, seats_taken, status, is_extra)
        SELECT o.id, start, start + interval '1 hour', 1 + (o.id + hour) % 6, (o.id * 7 + hour) % 2, 'open', false
        FROM offerings o,
             LATERAL (SELECT (timestamp '2026-11-24 00:00' + make_interval(days => day, hours => hour))
                             AT TIME ZONE 'Asia/Shanghai' AS start, hour
                      FROM unnest(ARRAY[10, 14, 19]) AS hour, generate_series(0, 1) AS day) AS starts
    """))
    db.session.execute(text("ANALYZE slots"))


@pytest.mark.parametrize("filters", [
    {},
    {"categories": (Category.FOOD,)},
    {"q": "体验"},
    {"open_now": True},
    {"available_on": date(2026, 11, 24), "part_of_day": "afternoon", "party": 2},
], ids=["no-filter", "category", "q", "open_now", "when"])
def test_nearest_first_uses_the_gist_index_not_a_seq_scan(db, filters):
    generate_offerings(20_000, seed=3)
    if "available_on" in filters:
        add_bulk_slots(db)
    db.session.execute(text("ANALYZE offerings"))
    db.session.execute(text("ANALYZE stores"))
    query = services.NearbyQuery(point=BULK_MIDDLE, filters=services.Filters(**filters))

    plan = explain(db, query)

    shown = json.dumps(plan, indent=1, ensure_ascii=False)
    on_offerings = [node for node in _plan_nodes(plan) if node.get("Relation Name") == "offerings"]
    assert on_offerings, shown
    assert not [node for node in on_offerings if node["Node Type"] == "Seq Scan"], \
        f"sequential scan of offerings:\n{shown}"
    # One category walks that category's rows nearest first (category = $n is a condition of the GiST walk, in
    # either index holding it); the planner may walk any GiST index by distance otherwise.
    with_category = {"ix_offerings_category_location", "ix_offerings_tier_category_location"}
    indexes = with_category if "categories" in filters else \
        {"idx_offerings_location", "ix_offerings_tier_location", *with_category}
    knn = [node for node in on_offerings if node["Node Type"] == "Index Scan"
           and node.get("Index Name") in indexes and node.get("Order By")]
    assert knn, f"no KNN index scan on {indexes}:\n{shown}"
    assert "<->" in knn[0]["Order By"], shown
    # The query itself still answers nearest-first with the data loaded.
    page = services.nearby(query, MOMENT)
    assert page.items
    assert [item.distance_m for item in page.items] == sorted(item.distance_m for item in page.items)


# -- search log --------------------------------------------------------------------

def test_a_search_is_logged_anonymously_and_rounded(db, client, app):
    buffer = app.extensions["search_log"]
    buffer.flush(db.session.connection())  # whatever earlier requests queued
    last_id = db.session.scalar(select(SearchLog.id).order_by(SearchLog.id.desc()).limit(1)) or 0
    for n in range(3):
        f.create_offering(title=f"Pottery {n}")

    response = client.get("/api/v1/offerings/nearby?lat=30.24637&lng=120.14951&category=class_workshop"
                          "&category=food_tasting&q=Pottery&limit=2&radius_m=1500")
    assert response.status_code == 200, response.get_json()
    assert buffer.flush(db.session.connection()) == 1

    [row] = db.session.scalars(select(SearchLog).where(SearchLog.id > last_id)).all()
    assert (row.lat, row.lng) == (30.246, 120.150)
    assert row.kind == "nearby"
    assert row.categories == ["class_workshop", "food_tasting"]
    assert row.q == "Pottery"
    assert row.result_count == 2
    assert row.has_more is True
    assert row.radius_m == 1500
    assert row.searched_at is not None and row.searched_at.tzinfo is not None

    # The next page is the same search: not logged again.
    cursor = response.get_json()["next_cursor"]
    assert cursor
    more = client.get("/api/v1/offerings/nearby?lat=30.24637&lng=120.14951&category=class_workshop"
                      f"&category=food_tasting&q=Pottery&limit=2&radius_m=1500&cursor={cursor}")
    assert more.status_code == 200, more.get_json()
    assert len(more.get_json()["items"]) == 1
    assert buffer.flush(db.session.connection()) == 0


def test_the_search_log_has_no_identity_columns(db):
    columns = set(db.session.scalars(text(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'search_logs'")))
    # searcher: the demand radar's salted hash (HMAC with SECRET_KEY) that counts distinct searchers for its
    # k-anonymity threshold; no account id, address or agent is stored.
    assert columns == {"id", "searched_at", "kind", "lat", "lng", "radius_m", "categories", "q", "result_count",
                       "has_more", "searcher"}
