"""The hand-written baseline for bench/nearby.py: one Flask route, one pooled SQL query.

It answers the same questions as ``GET /api/v1/offerings/nearby`` (radius 3000 m, 20 items; "Best match"
or ``sort=distance``; optional ``category``) and the explore page (50 results, the default order, as HTML)
and nothing else: no ORM, no argument schema, no auth, no search log, no cursor.
Served by gunicorn from bench/nearby.py:

    BASELINE_DATABASE_URL=postgresql://... gunicorn --chdir bench --workers 2 baseline_app:app
"""

from __future__ import annotations

import os

from flask import Flask, jsonify, render_template_string, request
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

# Same WHERE and the same computed columns as the app's query: ST_Distance in metres, open-now
# in the store's time zone (dated exceptions first, then weekly hours, yesterday's overnight ones
# too), ST_X / ST_Y of the point; only the columns the JSON needs. Nearest first by the KNN
# operator alone, so the GiST index can return rows in order (offerings of one store share a
# point: ties come in index order, where the app breaks them by id).
SELECT_SQL = """
SELECT o.id, o.title, o.category, o.price_amount, o.currency, o.duration_min, o.rating_avg, o.rating_count,
       s.id AS store_id, s.name AS store_name, s.address AS store_address,
       ST_Distance(o.location, p.g) AS distance_m,
       EXISTS (SELECT 1 FROM (VALUES (timezone(s.timezone, now())::date - 1),
                                     (timezone(s.timezone, now())::date)) AS d(day)
               WHERE CASE WHEN EXISTS (SELECT 1 FROM hours_exceptions e WHERE e.store_id = s.id AND e.day = d.day)
                 THEN EXISTS (SELECT 1 FROM hours_exceptions e
                              WHERE e.store_id = s.id AND e.day = d.day AND NOT e.is_closed
                                AND timezone(s.timezone, d.day + e.opens_at) <= now()
                                AND timezone(s.timezone,
                                             d.day + (e.closes_at <= e.opens_at)::int + e.closes_at) > now())
                 ELSE EXISTS (SELECT 1 FROM opening_hours h
                              WHERE h.store_id = s.id AND h.weekday = extract(isodow FROM d.day)::int - 1
                                AND timezone(s.timezone, d.day + h.opens_at) <= now()
                                AND timezone(s.timezone,
                                             d.day + (h.closes_at <= h.opens_at)::int + h.closes_at) > now())
               END) AS open_now,
       ST_X(o.location::geometry) AS lng, ST_Y(o.location::geometry) AS lat
FROM (SELECT ST_SetSRID(ST_MakePoint(%(lng)s, %(lat)s), 4326)::geography AS g) AS p,
     offerings o
     JOIN stores s ON o.store_id = s.id
     JOIN businesses b ON s.business_id = b.id
     {join}
WHERE ST_DWithin(o.location, p.g, 3000)
  AND o.status = 'active' AND s.status = 'active' AND b.status = 'active' {where}
ORDER BY {order}
LIMIT %(limit)s
"""
# "Best match" (app/discovery/services.py best_match_score, the API's documented formula) written by hand:
# proximity + freshness + Bayesian rating + the merchant's integrity score; merchants below the lower line
# (trust/score.py HIDE_BELOW, 40) are left out.
BEST_MATCH = """
    1.0 / (1.0 + (o.location <-> p.g) / 1000.0)
    + 0.3 * power(2.0, -greatest(0.0, extract(epoch FROM now() - o.created_at)::float8 / 86400.0) / 14.0)
    + 0.5 * CASE WHEN o.rating_count > 0 THEN coalesce(o.rating_score::float8, 4.0) - 4.0 ELSE 0.0 END
    + 0.5 * coalesce((bi.score::float8 - 80.0) / 20.0, 0.0)
"""
CATEGORY_SQL = "AND o.category = ANY(%(categories)s)"
NEARBY_SQL = {
    (sort, bool(category)): SELECT_SQL.format(
        join="LEFT JOIN business_integrity bi ON bi.business_id = s.business_id" if sort == "relevance" else "",
        where=category + (" AND (bi.score IS NULL OR bi.score >= 40)" if sort == "relevance" else ""),
        order=f"({BEST_MATCH}) DESC, o.id" if sort == "relevance" else "o.location <-> p.g")
    for sort in ("relevance", "distance") for category in ("", CATEGORY_SQL)
}

EXPLORE_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Experiences near you</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>Experiences near you</h1><div id="map" style="height: 60vh"></div>
<ol id="results">{% for item in items %}
<li data-id="{{ item.id }}"><a href="/offerings/{{ item.id }}">{{ item.title }}</a>
{{ item.store.name }}, {{ item.store.address }} · {{ item.price.amount }} {{ item.price.currency }} ·
{{ item.distance_m }} m{% if item.open_now %} · open now{% endif %}</li>{% endfor %}
</ol></main>
<script type="application/json" id="initial">{{ initial|tojson }}</script></body></html>
"""

app = Flask(__name__)
_pool: ConnectionPool | None = None


def _conninfo() -> str:
    url = os.environ.get("BASELINE_DATABASE_URL") or os.environ["DATABASE_URL"]
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def pool() -> ConnectionPool:
    """One pool per worker process, opened on first use (after gunicorn forks)."""
    global _pool
    if _pool is None:
        _pool = ConnectionPool(_conninfo(), min_size=2, max_size=4, open=True,
                               kwargs={"options": "-c jit=off", "row_factory": dict_row})
    return _pool


def _search(args, limit: int) -> list[dict] | tuple:
    try:
        lat = float(args["lat"])
        lng = float(args["lng"])
    except (KeyError, ValueError):
        return jsonify({"error": "lat and lng are required numbers"}), 422
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return jsonify({"error": "lat/lng out of range"}), 422
    sort = args.get("sort", "relevance")
    if sort not in ("relevance", "distance"):
        return jsonify({"error": "sort: relevance or distance"}), 422
    categories = args.getlist("category")
    params = {"lat": lat, "lng": lng, "limit": limit, "categories": categories}
    with pool().connection() as conn:
        rows = conn.execute(NEARBY_SQL[sort, bool(categories)], params).fetchall()
    return [{
        "id": r["id"], "title": r["title"], "category": r["category"],
        "price": {"amount": f"{r['price_amount']:.2f}", "currency": r["currency"], "free": r["price_amount"] == 0},
        "duration_min": r["duration_min"],
        "store": {"id": r["store_id"], "name": r["store_name"], "address": r["store_address"],
                  "lat": r["lat"], "lng": r["lng"]},
        "lat": r["lat"], "lng": r["lng"], "distance_m": round(r["distance_m"], 1), "open_now": r["open_now"],
        "rating": {"avg": float(r["rating_avg"]), "count": r["rating_count"]} if r["rating_count"] else None,
    } for r in rows]


@app.get("/nearby")
def nearby():
    items = _search(request.args, 20)
    return items if isinstance(items, tuple) else jsonify({"items": items})


@app.get("/explore")
def explore():
    items = _search(request.args, 50)
    if isinstance(items, tuple):
        return items
    return render_template_string(EXPLORE_PAGE, items=items,
                                  initial={"lat": request.args["lat"], "lng": request.args["lng"], "items": items})
