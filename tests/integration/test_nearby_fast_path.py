"""The nearby fast path (SQL compiled once, run on the driver) answers exactly as the reference ORM query."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from app.demo import HANGZHOU, generate_offerings
from app.discovery import services
from app.offerings.models import Category
from geo.points import LngLat

MOMENT = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)  # a Monday, 10:30 in Hangzhou: some stores open


def _page_tuple(page: services.NearbyPage) -> list[tuple]:
    return [(item.offering.id, round(item.distance_m, 3), item.open_now, item.store.id, item.photo)
            for item in page.items]


def _vary_what_best_match_weighs(db) -> None:
    """Ages, ratings and merchants' integrity scores (some below the lower line) spread over the offerings.

    By each row's rank, not its id: ids go on from wherever earlier tests left the sequences, and the data (and so
    what the test exercises) must be the same in every run.
    """
    db.session.execute(text(
        "UPDATE offerings o SET created_at = :moment - (r.n % 60) * interval '1 day', "
        "rating_count = CASE WHEN r.n % 3 = 0 THEN 0 ELSE 1 + r.n % 40 END, "
        "rating_score = CASE WHEN r.n % 3 = 0 THEN NULL ELSE 3 + (r.n % 21) / 10.0 END, "
        "rating_avg = CASE WHEN r.n % 3 = 0 THEN NULL ELSE 3 + (r.n % 21) / 10.0 END "
        "FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM offerings) r WHERE o.id = r.id"),
        {"moment": MOMENT})
    db.session.execute(text(
        "INSERT INTO business_integrity (business_id, score, visits, parts, counts, computed_at) "
        "SELECT id, CASE WHEN n % 4 = 0 THEN NULL ELSE (n * 37) % 101 END, 10, '[]', '{}', :moment "
        "FROM (SELECT id, row_number() OVER (ORDER BY id) AS n FROM businesses) r WHERE n % 5 <> 0"),
        {"moment": MOMENT})


def _squeeze_towards_the_centre(db, factor: float) -> None:
    """Move every offering ``factor`` times closer to the city centre: a dense city, where "Best match" need not
    look as far as the radius asked."""
    db.session.execute(text(
        "UPDATE offerings SET location = ST_SetSRID(ST_MakePoint("
        ":lng + (ST_X(location::geometry) - :lng) / :f, :lat + (ST_Y(location::geometry) - :lat) / :f), 4326)"
        "::geography"), {"lng": HANGZHOU.lng, "lat": HANGZHOU.lat, "f": factor})


@pytest.mark.parametrize("sort", services.FAST_SORTS)
@pytest.mark.parametrize("squeeze", [1, 10], ids=["spread", "dense"])
def test_fast_path_matches_the_exhaustive_reference_on_random_positions_and_filters(db, sort, squeeze):
    """Same ids, order, distances, open-now, store, photo and next key as the ORM statement that scores every
    candidate in the radius (no "Best match" reach), on each page and the page after it."""
    generate_offerings(3_000, seed=11)
    _vary_what_best_match_weighs(db)
    _squeeze_towards_the_centre(db, squeeze)
    db.session.execute(text("ANALYZE offerings"))
    rng = random.Random(17)
    categories = list(Category)
    served = paged = bounded = held = 0
    for _ in range(40):
        point = LngLat(lng=HANGZHOU.lng + rng.uniform(-0.15, 0.15) / squeeze,
                       lat=HANGZHOU.lat + rng.uniform(-0.13, 0.13) / squeeze)
        chosen = tuple(rng.sample(categories, rng.randint(0, 3)))
        query = services.NearbyQuery(point=point, radius_m=rng.choice([500, 3000, 8000]),
                                     filters=services.Filters(categories=chosen), limit=rng.choice([1, 5, 20, 50]),
                                     sort=sort)
        assert services.fast_shape(query) is not None
        fast = services.nearby(query, MOMENT)
        reference = services.nearby_reference(query, MOMENT, bounded=False)
        assert _page_tuple(fast) == _page_tuple(reference)
        assert fast.next_key == reference.next_key
        served += bool(fast.items)
        if sort == "relevance":
            reach_m, held_by_candidates = services.best_match_bounds(query, MOMENT)
            bounded += reach_m < query.radius_m
            held += held_by_candidates
        if fast.next_key is not None:  # and the next page, after the cursor
            following = services.NearbyQuery(point=query.point, radius_m=query.radius_m, filters=query.filters,
                                             limit=query.limit, after=fast.next_key, sort=sort,
                                             ranked_at=fast.ranked_at)
            assert services.fast_shape(following) is not None
            second = services.nearby(following, MOMENT)
            assert _page_tuple(second) == _page_tuple(services.nearby_reference(following, MOMENT, bounded=False))
            assert not {i.offering.id for i in second.items} & {i.offering.id for i in fast.items}
            paged += 1
    assert served > 20 and paged > 5  # the positions mostly land among offerings: the comparison compares something
    print(f"{sort}, squeeze {squeeze}: the reach was shorter than the radius {bounded} times in 40, "
          f"the page was among the nearest candidates {held} times")
    if sort == "relevance":  # the page came both from the nearest candidates and from the box at the reach
        assert held >= 3 and 40 - held >= 3
    if sort == "relevance" and squeeze > 1:
        assert bounded >= 3  # and in the dense city the reach was shorter than the radius: the bound was tested


def test_other_shapes_take_the_reference():
    point = LngLat(lng=HANGZHOU.lng, lat=HANGZHOU.lat)
    assert services.fast_shape(services.NearbyQuery(point=point, sort="rating")) is None
    assert services.fast_shape(services.NearbyQuery(point=point, filters=services.Filters(q="tea"))) is None
    assert services.fast_shape(services.NearbyQuery(point=point, sort="rating", after=(1.0, 2))) is None
    assert services.fast_shape(services.NearbyQuery(point=point, filters=services.Filters(open_now=True))) is None
    assert services.fast_shape(services.NearbyQuery(point=point)) == ("distance", "", False)
    assert services.fast_shape(services.NearbyQuery(point=point, sort="relevance")) == ("relevance", "", False)
    one, two = services.Filters(categories=("food_tasting",)), services.Filters(categories=("food_tasting", "sports"))
    assert services.fast_shape(services.NearbyQuery(point=point, filters=one)) == ("distance", "one", False)
    assert services.fast_shape(services.NearbyQuery(point=point, filters=two)) == ("distance", "many", False)
