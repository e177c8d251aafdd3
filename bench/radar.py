#!/usr/bin/env python3
"""The demand radar at scale: roll-up throughput and the merchant's radar page on a year of searches.

A report, not a test: it prints figures against the targets and exits 0 (non-zero only when it could not
measure).

    make bench-radar                                   # 10M rows: generating ~2 min, rolling up 28 days ~4 min
    make bench-radar BENCH_ARGS="--rows 1000000"       # a quicker look

On its own database (onsite_bench_radar from scripts/devdb.sh, or BENCH_DATABASE_URL):
  1. N synthetic search-log rows over the year before now in one city (Hangzhou, a 30 km square, denser
     towards the centre; lunch and evening peaks; 300,000 searchers; a quarter finding nothing), made by
     one INSERT … SELECT generate_series (skipped when the table already holds N rows: rerun cheaply);
  2. the roll-up (app.insights.services.roll_up_searches, the radar job's work) over the newest
     --rollup-days of them (default 28: the pages read at most 90 days, and a year takes this machine
     most of an hour), committed every batch: rows per second against 500 searches a second;
  3. a merchant's store at the centre, and its radar page for a 5 km view over the last 7 days
     (/merchant/stores/<id>/demand?radius=5000, through the Flask test client, logged in): p50 and p95 of
     --requests requests against 200 ms (the page keeps its sums and map per roll-up version); the first
     view after a roll-up (version moved on, map cache cleared) is timed too, and the page's two SQL reads
     alone, uncached.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import bench_database_url, flask, log, machine_line, masked, sql  # noqa: E402

ROLLUP_TARGET_PER_S = 500
PAGE_TARGET_MS = 200
FEATURE = '"type": "Feature"'  # one a hexagon in the page's GeoJSON layer
CENTRE = (30.2590, 120.1500)  # lat, lng
GENERATE = """
INSERT INTO search_logs (searched_at, kind, lat, lng, radius_m, categories, q, result_count, has_more, searcher)
SELECT at, 'nearby',
       round((__LAT__ + (random() + random() + random() - 1.5) * 0.09)::numeric, 3)::float8,
       round((__LNG__ + (random() + random() + random() - 1.5) * 0.105)::numeric, 3)::float8,
       3000,
       CASE WHEN r < 0.3 THEN ARRAY[]::varchar[]
            ELSE ARRAY[(ARRAY['beauty_makeup', 'fitness_coaching', 'class_workshop', 'food_tasting',
                              'wellness_massage', 'fashion_fitting', 'kids_family'])[1 + (r * 1000)::int % 7]
                      ]::varchar[]
       END,
       CASE WHEN r > 0.97 THEN (ARRAY['pottery', '陶艺', 'escape room', '汉服'])[1 + (r * 10000)::int % 4] END,
       CASE WHEN r2 < 0.25 THEN 0 WHEN r2 < 0.4 THEN 1 + (r2 * 10)::int % 2 ELSE 3 + (r2 * 100)::int % 20 END,
       r2 > 0.9,
       (random() * 300000)::bigint
FROM (
    SELECT now() - (g::float8 / __N__) * interval '365 days'
               - (CASE WHEN random() < 0.5 THEN interval '0 hours' ELSE interval '9 hours' END) AS at,
           random() AS r, random() AS r2
    FROM generate_series(1, __N__) AS g
) AS s
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--batch", type=int, default=50_000)
    parser.add_argument("--keep-rollup", action="store_true",
                        help="measure the pages on the last run's roll-up (no roll-up figure then)")
    parser.add_argument("--rollup-days", type=int, default=28,
                        help="roll up the newest DAYS of the year (the pages read at most 90; 365 for all)")
    args = parser.parse_args()
    url = bench_database_url("onsite_bench_radar")
    log(f"database {masked(url)}")
    flask(url, "db", "upgrade")
    sql(url, "TRUNCATE users CASCADE")  # the benchmark's own database: its merchant is made afresh each run

    have = sql(url, "SELECT count(*) FROM search_logs")[0][0]
    if have != args.rows:
        log(f"generating {args.rows:,} search-log rows over a year (one INSERT … generate_series)")
        started = time.perf_counter()
        sql(url, "TRUNCATE search_logs, demand_counts, rollup_marks",
            "SET work_mem = '256MB'",
            GENERATE.replace("__LAT__", str(CENTRE[0])).replace("__LNG__", str(CENTRE[1]))
            .replace("__N__", str(args.rows)))
        sql(url, "VACUUM ANALYZE search_logs")
        log(f"generated in {time.perf_counter() - started:.0f} s")
    elif not args.keep_rollup:
        log(f"search_logs already holds {have:,} rows: reusing them; rolling up afresh")
        sql(url, "TRUNCATE demand_counts, rollup_marks")

    import os
    from zoneinfo import ZoneInfo

    os.environ["DATABASE_URL"] = url
    from sqlalchemy import text

    from app import create_app
    from app.extensions import db
    from app.insights import services
    from tests import factories as f

    app = create_app()
    app.config["RATELIMIT_ENABLED"] = False
    zone = ZoneInfo("Asia/Shanghai")
    with app.app_context():
        log("rolling up")
        # Row ids run from the newest search to the oldest: the first ids are the days the pages read.
        todo = 0 if args.keep_rollup else args.rows * min(args.rollup_days, 365) // 365
        started, done, cpu = time.perf_counter(), 0, time.process_time()
        while done < todo:
            n = services.roll_up_searches(zone=zone, k=10, batch=args.batch, limit=min(args.batch * 4, todo - done))
            db.session.commit()
            done += n
            if n == 0:
                break
            elapsed = time.perf_counter() - started
            log(f"  {done:,} rows, {done / elapsed:,.0f} rows/s")
        rollup_s = max(time.perf_counter() - started, 1e-9)
        rollup_cpu = time.process_time() - cpu
        counts = db.session.execute(text("SELECT res, count(*) FROM demand_counts GROUP BY res ORDER BY res")).all()
        db.session.execute(text("ANALYZE demand_counts"))
        db.session.commit()

        owner = f.create_merchant()
        store = f.create_store(f.create_business(owner), lat=CENTRE[0], lng=CENTRE[1])
        f.create_offering(store, category="class_workshop")
        db.session.commit()
        store_id, email = store.id, owner.email

        from datetime import timedelta

        from app import clock

        today = clock.today(zone)
        since = today - timedelta(days=6)
        cells = services.cells_within(CENTRE[0], CENTRE[1], 5000, services.RES_FINE)
        query_ms = {"cells": [], "opportunities": []}
        for _ in range(args.requests):  # the reads themselves, not the answers the pages keep per roll-up
            t = time.perf_counter()
            shown = services._demand_by_cell(services.RES_FINE, since, today, 10, services.ALL, tuple(cells))
            query_ms["cells"].append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            ranked = services._area_demand(CENTRE[0], CENTRE[1], 5000, since, today, 10, 10)
            query_ms["opportunities"].append((time.perf_counter() - t) * 1000)
            db.session.rollback()

    client = app.test_client()
    login = client.get("/auth/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', login).group(1)
    assert client.post("/auth/login", data={"email": email, "password": "password123",
                                            "csrf_token": token}).status_code == 302
    page_ms = []
    path = f"/merchant/stores/{store_id}/demand?radius=5000&days=7"
    for i in range(args.requests + 3):
        t = time.perf_counter()
        response = client.get(path)
        elapsed = (time.perf_counter() - t) * 1000
        assert response.status_code == 200, response.status_code
        if i >= 3:  # the first requests warm imports and caches
            page_ms.append(elapsed)
    body = response.get_data(as_text=True)

    # The first view after a roll-up: a statement on demand_counts moves the counts' version on (as every
    # roll-up batch does), so the page's sums are read again and its map drawn again.
    from app.insights import routes as radar_routes

    cold_ms = []
    for _ in range(max(3, args.requests // 4)):
        with app.app_context():
            db.session.execute(text("UPDATE demand_counts SET searches = searches WHERE false"))
            db.session.commit()
        radar_routes._drawn_map.cache_clear()
        t = time.perf_counter()
        assert client.get(path).status_code == 200
        cold_ms.append((time.perf_counter() - t) * 1000)

    def pct(values, p):
        values = sorted(values)
        return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]

    rate = done / rollup_s
    print(f"\n{machine_line(url)}")
    print(f"search-log rows: {args.rows:,} over a year, the newest {done:,} ({args.rollup_days} days) rolled up; "
          "roll-up rows by resolution: "
          + ", ".join(f"res {r}: {n:,}" for r, n in counts))
    if args.keep_rollup:
        print("roll-up: not measured (--keep-rollup: the last run's roll-up was read)")
    else:
        print(f"roll-up: {done:,} rows in {rollup_s:.1f} s = {rate:,.0f} searches/s "
              f"(this process's CPU {rollup_cpu:.1f} s); target {ROLLUP_TARGET_PER_S}/s: "
              f"{'PASS' if rate >= ROLLUP_TARGET_PER_S else 'MISS'} ({rate / ROLLUP_TARGET_PER_S:.0f}x)")
    print(f"5 km view, last 7 days: {len(cells)} res-9 cells asked, {len(shown)} shown (k=10), "
          f"{body.count(FEATURE)} hexagons on the page, {len(ranked)} opportunities")
    for name, values in query_ms.items():
        print(f"  SQL {name:<14} p50 {statistics.median(values):6.1f} ms  p95 {pct(values, 95):6.1f} ms")
    p50 = statistics.median(page_ms)
    print(f"radar page ({args.requests} requests): p50 {p50:.0f} ms, p95 {pct(page_ms, 95):.0f} ms; "
          f"target p50 < {PAGE_TARGET_MS} ms: {'PASS' if p50 < PAGE_TARGET_MS else 'MISS'} "
          "(answers kept per roll-up version)")
    print(f"radar page, first view after a roll-up ({len(cold_ms)} requests): p50 {statistics.median(cold_ms):.0f} ms, "
          f"p95 {pct(cold_ms, 95):.0f} ms")
    load = os.getloadavg()
    print(f"load average while measuring: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
