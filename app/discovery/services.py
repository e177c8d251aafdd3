"""Discovery verbs: nearby search, what is in view, and the anonymous search log."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque, namedtuple
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from datetime import time as wall_time
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ARRAY,
    REAL,
    ColumnElement,
    Date,
    DateTime,
    Float,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    case,
    cast,
    exists,
    extract,
    func,
    literal,
    not_,
    or_,
    select,
    text,
    true,
    tuple_,
    union,
    union_all,
)
from sqlalchemy.orm import Bundle

from app import clock, statements
from app.discovery.models import SearchLog
from app.extensions import db
from app.media.services import cover_column, cover_picture
from app.merchants.models import Business, HoursException, OpeningHours, Store
from app.offerings.models import Offering
from app.offerings.services import publicly_visible
from app.statements import Numbered, numbered
from bookings.services import has_room_on
from geo.points import BBox, LngLat
from geo.queries import (
    cluster_cell_deg,
    distance_m,
    geography_point,
    grid_cell,
    in_bbox,
    lat_of,
    lng_of,
    nearest_first,
    within_radius,
)
from trust.services import integrity_lines, integrity_score_of, recommendable

log = logging.getLogger(__name__)

DEFAULT_RADIUS_M = 3000
MAX_RADIUS_M = 50_000
DEFAULT_LIMIT = 20
MAX_LIMIT = 50
MAX_FEATURES = 500
SORTS = ("distance", "rating", "relevance")
# "When can I go?": the store-local start times each part of a day covers, [from, before); None is midnight.
PARTS_OF_DAY = {"morning": (wall_time(0), wall_time(12)), "afternoon": (wall_time(12), wall_time(17)),
                "evening": (wall_time(17), None)}
MAX_PARTY = 50
# "Best match" (sort=relevance), highest score first; README "Ranking" gives the formula with examples.
PROXIMITY_M = 1000.0  # proximity = 1 / (1 + distance / PROXIMITY_M): 1 at the door, 0.5 at 1 km
TITLE_WEIGHT = 1.0  # times the share of the query's words found in the title
FRESH_WEIGHT = 0.3  # times 2^(-age / half-life): what a brand-new experience gains
FRESH_HALF_LIFE_DAYS = 14.0
RATING_WEIGHT = 0.5  # times (Bayesian rating - 4): +0.4 at 4.8, -0.5 at 3.0; 0 while unrated
INTEGRITY_WEIGHT = 0.5  # times (integrity score - 80) / 20: +0.5 at 100, -0.5 at 60; 0 while the merchant is new
TIER_STEP = 0.1  # offerings.standing_tier: what rating and integrity add (standing_bonus), in tenths rounded up
# Nearest candidates that bound how far "Best match" looks (_best_match_tiers): at least this many, and this many
# per result of the page. More find a higher bound (a shorter reach) but cost more to score.
REACH_CANDIDATES = 60
REACH_PER_RESULT = 3
GRID_SCALE = 256  # offering_grid cells are 1/256 degree (about 400 m) square
GRID_TRUST_FACTOR = 2  # above this many times the feature limit, the grid's count decides


@dataclass(frozen=True)
class Filters:
    """What a resident narrows a search to."""

    categories: tuple[str, ...] = ()
    q: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    free: bool | None = None
    open_now: bool = False
    available_on: date | None = None
    part_of_day: str | None = None  # a key of PARTS_OF_DAY; only with available_on
    party: int = 1  # free seats needed in that slot; only with available_on

    @property
    def terms(self) -> list[str]:
        return [term for term in (self.q or "").lower().split() if term][:8]

    def only_categories(self) -> bool:
        """True when nothing but categories narrows the search."""
        return not (self.q or self.min_price is not None or self.max_price is not None
                    or self.free is not None or self.open_now or self.available_on)


@dataclass(frozen=True)
class NearbyQuery:
    point: LngLat
    radius_m: int = DEFAULT_RADIUS_M
    filters: Filters = field(default_factory=Filters)
    sort: str = "distance"
    limit: int = DEFAULT_LIMIT
    after: tuple | None = None  # the sort key of the last item of the previous page
    # The instant freshness is measured at: every page of one search ranks as its first page did.
    ranked_at: datetime | None = None


# Only the columns a result shows: loading whole ORM objects cost a third of a search.
OFFERING_SHOWN = Bundle("offering", Offering.id, Offering.title, Offering.category, Offering.price_amount,
                        Offering.currency, Offering.duration_min, Offering.rating_avg, Offering.rating_count)
STORE_SHOWN = Bundle("store", Store.id, Store.name, Store.address)


@dataclass
class NearbyItem:
    offering: Any  # a row of OFFERING_SHOWN
    store: Any  # a row of STORE_SHOWN
    distance_m: float
    open_now: bool
    lat: float
    lng: float
    photo: dict[str, Any] | None = None  # the cover (app.media.services.picture)


@dataclass
class NearbyPage:
    items: list[NearbyItem]
    next_key: tuple | None  # pass back as ``after`` for the next page
    ranked_at: datetime  # pass back as ``ranked_at`` with it


# -- SQL pieces ----------------------------------------------------------------

def _local_instant(day, at):
    """SQL: the instant a store-local wall time stands for; AT TIME ZONE takes its latest reading."""
    return func.timezone(Store.timezone, day + at, type_=DateTime(timezone=True))


def _covers(day, opens, closes, moment):
    """SQL: the interval opening on ``day`` is open at ``moment`` (closing at or before opening: the next day)."""
    closing_day = case((closes <= opens, day + 1), else_=day)
    return and_(_local_instant(day, opens) <= moment, _local_instant(closing_day, closes) > moment)


def _open_by_day(day, moment, *, overnight_only: bool = False):
    """SQL: an interval that opens on the local date ``day`` is open at ``moment``, its dated exception first.

    ``overnight_only`` skips the intervals that close the day they open (cheaply, before any time zone
    arithmetic): from yesterday, only those reach today.
    """
    def covers(table):
        reach = [table.closes_at <= table.opens_at] if overnight_only else []
        return and_(*reach, _covers(day, table.opens_at, table.closes_at, moment))

    dated = and_(HoursException.store_id == Store.id, HoursException.day == day)
    open_by_exception = exists().where(dated, not_(HoursException.is_closed), covers(HoursException))
    open_by_week = exists().where(
        OpeningHours.store_id == Store.id, OpeningHours.weekday == cast(extract("isodow", day), Integer) - 1,
        covers(OpeningHours))
    return or_(open_by_exception, and_(not_(exists().where(dated)), open_by_week))


def open_now_clause(moment):
    """True where the store is open at ``moment`` by its own clock: the rules of app/merchants/hours.py.

    ``moment`` is an aware datetime or a timestamptz column. Yesterday's overnight intervals count too.
    """
    if isinstance(moment, datetime):
        moment = literal(moment, DateTime(timezone=True))
    today = cast(func.timezone(Store.timezone, moment), Date)
    return or_(_open_by_day(today, moment), _open_by_day(today - 1, moment, overnight_only=True))


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filter_clauses(filters: Filters, moment: datetime) -> list:
    clauses = []
    if isinstance(filters.categories, ColumnElement):  # the fast path's named parameter: an array, or one category
        clauses.append(Offering.category == (func.any(filters.categories)
                                             if isinstance(filters.categories.type, ARRAY) else filters.categories))
    elif filters.categories:
        clauses.append(Offering.category.in_(filters.categories))
    for term in filters.terms:
        clauses.append(Offering.search_text.like(f"%{_like_escape(term)}%", escape="\\"))
    if filters.free is True:
        clauses.append(Offering.price_amount == 0)
    elif filters.free is False:
        clauses.append(Offering.price_amount > 0)
    if filters.min_price is not None:
        clauses.append(Offering.price_amount >= filters.min_price)
    if filters.max_price is not None:
        clauses.append(Offering.price_amount <= filters.max_price)
    if filters.open_now:
        clauses.append(open_now_clause(moment))
    if filters.available_on is not None:
        starts_from, starts_before = PARTS_OF_DAY.get(filters.part_of_day or "", (wall_time(0), None))
        clauses.append(has_room_on(filters.available_on, moment, starts_from=starts_from,
                                   starts_before=starts_before, party=filters.party))
    return clauses


def standing_bonus():
    """SQL: what an experience's rating and its merchant's integrity score add to its "Best match" score: the
    lasting part of it, kept in tenths (rounded up) as ``offerings.standing_tier`` by the database's
    ``offering_standing_tier`` (migration f3a4b5c6d011, with these same weights; a test holds the two together)."""
    rating = case((Offering.rating_count > 0, func.coalesce(cast(Offering.rating_score, Float), 4.0) - 4.0), else_=0.0)
    integrity = func.coalesce((cast(integrity_score_of(Store.business_id), Float) - 80.0) / 20.0, 0.0)
    return RATING_WEIGHT * rating + INTEGRITY_WEIGHT * integrity


def best_match_score(query: NearbyQuery, ranked_at: datetime):
    """SQL: the "Best match" score, higher first: proximity, plus title relevance when words are given,
    plus freshness, plus the Bayesian rating and the merchant's integrity score (see the constants above)."""
    knn = cast(nearest_first(Offering.location, query.point), Float)
    score = 1.0 / (1.0 + knn / PROXIMITY_M)
    terms = query.filters.terms
    if terms:  # every result holds every word somewhere (the q filter); the title is what counts extra
        in_title = [case((func.strpos(func.lower(Offering.title), term) > 0, 1.0), else_=0.0) for term in terms]
        score = score + TITLE_WEIGHT * sum(in_title[1:], in_title[0]) / float(len(terms))
    if not isinstance(ranked_at, ColumnElement):  # the fast path passes a named parameter
        ranked_at = literal(ranked_at, DateTime(timezone=True))
    age_s = cast(extract("epoch", ranked_at - Offering.created_at), Float)
    age_days = func.greatest(0.0, age_s / 86400.0)
    score = score + FRESH_WEIGHT * func.power(2.0, -age_days / FRESH_HALF_LIFE_DAYS)
    return cast(score + standing_bonus(), Float)


def _lowest_tier(hide_below):
    """SQL: the lowest standing tier a recommendable experience can have: a rating score of 1 (the lowest star)
    and a merchant just at the integrity score's lower line (or none: a new merchant adds 0)."""
    line = integrity_lines().hide_below if hide_below is None else hide_below
    lowest = RATING_WEIGHT * (1.0 - 4.0) + INTEGRITY_WEIGHT * func.least(cast(line, Float) - 80.0, 0.0) / 20.0
    return cast(func.floor(lowest / TIER_STEP), Integer)


def _walk(query: NearbyQuery, keys: list, where: list, limit, tier=None):
    """SQL: the nearest rows matching ``where`` (of one standing ``tier``), walked in a GiST index's KNN order: id,
    tier, sort key ``k0`` and KNN distance ``knn``."""
    knn = nearest_first(Offering.location, query.point)
    order = [knn]
    if tier is not None:
        # Ordered by the tier's distance too (0 here), which only ix_offerings_tier[_category]_location gives: the
        # planner, which cannot know how many rows a tier holds, would otherwise walk the location index and step
        # over every other tier's rows, the whole radius for an empty tier.
        where = [*where, Offering.standing_tier == tier]
        order.insert(0, Offering.standing_tier.op("<->")(tier))
    return (select(Offering.id.label("id"), Offering.standing_tier.label("tier"), keys[0].label("k0"),
                   cast(knn, Float).label("knn"))
            .join(Store, Offering.store_id == Store.id).join(Business, Store.business_id == Business.id)
            .where(*where).order_by(*order).limit(limit))


def _candidate_count(query: NearbyQuery):
    return func.greatest(REACH_CANDIDATES, REACH_PER_RESULT * (query.limit + 1))


def _best_match_tiers(query: NearbyQuery, keys: list, where: list, hide_below):
    """SQL: the candidates (CTE: id, tier, ``k0``) and, per standing tier, how far its rows can still reach the page
    and whether the candidates already hold every row of it that near (CTE: ``tier``, reach ``m``, ``held``).

    A result's score is its proximity, 1 / (1 + d / PROXIMITY_M), plus at most the title's weight, freshness's and
    its tier's top (``standing_tier`` tenths). The candidates are the nearest rows of any tier
    (REACH_CANDIDATES, or REACH_PER_RESULT per result of the page) and each tier's nearest page's worth; the
    (limit + 1)-th best score among them, T, is reached by a page's worth of results, so a row of a tier whose
    proximity would have to exceed what T - that tier's ceiling needs cannot be on the page: beyond the tier's
    reach. Without such a T (fewer candidates) or when a ceiling exceeds it: the radius asked.

    The candidates hold a tier's rows within its reach when its own walk ended early (all there are) or beyond the
    reach (a KNN walk misses nothing nearer than the last row it returned), or the nearest walk did.
    """
    limit = query.limit + 1
    nearest = _walk(query, keys, where, _candidate_count(query)).cte("nearest")
    # Only the tiers between the lowest and highest any experience has (two probes of ix_offerings_standing_tier):
    # on unrated data, one. Real like the column: btree_gist compares a real with a real only.
    lowest = func.greatest(_lowest_tier(hide_below), cast(select(func.min(Offering.standing_tier)).scalar_subquery(),
                                                          Integer))
    highest = cast(select(func.max(Offering.standing_tier)).scalar_subquery(), Integer)
    series = select(cast(func.generate_series(lowest, highest), REAL).label("tier")).subquery("series")
    nearest_done = select(func.count() < _candidate_count(query)).select_from(nearest).scalar_subquery()
    nearest_far = select(func.max(nearest.c.knn)).scalar_subquery()
    title = TITLE_WEIGHT if query.filters.terms else 0.0
    # 1e-9: the tier is rounded up from the same sum in another order.
    ceiling = title + FRESH_WEIGHT + TIER_STEP * cast(series.c.tier, Float) + 1e-9
    # A tier's own walk (to find a higher T) only when the nearest walk holds less than everything in the radius
    # and less than a page's worth of the tier, and the tier's best (at the door) beats the page the nearest walk
    # alone gives. On unrated data: never.
    near = select(func.count()).where(nearest.c.tier == series.c.tier).scalar_subquery()
    nearest_page = select(-nearest.c.k0).order_by(nearest.c.k0).offset(query.limit).limit(1).scalar_subquery()
    walks = and_(near < limit, not_(nearest_done), or_(nearest_page.is_(None), 1.0 + ceiling > nearest_page))
    tiers = select(series.c.tier, ceiling.label("ceiling"), walks.label("walks")).cte("tiers")
    of_tier = _walk(query, keys, [*where, tiers.c.walks], limit, tier=tiers.c.tier).lateral("of_tier")
    tier_walks = select(of_tier).select_from(tiers).join(of_tier, true()).cte("tier_walks")
    candidates = union(select(nearest.c.id, nearest.c.tier, nearest.c.k0),
                       select(tier_walks.c.id, tier_walks.c.tier, tier_walks.c.k0)).cte("candidates")
    threshold = (select(-candidates.c.k0).order_by(candidates.c.k0).offset(query.limit).limit(1)
                 .scalar_subquery())
    gap = threshold - tiers.c.ceiling
    # NULL (no threshold) or a ceiling above it: the radius asked (LEAST ignores NULL). 1% and a metre of slack:
    # the bound is on the sphere's KNN distance, the radius test on the spheroid.
    reach = PROXIMITY_M / func.nullif(func.greatest(gap, 0.0), 0.0) * 1.01 - PROXIMITY_M * 1.01 + 1.0
    reaches = select(tiers.c.tier, tiers.c.walks,
                     func.greatest(func.least(cast(query.radius_m, Float), reach), 0.0).label("m")).subquery("reaches")
    walked = (select(tier_walks.c.tier, func.count().label("n"), func.max(tier_walks.c.knn).label("far"))
              .group_by(tier_walks.c.tier).subquery("walked"))
    # The tier's walk ran and ended early, or went beyond the reach; or the nearest walk did. Never NULL: a tier
    # not known to be held is searched.
    held = func.coalesce(or_(and_(reaches.c.walks, func.coalesce(walked.c.n, 0) < limit),
                             walked.c.far > reaches.c.m, nearest_done, nearest_far > reaches.c.m), False)
    plan = (select(reaches.c.tier, reaches.c.m, held.label("held"))
            .select_from(reaches.outerjoin(walked, walked.c.tier == reaches.c.tier)).cte("tier_reach"))
    return candidates, plan


def best_match_bounds(query: NearbyQuery, moment: datetime) -> tuple[int, float]:
    """How many standing tiers a "Best match" page searches with the index's box scan (the others are held by the
    candidates) and the farthest of their reaches (metres; 0 without any): ``_best_match_page``'s decisions,
    evaluated for tests and benchmarks."""
    keys, where = _keys_and_where(query, moment, None)
    _candidates, plan = _best_match_tiers(query, keys, where, None)
    boxes, farthest = db.session.execute(select(func.count(), func.max(plan.c.m)).where(not_(plan.c.held))).one()
    return int(boxes), float(farthest or 0.0)


def _best_match_page(query: NearbyQuery, where: list, keys: list, hide_below):
    """SQL: the ids and sort keys of a "Best match" page (plus one row), without scoring the whole radius.

    Everything on the page lies within its tier's reach (``_best_match_tiers``). A tier whose rows that near are
    all among the candidates gives those; any other is searched with the index's box test at its reach, on
    (standing_tier[, category], location), and the exact test stays at the radius asked, so the box's corners
    beyond the reach only add rows that rank lower. PostgreSQL runs the box scan only for the tiers not held; on
    unrated data (every row in tier 0) the nearest walk holds the page, as before tiers.
    """
    candidates, plan = _best_match_tiers(query, keys, where, hide_below)
    limit = query.limit + 1
    among_candidates = (select(candidates.c.id, candidates.c.k0)
                        .join(plan, and_(plan.c.tier == candidates.c.tier, plan.c.held)))
    box = Offering.location.op("&&")(func._ST_Expand(geography_point(query.point), plan.c.m))
    # The tier's rows in the box, walked nearest first (so in the tier's index), then ranked. OFFSET 0 keeps
    # PostgreSQL from merging the walk into the ranking, and so from choosing another index for it.
    walk = (_walk(query, keys, [not_(plan.c.held), *where, box], None, tier=plan.c.tier).correlate(plan).offset(0)
            .subquery("walk"))
    in_box = select(walk.c.id, walk.c.k0).order_by(walk.c.k0, walk.c.id).limit(limit).lateral("in_box")
    boxed = select(in_box.c.id, in_box.c.k0).select_from(plan).join(in_box, true())
    both = union_all(among_candidates, boxed).subquery("both")
    return select(both.c.id, both.c.k0).order_by(both.c.k0, both.c.id).limit(limit).subquery("page")


def _sort_key(query: NearbyQuery, ranked_at: datetime):
    """Ascending key columns for the chosen order (ties broken by id)."""
    if query.sort == "rating":
        # Rated experiences by their Bayesian score (trust/services/reviews.py: the category's mean as the prior,
        # so one 5-star review does not outrank many at 4.8); the unrated as "Best match".
        rating = case((Offering.rating_count > 0, Offering.rating_score), else_=0)
        return [-cast(func.coalesce(rating, 0), Float), -best_match_score(query, ranked_at)]
    if query.sort == "relevance":
        return [-best_match_score(query, ranked_at)]
    return [nearest_first(Offering.location, query.point)]


def _keys_and_where(query: NearbyQuery, moment: datetime, hide_below) -> tuple[list, list]:
    keys = _sort_key(query, moment if query.ranked_at is None else query.ranked_at)
    where = [within_radius(Offering.location, query.point, query.radius_m), publicly_visible(),
             *_filter_clauses(query.filters, moment)]
    if query.after is not None:
        after = [v if isinstance(v, ColumnElement) else literal(v) for v in query.after]
        where.append(tuple_(*keys, Offering.id) > tuple_(*after))
    if query.sort == "relevance":  # a merchant below the integrity score's lower line leaves "Best match"
        where.append(recommendable(Store.business_id, hide_below=hide_below))
    return keys, where


def nearby_statement(query: NearbyQuery, moment: datetime, hide_below=None, bounded: bool = True) -> Select:
    """The SELECT behind ``nearby``: one page plus one row, sort keys labelled ``k0``, ``k1``, …

    ``hide_below``: the integrity score's lower line (default: the app's setting). ``bounded``: "Best match"
    looks only as far as ``_best_match_reach`` (False: every candidate in the radius, the tests' reference).
    """
    keys, where = _keys_and_where(query, moment, hide_below)
    shown = (distance_m(Offering.location, query.point).label("distance_m"),
             open_now_clause(moment).label("open_now"), lng_of(Offering.location).label("lng"),
             lat_of(Offering.location).label("lat"), cover_column(Offering.id).label("cover"))
    # The page is chosen on ids and sort keys alone; what a result shows (open now, the cover, ...) is then
    # computed for its rows only, not for every candidate in the radius.
    if query.sort == "relevance" and bounded:
        page = _best_match_page(query, where, keys, hide_below)
    else:
        inner = (select(Offering.id.label("id"), *[key.label(f"k{index}") for index, key in enumerate(keys)])
                 .join(Store, Offering.store_id == Store.id).join(Business, Store.business_id == Business.id)
                 .where(*where))
        if query.sort == "distance":
            # PostgreSQL walks the GiST index in KNN order only when ORDER BY is the distance alone,
            # so the inner query orders by it and keeps every row tied with the last one; the outer
            # query then breaks those ties by id over a page's worth of rows.
            inner = inner.order_by(keys[0]).fetch(query.limit + 1, with_ties=True)
        else:
            inner = inner.order_by(*keys, Offering.id).limit(query.limit + 1)
        page = inner.subquery("page")
    key_columns = [page.c[f"k{index}"] for index in range(len(keys))]
    return (
        select(OFFERING_SHOWN, STORE_SHOWN, *shown, *key_columns)
        .join(page, page.c.id == Offering.id).join(Store, Offering.store_id == Store.id)
        .order_by(*key_columns, Offering.id).limit(query.limit + 1)
    )


# -- the fast path: the commonest searches as SQL compiled once ------------------------
# "Best match" and nearest-first pages, narrowed by categories or nothing, are most of the traffic.
# Building and cache-keying nearby_statement cost more Python than PostgreSQL spends answering it, so
# for these shapes the very same statement (nearby_statement, with named parameters in place of the
# values, so every filter other helpers add there is in it) is compiled to SQL text once per process
# and then run straight on the driver. Everything else takes nearby_statement as before.

FastOffering = namedtuple("FastOffering", "id title category price_amount currency duration_min rating_avg "
                                          "rating_count")
FastStore = namedtuple("FastStore", "id name address")
FAST_SORTS = ("distance", "relevance")
_FAST_PARAMS = ("lng", "lat", "radius_m", "limit", "moment", "ranked_at", "hide_below", "category", "categories",
                "after_k", "after_id")
_FAST_SQL: dict[tuple, Numbered] = {}


def fast_shape(query: NearbyQuery) -> tuple | None:
    """The fast path's key for the queries it answers; None for the others."""
    if query.sort not in FAST_SORTS or not query.filters.only_categories():
        return None
    categories = len(query.filters.categories)
    # One category is a shape of its own: `category = $n` is an index condition of ix_offerings_category_location,
    # which walks that category's rows nearest first; `= ANY($n)` cannot be one in a GiST index.
    return (query.sort, "one" if categories == 1 else "many" if categories else "", query.after is not None)


def _fast_sql(shape: tuple) -> Numbered:
    """The shape's statement, compiled once (``app.statements``)."""
    if shape not in _FAST_SQL:
        sort, with_categories, with_after = shape
        point = LngLat(lng=bindparam("lng", type_=Float), lat=bindparam("lat", type_=Float))
        categories = (bindparam("category", type_=String) if with_categories == "one"
                      else bindparam("categories", type_=ARRAY(String)) if with_categories else ())
        after = (bindparam("after_k", type_=Float), bindparam("after_id", type_=Integer)) if with_after else None
        template = NearbyQuery(point=point, radius_m=bindparam("radius_m", type_=Float),
                               filters=Filters(categories=categories), sort=sort,
                               limit=bindparam("limit", type_=Integer), after=after,
                               ranked_at=bindparam("ranked_at", type_=DateTime(timezone=True)))
        statement = nearby_statement(template, bindparam("moment", type_=DateTime(timezone=True)),
                                     hide_below=bindparam("hide_below", type_=Integer))
        _FAST_SQL[shape] = numbered(statement, _FAST_PARAMS)
    return _FAST_SQL[shape]


def fast_params(query: NearbyQuery, shape: tuple, moment: datetime, ranked_at: datetime) -> dict:
    """The values of the shape's statement for this query."""
    params = {"lng": float(query.point.lng), "lat": float(query.point.lat),
              "radius_m": float(query.radius_m), "limit": query.limit, "moment": moment}
    if shape[0] == "relevance":
        params["ranked_at"], params["hide_below"] = ranked_at, integrity_lines().hide_below
    if shape[1] == "one":
        params["category"] = query.filters.categories[0]
    elif shape[1]:
        params["categories"] = list(query.filters.categories)
    if shape[2]:
        params["after_k"], params["after_id"] = float(query.after[0]), int(query.after[1])
    return params


def _fast_rows(query: NearbyQuery, shape: tuple, moment: datetime, ranked_at: datetime) -> list:
    statement = _fast_sql(shape)
    params = fast_params(query, shape, moment, ranked_at)
    rows = statements.alone(statement.sql, statement.values(params))
    return [(FastOffering(*row[:8]), FastStore(*row[8:11]), *row[11:]) for row in rows]


def nearby(query: NearbyQuery, moment: datetime) -> NearbyPage:
    """Find visible experiences within the radius, ordered as asked, one page at a time."""
    ranked_at = query.ranked_at or moment
    shape = fast_shape(query)
    if shape is not None:
        rows = _fast_rows(query, shape, moment, ranked_at)
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        items = [NearbyItem(offering, store, float(distance), bool(open_now), lat, lng, cover_picture(cover))
                 for offering, store, distance, open_now, lng, lat, cover, _k0 in rows]
        next_key = (float(rows[-1][-1]), rows[-1][0].id) if more and rows else None
        return NearbyPage(items=items, next_key=next_key, ranked_at=ranked_at)
    return nearby_reference(query, moment)


def nearby_reference(query: NearbyQuery, moment: datetime, bounded: bool = True) -> NearbyPage:
    """``nearby`` through the ORM statement: every query shape; the fast path's reference in tests
    (``bounded=False``: "Best match" scores every candidate in the radius)."""
    ranked_at = query.ranked_at or moment
    n_keys = len(_sort_key(query, ranked_at))
    rows = db.session.execute(nearby_statement(query, moment, bounded=bounded)).all()
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    items = [NearbyItem(row.offering, row.store, float(row.distance_m), bool(row.open_now), row.lat, row.lng,
                        cover_picture(row.cover)) for row in rows]
    next_key = None
    if more and rows:
        last = rows[-1]
        next_key = tuple(float(getattr(last, f"k{index}")) for index in range(n_keys)) + (last.offering.id,)
    return NearbyPage(items=items, next_key=next_key, ranked_at=ranked_at)


# -- in view ----------------------------------------------------------------------

@dataclass
class InView:
    mode: str  # "features" or "clusters"
    features: list[dict[str, Any]]
    clusters: list[dict[str, Any]]
    total: int
    cell_deg: float | None = None


def in_view(box: BBox, filters: Filters, moment: datetime, max_features: int = MAX_FEATURES) -> InView:
    """What the map shows for a box: the offerings themselves when few, clusters when many.

    A city-wide box is answered from the precomputed grid alone: counting a million live rows to
    learn that there are more than 500 took seconds (PostGIS estimates box matches badly).
    """
    clauses = [in_bbox(Offering.location, box), publicly_visible(), *_filter_clauses(filters, moment)]
    cell = cluster_cell_deg(box)
    grid_usable = filters.only_categories() and cell >= 1 / GRID_SCALE
    if grid_usable:
        clusters = _clusters_from_grid(box, filters, cell)
        # Well past the limit (the grid may be a couple of minutes old): clusters it is.
        if sum(c["count"] for c in clusters) > GRID_TRUST_FACTOR * max_features:
            clusters, cell = _merge_clusters(clusters, cell, max_features)
            return InView("clusters", [], clusters, sum(c["count"] for c in clusters), cell)
    base = select(Offering.id).join(Store, Offering.store_id == Store.id).join(
        Business, Store.business_id == Business.id).where(*clauses)
    count = db.session.scalar(select(func.count()).select_from(base.limit(max_features + 1).subquery()))
    if count <= max_features:
        rows = db.session.execute(
            select(Offering.id, Offering.title, Offering.category, Offering.price_amount, Offering.currency,
                   Store.id.label("store_id"), Store.name.label("store_name"),
                   lng_of(Offering.location).label("lng"), lat_of(Offering.location).label("lat"),
                   cover_column(Offering.id).label("cover"))
            .join(Store, Offering.store_id == Store.id).join(Business, Store.business_id == Business.id)
            .where(*clauses).order_by(Offering.id)
        ).all()
        features = [{
            "id": r.id, "title": r.title, "category": r.category, "lat": r.lat, "lng": r.lng,
            "price": {"amount": f"{r.price_amount:.2f}", "currency": r.currency, "free": r.price_amount == 0},
            "store": {"id": r.store_id, "name": r.store_name}, "photo": cover_picture(r.cover),
        } for r in rows]
        return InView("features", features, [], len(features))
    if grid_usable:
        clusters = _clusters_from_grid(box, filters, cell)
    else:
        clusters = _clusters_live(clauses, cell)
    clusters, cell = _merge_clusters(clusters, cell, max_features)
    return InView("clusters", [], clusters, sum(c["count"] for c in clusters), cell)


def _merge_clusters(clusters: list[dict[str, Any]], cell: float,
                    limit: int) -> tuple[list[dict[str, Any]], float]:
    """Merge clusters into cells twice as wide until at most ``limit`` remain, so none is dropped."""
    while len(clusters) > limit and cell < 360:
        cell *= 2
        merged: dict[tuple[int, int], list[float]] = {}
        for c in clusters:
            total = merged.setdefault((math.floor(c["lng"] / cell), math.floor(c["lat"] / cell)), [0, 0.0, 0.0])
            total[0] += c["count"]
            total[1] += c["lng"] * c["count"]
            total[2] += c["lat"] * c["count"]
        clusters = sorted(({"lat": lat / n, "lng": lng / n, "count": n} for n, lng, lat in merged.values()),
                          key=lambda c: -c["count"])
    return clusters[:limit], cell


# The precomputed grids, finest first: (materialized view, cells per degree).
GRIDS = (("offering_grid", GRID_SCALE), ("offering_grid_coarse", 64))


def _clusters_from_grid(box: BBox, filters: Filters, cell: float) -> list[dict[str, Any]]:
    """Merge precomputed cells (~400 m, or ~1.7 km for city-wide boxes) into display cells."""
    table, scale = next((t, sc) for t, sc in reversed(GRIDS) if cell * sc >= 1)
    factor = round(cell * scale)
    # The table name comes from GRIDS, never from input.
    sql = text(f"""
        SELECT sum(n)::int AS count, sum(sum_lng) / sum(n) AS lng, sum(sum_lat) / sum(n) AS lat
        FROM {table}
        WHERE gx BETWEEN :gx0 AND :gx1 AND gy BETWEEN :gy0 AND :gy1
          AND (CAST(:categories AS text[]) IS NULL OR category = ANY(CAST(:categories AS text[])))
        GROUP BY floor(gx::float / :factor), floor(gy::float / :factor)
        ORDER BY count DESC
    """)  # noqa: S608
    rows = db.session.execute(sql, {
        "gx0": int(box.min_lng * scale) - 1, "gx1": int(box.max_lng * scale) + 1,
        "gy0": int(box.min_lat * scale) - 1, "gy1": int(box.max_lat * scale) + 1,
        "categories": list(filters.categories) or None, "factor": factor,
    }).all()
    return [{"lat": r.lat, "lng": r.lng, "count": r.count} for r in rows
            if box.min_lat <= r.lat <= box.max_lat and box.min_lng <= r.lng <= box.max_lng]


def _clusters_live(clauses: list, cell: float) -> list[dict[str, Any]]:
    gx, gy = grid_cell(Offering.location, cell)
    rows = db.session.execute(
        select(func.count().label("count"), func.avg(lng_of(Offering.location)).label("lng"),
               func.avg(lat_of(Offering.location)).label("lat"))
        .join(Store, Offering.store_id == Store.id).join(Business, Store.business_id == Business.id)
        .where(*clauses).group_by(gx, gy).order_by(func.count().desc())
    ).all()
    return [{"lat": r.lat, "lng": r.lng, "count": r.count} for r in rows]


GRID_LOCK = 7_340_011  # pg advisory lock key: one grid refresh at a time across workers


def refresh_grid(connection=None, concurrently: bool = True) -> bool:
    """Recompute the precomputed cluster cells (seconds at a million offerings).

    Returns False when another process is refreshing already.
    """
    connection = connection if connection is not None else db.session.connection()
    if not connection.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": GRID_LOCK}).scalar():
        return False
    keyword = "CONCURRENTLY " if concurrently else ""
    for table, _scale in GRIDS:  # the coarse grid sums the fine one: fine first
        connection.execute(text(f"REFRESH MATERIALIZED VIEW {keyword}{table}"))
    return True


class GridRefresher:
    """Keep ``offering_grid`` at most ``interval`` seconds behind, refreshing off the request path."""

    def __init__(self, engine_getter, interval: float | None) -> None:
        self._engine_getter = engine_getter
        self._interval = interval
        self._last = float("-inf")  # the first clusters served after start trigger a refresh
        self._busy = threading.Lock()

    def touch(self) -> None:
        """Note that clusters were served; refresh in the background if they may be stale."""
        if self._interval is None or time.monotonic() - self._last < self._interval:
            return
        if self._busy.acquire(blocking=False):
            self._last = time.monotonic()
            threading.Thread(target=self._refresh, name="grid-refresh", daemon=True).start()

    def _refresh(self) -> None:
        try:
            with self._engine_getter().begin() as connection:
                refresh_grid(connection)
        except Exception:
            log.exception("could not refresh offering_grid")
        finally:
            self._busy.release()


# -- search log -------------------------------------------------------------------

@dataclass(frozen=True)
class SearchRecord:
    kind: str
    lat: float
    lng: float
    radius_m: int | None
    categories: tuple[str, ...]
    q: str | None
    result_count: int
    has_more: bool
    searched_at: float
    searcher: int | None = None


class SearchLogBuffer:
    """Collect searches in memory and write them in batches from a background thread.

    The request only appends to a deque; nothing waits on the database. A worker that
    dies loses at most one flush interval of searches, which the demand map can bear.
    """

    def __init__(self, engine_getter, interval: float | None = 1.0, batch: int = 500) -> None:
        self._engine_getter = engine_getter
        self._interval = interval
        self._batch = batch
        self._queue: deque[SearchRecord] = deque(maxlen=100_000)
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()

    def add(self, record: SearchRecord) -> None:
        self._queue.append(record)
        if self._interval is None:  # tests flush by hand, inside their own transaction
            return
        if self._thread is None or not self._thread.is_alive():
            self._start()
        if len(self._queue) >= self._batch:
            self._wake.set()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="search-log", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait(self._interval)
            self._wake.clear()
            try:
                self.flush()
            except Exception:  # keep the writer alive; the next flush retries what is left
                log.exception("could not write the search log")
                time.sleep(self._interval)

    def flush(self, connection=None) -> int:
        """Write everything queued now (through ``connection`` if given); return the row count."""
        rows = []
        while self._queue:
            rows.append(self._queue.popleft())
        if not rows:
            return 0
        values = [{
            "searched_at": datetime.fromtimestamp(r.searched_at, UTC), "kind": r.kind, "lat": r.lat,
            "lng": r.lng, "radius_m": r.radius_m, "categories": list(r.categories), "q": r.q,
            "result_count": min(r.result_count, 32767), "has_more": r.has_more, "searcher": r.searcher,
        } for r in rows]
        try:
            if connection is not None:
                connection.execute(SearchLog.__table__.insert(), values)
            else:
                with self._engine_getter().begin() as own:
                    own.execute(SearchLog.__table__.insert(), values)
        except Exception:
            self._queue.extendleft(reversed(rows))
            raise
        return len(rows)


def rounded(value: float) -> float:
    """Round a coordinate to 0.001 degree (about 100 m): where, never exactly where."""
    return round(value, 3)


def record_search(buffer: SearchLogBuffer, *, kind: str, point: LngLat, radius_m: int | None,
                  filters: Filters, result_count: int, has_more: bool, searcher: int | None = None) -> None:
    """Queue an anonymous record of a search (``searcher``: a salted hash, for counting distinct searchers)."""
    buffer.add(SearchRecord(kind=kind, lat=rounded(point.lat), lng=rounded(point.lng), radius_m=radius_m,
                            categories=filters.categories, q=(filters.q or None) and filters.q[:200],
                            result_count=result_count, has_more=has_more, searched_at=clock.now().timestamp(),
                            searcher=searcher))
