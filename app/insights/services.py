"""The demand radar's verbs: roll searches and waitlist overflows up into h3 cells, and read them back
k-anonymously; a store's figures for its dashboard are in ``app.insights.dashboard``.

Privacy: a page or API only ever gets sums over cells (or over a store's surroundings) that at least k
distinct searchers contributed to, rounded; never a single search, a position finer than a cell, or a
searcher's hash.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TypeVar
from zoneinfo import ZoneInfo

import h3
from sqlalchemy import text

from app.extensions import db
from app.insights.models import ALL, WORD_PREFIX

RES_FINE = 9  # about 0.1 km² a cell: a neighbourhood
RES_CITY = 7  # about 5 km² a cell: the city
RESOLUTIONS = (RES_CITY, RES_FINE)
FEW_RESULTS = 3  # a search that found fewer than this (and no next page) found "few"
RAW_LOG_DAYS = 90
RADIUS_CHOICES = (1000, 3000, 5000)  # a store's "Demand near you" views, in metres
WINDOWS = (7, 28, 90)  # the periods the pages and the API show, in days up to today
DEFAULT_K = 10
ROUND_TO = 5
MAX_WORD = 38
SEARCH_MARK, WAITLIST_MARK, SEAT_REQUEST_MARK = "searches", "waitlist", "seat_requests"
_INT64 = 1 << 64


# -- cells and identities ------------------------------------------------------------

@lru_cache(maxsize=1 << 18)  # logged positions are rounded to 0.001°: a city has few enough of them
def cell_of(lat: float, lng: float, res: int) -> int:
    """Return the h3 cell holding (lat, lng) at ``res`` as a signed 64-bit integer (a bigint column)."""
    value = h3.str_to_int(h3.latlng_to_cell(lat, lng, res))
    return value - _INT64 if value >= 1 << 63 else value


def cell_hex(cell: int) -> str:
    """Return the h3 string form of a cell stored as a signed integer."""
    return h3.int_to_str(cell + _INT64 if cell < 0 else cell)


@lru_cache(maxsize=1 << 16)
def cell_boundary(cell: int) -> tuple[tuple[float, float], ...]:
    """Return the cell's corners as (lat, lng) pairs."""
    return tuple(h3.cell_to_boundary(cell_hex(cell)))


def cell_polygon(cell: int) -> dict:
    """Return the cell as a GeoJSON Polygon geometry: one closed ring of [lng, lat] corners."""
    ring = [[lng, lat] for lat, lng in cell_boundary(cell)]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def cells_within(lat: float, lng: float, radius_m: float, res: int) -> list[int]:
    """Return the cells at ``res`` whose centres lie within about ``radius_m`` of (lat, lng)."""
    return list(_cells_within(lat, lng, radius_m, res))


@lru_cache(maxsize=1024)  # a store's surroundings are asked for at every page view
def _cells_within(lat: float, lng: float, radius_m: float, res: int) -> tuple[int, ...]:
    centre = h3.latlng_to_cell(lat, lng, res)
    step_m = h3.average_hexagon_edge_length(res, unit="m") * 3 ** 0.5  # centre to neighbouring centre
    rings = max(1, round(radius_m / step_m))
    out = []
    for cell in h3.grid_disk(centre, rings):
        c_lat, c_lng = h3.cell_to_latlng(cell)
        if h3.great_circle_distance((lat, lng), (c_lat, c_lng), unit="m") <= radius_m + step_m / 2:
            value = h3.str_to_int(cell)
            out.append(value - _INT64 if value >= 1 << 63 else value)
    return tuple(out)


def searcher_key(identity: str, salt: str) -> int:
    """Return a salted hash of a searcher as a signed 64-bit integer (never shown, never reversible here)."""
    digest = hmac.new(salt.encode(), identity.encode(), hashlib.sha256).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def rounded_count(n: int) -> int:
    """Round a count to the nearest multiple of 5 (half up), so a shown figure never pins one search."""
    return ((n + ROUND_TO // 2) // ROUND_TO) * ROUND_TO


def word_of(q: str | None) -> str | None:
    """Return the searched words as the radar keeps them (lower case, trimmed), or None."""
    if not q:
        return None
    word = " ".join(q.lower().split())[:MAX_WORD]
    return word or None


# -- rolling up ----------------------------------------------------------------------

@dataclass
class Tally:
    searches: int = 0
    zero_results: int = 0
    few_results: int = 0
    waitlist_overflows: int = 0  # found every seat taken: waitlist entries never seated, seat requests
    searchers: set[int] = field(default_factory=set)


Key = tuple[int, int, str, date, int]  # res, cell, category, local day, local hour (0 at RES_FINE: see hour_kept)


@dataclass(frozen=True)
class SearchRow:
    searched_at: datetime
    lat: float
    lng: float
    categories: Sequence[str]
    q: str | None
    result_count: int
    has_more: bool
    searcher: int | None


def hour_kept(res: int, hour: int) -> int:
    """Return the hour a count is kept under: its own at the city resolution, 0 (the whole day) for fine cells.

    Neighbourhood cells are many and each holds few searches an hour: by the day they are 24 times fewer rows
    to read for a map, and the hours of the week come from the city cells around a store.
    """
    return hour if res == RES_CITY else 0


def tally_searches(rows: Iterable[SearchRow], zone: ZoneInfo, k: int) -> dict[Key, Tally]:
    """Count searches per (resolution, cell, category, local day, local hour), keeping at most k searchers each."""
    out: dict[Key, Tally] = defaultdict(Tally)
    for row in rows:
        local = row.searched_at.astimezone(zone)
        zero = row.result_count == 0
        few = not zero and row.result_count < FEW_RESULTS and not row.has_more
        keys = [ALL, *row.categories]
        word = word_of(row.q) if zero else None
        if word:
            keys.append(WORD_PREFIX + word)
        for res in RESOLUTIONS:
            cell = cell_of(row.lat, row.lng, res)
            for category in dict.fromkeys(keys):
                tally = out[(res, cell, category, local.date(), hour_kept(res, local.hour))]
                tally.searches += 1
                tally.zero_results += zero
                tally.few_results += few
                if row.searcher is not None and len(tally.searchers) < k:
                    tally.searchers.add(row.searcher)
    return out


_UPSERT = text("""
INSERT INTO demand_counts AS d (res, cell, category, day, hour, searches, zero_results, few_results,
                                waitlist_overflows, searchers)
SELECT u.res, u.cell, u.category, u.day, u.hour, u.searches, u.zero_results, u.few_results,
       u.waitlist_overflows, u.searchers::bigint[]
FROM unnest(CAST(:res AS smallint[]), CAST(:cell AS bigint[]), CAST(:category AS text[]), CAST(:day AS date[]),
            CAST(:hour AS smallint[]), CAST(:searches AS int[]), CAST(:zero AS int[]), CAST(:few AS int[]),
            CAST(:overflow AS int[]), CAST(:searchers AS text[]))
     AS u(res, cell, category, day, hour, searches, zero_results, few_results, waitlist_overflows, searchers)
ON CONFLICT (res, cell, category, day, hour) DO UPDATE SET
    searches = d.searches + excluded.searches,
    zero_results = d.zero_results + excluded.zero_results,
    few_results = d.few_results + excluded.few_results,
    waitlist_overflows = d.waitlist_overflows + excluded.waitlist_overflows,
    searchers = CASE WHEN cardinality(d.searchers) >= :k THEN d.searchers
                     ELSE ARRAY(SELECT DISTINCT s FROM unnest(d.searchers || excluded.searchers) AS s LIMIT :k) END
""")


def _store_tallies(tallies: dict[Key, Tally], k: int) -> None:
    if not tallies:
        return
    keys = sorted(tallies)  # one order for every writer: no deadlock between two batches
    cols: dict[str, list] = {name: [] for name in (
        "res", "cell", "category", "day", "hour", "searches", "zero", "few", "overflow", "searchers")}
    for key in keys:
        tally = tallies[key]
        for name, value in zip(("res", "cell", "category", "day", "hour"), key, strict=True):
            cols[name].append(value)
        cols["searches"].append(tally.searches)
        cols["zero"].append(tally.zero_results)
        cols["few"].append(tally.few_results)
        cols["overflow"].append(tally.waitlist_overflows)
        cols["searchers"].append("{" + ",".join(str(s) for s in sorted(tally.searchers)) + "}")
    db.session.execute(_UPSERT, {**cols, "k": k})


def _mark(name: str) -> tuple[int, datetime | None]:
    """Lock and return a roll-up's mark: a second runner waits here rather than counting twice."""
    db.session.execute(text("INSERT INTO rollup_marks (name, last_id) VALUES (:n, 0) ON CONFLICT DO NOTHING"),
                       {"n": name})
    row = db.session.execute(text("SELECT last_id, last_at FROM rollup_marks WHERE name = :n FOR UPDATE"),
                             {"n": name}).one()
    return row.last_id, row.last_at


def roll_up_searches(*, zone: ZoneInfo, k: int, batch: int = 20_000, limit: int | None = None) -> int:
    """Add the search-log rows written since the last roll-up to ``demand_counts``; return how many. Flushes."""
    last_id, _ = _mark(SEARCH_MARK)
    done = 0
    while limit is None or done < limit:
        size = batch if limit is None else min(batch, limit - done)
        rows = db.session.execute(text(
            "SELECT id, searched_at, lat, lng, categories, q, result_count, has_more, searcher FROM search_logs "
            "WHERE id > :after ORDER BY id LIMIT :n"), {"after": last_id, "n": size}).all()
        if not rows:
            break
        _store_tallies(tally_searches((SearchRow(r.searched_at, r.lat, r.lng, r.categories or (), r.q,
                                                 r.result_count, r.has_more, r.searcher) for r in rows), zone, k), k)
        last_id = rows[-1].id
        done += len(rows)
        if len(rows) < size:
            break
    db.session.execute(text("UPDATE rollup_marks SET last_id = :id WHERE name = :n"),
                       {"id": last_id, "n": SEARCH_MARK})
    return done


def _tally_unmet(rows, zone: ZoneInfo, k: int, salt: str) -> dict[Key, Tally]:
    """Residents who found every seat taken, each row (resident_id, at, category, lat, lng) one "overflow"."""
    tallies: dict[Key, Tally] = defaultdict(Tally)
    for row in rows:
        local = row.at.astimezone(zone)
        who = searcher_key(f"user:{row.resident_id}", salt)
        for res in RESOLUTIONS:
            cell = cell_of(row.lat, row.lng, res)
            for category in (ALL, row.category):
                tally = tallies[(res, cell, category, local.date(), hour_kept(res, local.hour))]
                tally.waitlist_overflows += 1
                if len(tally.searchers) < k:
                    tally.searchers.add(who)
    return tallies


def roll_up_waitlist(now: datetime, *, zone: ZoneInfo, k: int, salt: str) -> int:
    """Count waitlist entries still waiting when their slot began (they never got a seat); return how many."""
    _, last_at = _mark(WAITLIST_MARK)
    since = last_at or now - timedelta(days=RAW_LOG_DAYS)
    rows = db.session.execute(text("""
        SELECT w.resident_id, s.starts_at AS at, o.category,
               ST_Y(o.location::geometry) AS lat, ST_X(o.location::geometry) AS lng
        FROM waitlist_entries w JOIN slots s ON s.id = w.slot_id JOIN offerings o ON o.id = s.offering_id
        WHERE s.starts_at > :since AND s.starts_at <= :now AND w.status = 'waiting' AND s.status <> 'cancelled'
    """), {"since": since, "now": now}).all()
    _store_tallies(_tally_unmet(rows, zone, k, salt), k)
    db.session.execute(text("UPDATE rollup_marks SET last_at = :at WHERE name = :n"),
                       {"at": now, "n": WAITLIST_MARK})
    return len(rows)


def roll_up_seat_requests(now: datetime, *, zone: ZoneInfo, k: int, salt: str) -> int:
    """Count "tell me when a seat frees" requests made since the last run (app/favourites: the experience had
    nothing to book or wait for) as residents who found every seat taken, at the hour they asked; return how many."""
    _, last_at = _mark(SEAT_REQUEST_MARK)
    since = last_at or now - timedelta(days=RAW_LOG_DAYS)
    rows = db.session.execute(text("""
        SELECT i.resident_id, i.created_at AS at, o.category,
               ST_Y(o.location::geometry) AS lat, ST_X(o.location::geometry) AS lng
        FROM seat_interests i JOIN offerings o ON o.id = i.offering_id
        WHERE i.created_at > :since AND i.created_at <= :now
    """), {"since": since, "now": now}).all()
    _store_tallies(_tally_unmet(rows, zone, k, salt), k)
    db.session.execute(text("UPDATE rollup_marks SET last_at = :at WHERE name = :n"),
                       {"at": now, "n": SEAT_REQUEST_MARK})
    return len(rows)


def prune_search_log(now: datetime) -> int:
    """Delete raw searches older than 90 days that are rolled up already; return how many."""
    last_id, _ = _mark(SEARCH_MARK)
    return db.session.execute(text(
        "DELETE FROM search_logs WHERE searched_at < :cutoff AND id <= :last"),
        {"cutoff": now - timedelta(days=RAW_LOG_DAYS), "last": last_id}).rowcount


def run_radar(now: datetime, *, zone: ZoneInfo, k: int, salt: str) -> dict[str, int]:
    """The radar's periodic work: roll up new searches and overflows, then prune the old raw log."""
    return {"searches_rolled_up": roll_up_searches(zone=zone, k=k),
            "waitlist_overflows": roll_up_waitlist(now, zone=zone, k=k, salt=salt),
            "seat_requests": roll_up_seat_requests(now, zone=zone, k=k, salt=salt),
            "search_logs_pruned": prune_search_log(now)}


# -- reading back, k-anonymously -----------------------------------------------------

T = TypeVar("T")
_ANSWERS: OrderedDict[tuple, object] = OrderedDict()
_ANSWERS_KEPT = 512
_ANSWERS_LOCK = threading.Lock()




def counts_version() -> int:
    """Return the committed version of ``demand_counts``: every statement that changes them moves it on.

    A trigger sets ``radar_version.n`` from a sequence in the writer's transaction (see migration
    c3ad0a4c0008), so it changes whoever writes the counts (the roll-up job, the demo loader, a test) and never
    comes back to a value it had.
    """
    return db.session.execute(text("SELECT n FROM radar_version WHERE id = 1")).scalar_one()


def _remembered(key: tuple, compute: Callable[[], T]) -> T:
    """Return ``compute()``, kept in this process under the counts' version: never stale after a roll-up.

    The version is read before and after computing; the answer is kept only when both agree, so no commit
    to the counts fell between the reads it was computed from (each statement reads the latest commit).
    Answers are immutable (frozen dataclasses, tuples): callers share them.
    """
    before = counts_version()
    key = (str(db.engine.url), *key)  # versions of two databases (tests, e2e) must not meet
    with _ANSWERS_LOCK:
        if (before, *key) in _ANSWERS:
            _ANSWERS.move_to_end((before, *key))
            return _ANSWERS[(before, *key)]  # type: ignore[return-value]
    value = compute()
    if counts_version() == before:
        with _ANSWERS_LOCK:
            _ANSWERS[(before, *key)] = value
            while len(_ANSWERS) > _ANSWERS_KEPT:
                _ANSWERS.popitem(last=False)
    return value


@dataclass(frozen=True)
class CellDemand:
    cell: int
    searches: int
    zero_results: int
    few_results: int
    waitlist_overflows: int

    @property
    def unmet(self) -> int:
        return self.zero_results + self.few_results + self.waitlist_overflows

    @property
    def boundary(self) -> list[tuple[float, float]]:
        return cell_boundary(self.cell)

    @property
    def centre(self) -> tuple[float, float]:
        return h3.cell_to_latlng(cell_hex(self.cell))


def _k_anonymous(group: str, source: str, params: dict) -> list:
    """Sum ``source``'s rows by ``group`` ("cell" or "category"), keeping groups of at least k distinct searchers.

    A group with one row that holds k searchers passes at once (a row keeps at most k, all distinct); only the
    others have their searchers counted across rows, which is the slow part and rare where demand is high.
    """
    if group not in ("cell", "category"):
        raise ValueError(group)
    rows = db.session.execute(text(f"""
        SELECT {group} AS key, sum(searches) AS searches, sum(zero_results) AS zero, sum(few_results) AS few,
               sum(waitlist_overflows) AS overflow, bool_or(cardinality(searchers) >= :k) AS sure
        {source} GROUP BY {group} ORDER BY {group}"""), params).all()  # noqa: S608 - two fixed column names
    unsure = {r.key for r in rows if not r.sure}
    enough: set = set()
    if unsure:
        # Stream the unsure groups' searcher sets and stop as soon as each has k: a busy group is settled in
        # a few rows, and a quiet one has few rows to read.
        seen: dict = defaultdict(set)
        result = db.session.execute(text(f"SELECT {group} AS key, searchers {source} AND {group} = ANY(:unsure)"),
                                    {**params, "unsure": list(unsure)},
                                    execution_options={"stream_results": True, "yield_per": 2000})
        for key, searchers in result:
            if key in enough:
                continue
            seen[key].update(searchers)
            if len(seen[key]) >= params["k"]:
                enough.add(key)
                if len(enough) == len(unsure):
                    break
        result.close()
    return [r for r in rows if r.sure or r.key in enough]


def demand_by_cell(*, res: int, since: date, until: date, k: int, category: str = ALL,
                   cells: Sequence[int] | None = None) -> list[CellDemand]:
    """Return each cell's rounded demand over [since, until], only cells with at least k distinct searchers.

    Kept per process under the counts' version (:func:`_remembered`): a page view after the first reads one
    row; the k-anonymity is the computed answer's, unchanged.
    """
    asked = tuple(cells) if cells is not None else None
    return list(_remembered(("cells", res, since, until, k, category, asked),
                            lambda: tuple(_demand_by_cell(res, since, until, k, category, asked))))


def _demand_by_cell(res: int, since: date, until: date, k: int, category: str,
                    cells: Sequence[int] | None) -> list[CellDemand]:
    rows = _k_anonymous("cell", """
        FROM demand_counts WHERE res = :res AND category = :category AND day BETWEEN :since AND :until
          AND (NOT :some OR cell = ANY(:cells))""", {
        "res": res, "category": category, "since": since, "until": until, "k": k,
        "some": cells is not None, "cells": list(cells or [])})
    return [CellDemand(r.key, rounded_count(r.searches), rounded_count(r.zero), rounded_count(r.few),
                       rounded_count(r.overflow)) for r in rows]


@dataclass(frozen=True)
class Opportunity:
    category: str  # a category slug, or WORD_PREFIX + words that found nothing
    searches: int
    zero_results: int
    few_results: int
    waitlist_overflows: int
    offers: int
    peak_hours: list[tuple[int, int]]  # (ISO weekday 1-7, local hour), busiest first
    own_offerings: list[tuple[int, str]]  # (offering id, title) of the merchant's that could serve it

    @property
    def unmet(self) -> int:
        return self.zero_results + self.few_results + self.waitlist_overflows

    @property
    def word(self) -> str | None:
        return self.category[len(WORD_PREFIX):] if self.category.startswith(WORD_PREFIX) else None


def opportunities(*, lat: float, lng: float, radius_m: float, since: date, until: date, k: int,
                  business_id: int | None = None, limit: int = 10) -> list[Opportunity]:
    """Rank what people searched for within ``radius_m`` of a point: most unmet demand first.

    Each category's sums are shown only when k distinct searchers contributed to them in the area. The sums
    and peak hours are kept per process under the counts' version (:func:`_remembered`); the offers and the
    merchant's own experiences are read afresh.
    """
    area = _remembered(("area", lat, lng, radius_m, since, until, k, limit),
                       lambda: _area_demand(lat, lng, radius_m, since, until, k, limit))
    if not area:
        return []
    categories = [c for c, _, _ in area]
    offers = dict(db.session.execute(text("""
        SELECT o.category, count(*) FROM offerings o JOIN stores s ON s.id = o.store_id
        JOIN businesses b ON b.id = s.business_id
        WHERE o.status = 'active' AND s.status = 'active' AND b.status = 'active'
          AND ST_DWithin(o.location, ST_MakePoint(:lng, :lat)::geography, :r) AND o.category = ANY(:cats)
        GROUP BY o.category
    """), {"lng": lng, "lat": lat, "r": radius_m, "cats": categories}).all())
    own: dict[str, list[tuple[int, str]]] = defaultdict(list)
    if business_id is not None:
        for r in db.session.execute(text("""
            SELECT o.id, o.title, o.category FROM offerings o JOIN stores s ON s.id = o.store_id
            WHERE s.business_id = :b AND o.category = ANY(:cats) AND o.status <> 'archived' ORDER BY o.id
        """), {"b": business_id, "cats": categories}):
            own[r.category].append((r.id, r.title))
    return [Opportunity(c, *sums, offers.get(c, 0), list(peaks), own[c]) for c, sums, peaks in area]


def _area_demand(lat: float, lng: float, radius_m: float, since: date, until: date, k: int,
                 limit: int) -> tuple[tuple[str, tuple[int, ...], tuple[tuple[int, int], ...]], ...]:
    """The ranked categories around a point with their rounded sums and peak hours, k-anonymous."""
    cells = cells_within(lat, lng, radius_m, RES_FINE)
    totals = {r.key: [r.searches, r.zero, r.few, r.overflow] for r in _k_anonymous("category", """
        FROM demand_counts WHERE res = :res AND cell = ANY(:cells) AND category <> ''
          AND day BETWEEN :since AND :until""", {"res": RES_FINE, "cells": cells, "since": since, "until": until,
                                                 "k": k})}
    ranked = sorted(totals, key=lambda c: (-(totals[c][1] + totals[c][2] + totals[c][3]), -totals[c][0], c))[:limit]
    if not ranked:
        return ()
    peaks = _peak_hours(lat, lng, radius_m, since, until, ranked)
    return tuple((c, tuple(rounded_count(n) for n in totals[c]), tuple(peaks[c])) for c in ranked)


def _peak_hours(lat: float, lng: float, radius_m: float, since: date, until: date,
                categories: Sequence[str]) -> dict[str, list[tuple[int, int]]]:
    """Each category's three busiest (ISO weekday, local hour) around a point, from the city cells (fine cells
    are kept by the day). Only the order is given out, never the counts behind it."""
    peaks: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for r in db.session.execute(text("""
        SELECT category, EXTRACT(isodow FROM day)::int AS weekday, hour, sum(searches) + sum(waitlist_overflows) AS n
        FROM demand_counts WHERE res = :res AND cell = ANY(:cells) AND category = ANY(:cats)
        AND day BETWEEN :since AND :until GROUP BY 1, 2, 3 ORDER BY 1, 4 DESC, 2, 3
    """), {"res": RES_CITY, "cells": cells_within(lat, lng, radius_m, RES_CITY), "cats": list(categories),
           "since": since, "until": until}):
        if len(peaks[r.category]) < 3:
            peaks[r.category].append((r.weekday, r.hour))
    return peaks


def area_peak_hours(*, lat: float, lng: float, radius_m: float, since: date, until: date, k: int,
                    category: str = ALL) -> list[tuple[int, int]]:
    """The three busiest (ISO weekday, local hour) for ``category`` within ``radius_m`` of a point, busiest
    first; empty unless k distinct searchers searched the area. Kept per counts' version like the rest."""
    def compute() -> tuple[tuple[int, int], ...]:
        enough = _k_anonymous("category", """
            FROM demand_counts WHERE res = :res AND cell = ANY(:cells) AND category = :category
              AND day BETWEEN :since AND :until""", {
            "res": RES_FINE, "cells": cells_within(lat, lng, radius_m, RES_FINE), "category": category,
            "since": since, "until": until, "k": k})
        if not enough:
            return ()
        return tuple(_peak_hours(lat, lng, radius_m, since, until, [category])[category])

    return list(_remembered(("peaks", lat, lng, radius_m, since, until, k, category), compute))
