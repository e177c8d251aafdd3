"""The nearby fast path (SQL compiled once, run on the driver) answers exactly as the reference ORM query."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import REAL, cast, func, select, text

from app.demo import HANGZHOU, generate_offerings
from app.discovery import services
from app.merchants.models import Store
from app.offerings.models import Category, Offering
from geo.points import LngLat
from trust.models_score import BusinessIntegrity

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
    served = paged = bounded = held = boxed = 0
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
            boxes, reach_m = services.best_match_bounds(query, MOMENT)
            bounded += 0 < reach_m < query.radius_m
            held += boxes == 0
            boxed += boxes
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
    print(f"{sort}, squeeze {squeeze}: a tier was searched within less than the radius {bounded} times in 40, "
          f"the page was among the candidates {held} times, {boxed} tiers were searched at their reach")
    if sort == "relevance":  # the page came both from the candidates alone and from tiers' boxes at their reach
        assert held >= 3 and 40 - held >= 3
    if sort == "relevance" and squeeze > 1:
        assert bounded >= 3  # and in the dense city a tier's reach was shorter than the radius: the bound was tested


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


def _tiers_astray(db) -> int:
    """Offerings whose standing_tier is not what ``standing_bonus`` adds, in tenths rounded up."""
    expected = cast(func.ceil(services.standing_bonus() * round(1 / services.TIER_STEP)), REAL)
    return db.session.scalar(select(func.count()).select_from(Offering).join(Store, Offering.store_id == Store.id)
                             .where(Offering.standing_tier != expected))


def _best_match_agrees(point: LngLat) -> list[int]:
    query = services.NearbyQuery(point=point, radius_m=3000, limit=10, sort="relevance")
    fast = services.nearby(query, MOMENT)
    assert _page_tuple(fast) == _page_tuple(services.nearby_reference(query, MOMENT, bounded=False))
    return [item.offering.id for item in fast.items]


def test_the_standing_tier_follows_every_change_of_a_rating_or_a_merchants_score(db):
    """The triggers keep offerings.standing_tier at what the ranking's own expression adds, through each write that
    moves it, and the fast "Best match" page follows: a rating raised, a merchant's score stored, changed and
    removed, a store moved to another business, an experience added."""
    generate_offerings(400, seed=5)
    _vary_what_best_match_weighs(db)
    db.session.flush()
    assert _tiers_astray(db) == 0
    assert db.session.scalar(select(func.count(func.distinct(Offering.standing_tier)))) >= 10
    centre = LngLat(lng=HANGZHOU.lng, lat=HANGZHOU.lat)
    before = _best_match_agrees(centre)

    # An experience far down the page, rated 5 by many: it climbs.
    far = db.session.scalars(select(Offering).join(Store, Offering.store_id == Store.id)
                             .where(Offering.status == "active", ~Offering.id.in_(before))
                             .order_by(Offering.location.op("<->")(
                                 func.ST_SetSRID(func.ST_MakePoint(centre.lng, centre.lat), 4326)))
                             .limit(1)).one()
    far.rating_count, far.rating_score = 200, Decimal("5.000")
    business_id = far.store.business_id
    scored = db.session.get(BusinessIntegrity, business_id)
    if scored is None:
        db.session.add(BusinessIntegrity(business_id=business_id, score=100, visits=50, parts=[], counts={},
                                         computed_at=MOMENT))
    else:
        scored.score = 100
    db.session.flush()
    assert _tiers_astray(db) == 0
    assert far.id in _best_match_agrees(centre)

    # The merchant falls to just above the lower line, then its score is removed (new again).
    db.session.get(BusinessIntegrity, business_id).score = 41
    db.session.flush()
    assert _tiers_astray(db) == 0
    _best_match_agrees(centre)
    db.session.delete(db.session.get(BusinessIntegrity, business_id))
    db.session.flush()
    assert _tiers_astray(db) == 0
    _best_match_agrees(centre)

    # The store moves to a merchant with a score; a new experience opens there.
    other = db.session.scalar(select(BusinessIntegrity.business_id)
                              .where(BusinessIntegrity.score.is_not(None), BusinessIntegrity.business_id != business_id)
                              .order_by(BusinessIntegrity.score.desc()).limit(1))
    assert other is not None
    far.store.business_id = other
    db.session.flush()
    assert _tiers_astray(db) == 0
    added = Offering(store_id=far.store_id, title="Tea tasting", category=Category.FOOD.value,
                     location=far.location, created_at=MOMENT)
    db.session.add(added)
    db.session.flush()
    db.session.refresh(added)
    assert added.standing_tier != 0 and _tiers_astray(db) == 0
    _best_match_agrees(centre)
