#!/usr/bin/env python3
"""How long the integrity score takes: 10,000 merchants with a year of synthetic history, recomputed in full and
incrementally, against the issue's target (all of them in under a minute on this machine).

A report, not a test: it prints figures and exits 0 (non-zero only when it could not measure).

    make bench-integrity                                 # about 3 minutes, most of it loading the history
    make bench-integrity BENCH_ARGS="--merchants 2000"

On its own database (onsite_bench_integrity from scripts/devdb.sh, or BENCH_DATABASE_URL), emptied first:
  1. in SQL alone: N merchants (one store, one experience each) and 2,000 residents; a slot and a booking every
     2 days for a year per experience (about 183 each: completed, no-shows, cancelled by either side, declined;
     every 20th merchant cancels and declines much more); a dispute on every 40th completed visit (reasons in
     turn, answered after 0-59 hours, half upheld) with its events; a review of every 3rd completed visit (3-5
     stars, a few held as a burst);
  2. ``flask trust recompute --all``'s verb, timed: every active merchant counted, scored and stored, with
     this week's history row;
  3. an incremental run after 1 % of the merchants got a new booking (the cron case), timed.
"""

# ruff: noqa: S608 - the SQL holds only this script's constants and integers
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import bench_database_url, flask, log, machine_line, masked, sql  # noqa: E402

TARGET_S = 60.0
RESIDENTS = 2000
REASONS = ("not_as_described", "charged_more_than_listed", "turned_away", "wrongly_marked_no_show",
           "merchant_cancelled_late", "safety_or_hygiene", "other")
CATEGORIES = ("beauty", "fitness", "education", "food", "wellness", "fashion", "family", "crafts", "other")


def load(url: str, merchants: int) -> dict[str, int]:
    reasons = "ARRAY[" + ",".join(f"'{r}'" for r in REASONS) + "]"
    categories = "ARRAY[" + ",".join(f"'{c}'" for c in CATEGORIES) + "]"
    steps = [
        ("accounts", f"""
            INSERT INTO users (email, password_hash, display_name, role, is_active_account)
            SELECT 'owner' || g || '@bench.local', 'x', 'Owner ' || g, 'merchant', true
            FROM generate_series(1, {merchants}) g
            UNION ALL
            SELECT 'resident' || g || '@bench.local', 'x', 'Resident ' || g, 'resident', true
            FROM generate_series(1, {RESIDENTS}) g"""),
        ("businesses", f"""
            INSERT INTO businesses (owner_id, name, description, phone, category, status, is_verified)
            SELECT id, 'Bench ' || id, '', '', ({categories})[1 + id % 9], 'active', false
            FROM users WHERE role = 'merchant'"""),
        ("stores", """
            INSERT INTO stores (business_id, name, address, location, timezone, status, geofence_m)
            SELECT id, 'Store ' || id, '',
                   ST_SetSRID(ST_MakePoint(120.0 + (id % 997) * 0.0003, 30.1 + (id % 991) * 0.0003), 4326)::geography,
                   'Asia/Shanghai', 'active', 150
            FROM businesses"""),
        ("experiences", """
            INSERT INTO offerings (store_id, title, description, category, price_amount, currency, duration_min,
                                   capacity, cancel_cutoff_hours, policy_text, status, location)
            SELECT id, 'Class ' || id, '', 'class_workshop', 100, 'CNY', 60, 10, 24, '', 'active', location
            FROM stores"""),
        ("slots", """
            INSERT INTO slots (offering_id, starts_at, ends_at, capacity, seats_taken, status, is_extra)
            SELECT o.id, date_trunc('hour', now()) - make_interval(days => i * 2, mins => o.id % 600),
                   date_trunc('hour', now()) - make_interval(days => i * 2, mins => o.id % 600) + interval '1 hour',
                   10, 1, 'open', false
            FROM offerings o, generate_series(0, 182) i"""),
        ("bookings", f"""
            WITH r AS (SELECT min(id) AS first FROM users WHERE role = 'resident')
            INSERT INTO bookings (slot_id, offering_id, store_id, resident_id, starts_at, party_size, note, status,
                                  payment_status, unit_price, currency, price_due, code, is_late_cancel,
                                  created_at, updated_at)
            SELECT s.id, s.offering_id, o.store_id, r.first + s.id % {RESIDENTS}, s.starts_at, 1, '',
                   CASE WHEN abs(hashint4(s.id)) % 100 < (CASE WHEN o.store_id % 20 = 0 THEN 12 ELSE 2 END)
                          THEN 'cancelled_by_merchant'
                        WHEN abs(hashint4(s.id)) % 100 < (CASE WHEN o.store_id % 20 = 0 THEN 20 ELSE 4 END)
                          THEN 'rejected'
                        WHEN abs(hashint4(s.id)) % 100 < 25 THEN 'cancelled_by_resident'
                        WHEN abs(hashint4(s.id)) % 100 < 30 THEN 'no_show'
                        ELSE 'completed' END,
                   'unpaid', 100, 'CNY', 100, lpad(to_hex(s.id), 8, '0'), false,
                   s.starts_at - interval '3 days', least(s.starts_at + interval '2 hours', now() - interval '1 hour')
            FROM slots s JOIN offerings o ON o.id = s.offering_id, r"""),
        ("disputes", f"""
            INSERT INTO disputes (booking_id, store_id, resident_id, reason, description, asks, currency, status,
                                  opened_at, respond_by, answered_at, decided_at)
            SELECT id, store_id, resident_id, ({reasons})[1 + (id / 40) % 7], 'A bench dispute, long enough.',
                   'apology', 'CNY', CASE WHEN abs(hashint4(id + 1)) % 2 = 0 THEN 'upheld' ELSE 'rejected' END,
                   starts_at + interval '1 day', starts_at + interval '3 days',
                   starts_at + interval '1 day' + make_interval(hours => id % 60), starts_at + interval '5 days'
            FROM bookings WHERE status = 'completed' AND abs(hashint4(id)) % 40 = 0
              AND starts_at < now() - interval '6 days'"""),
        ("dispute events", """
            INSERT INTO dispute_events (dispute_id, from_status, to_status, note, created_at)
            SELECT id, NULL, 'opened', '', opened_at FROM disputes
            UNION ALL SELECT id, 'opened', 'merchant_contested', '', answered_at FROM disputes
            UNION ALL SELECT id, 'merchant_contested', 'escalated', '', answered_at FROM disputes
            UNION ALL SELECT id, 'escalated', status, '', decided_at FROM disputes"""),
        ("reviews", """
            INSERT INTO reviews (booking_id, offering_id, store_id, resident_id, rating, rating_described,
                                 rating_service, rating_value, body, verified, status, flag_reason, created_at)
            SELECT id, offering_id, store_id, resident_id, 3 + abs(hashint4(id + 4)) % 3, 3 + abs(hashint4(id + 5)) % 3,
                   2 + abs(hashint4(id + 6)) % 4 - (store_id % 50 = 0)::int, 3 + abs(hashint4(id + 7)) % 3,
                   'A bench review, long enough.', false,
                   CASE WHEN abs(hashint4(id + 3)) % 1009 = 0 THEN 'flagged' ELSE 'published' END,
                   CASE WHEN abs(hashint4(id + 3)) % 1009 = 0 THEN 'burst' END,
                   least(starts_at + interval '1 day', now() - interval '1 hour')
            FROM bookings WHERE status = 'completed' AND abs(hashint4(id + 2)) % 3 = 0"""),
    ]
    for name, statement in steps:
        started = time.perf_counter()
        sql(url, statement)
        log(f"loaded {name} in {time.perf_counter() - started:.1f} s")
    sql(url, "VACUUM (ANALYZE)")
    (row,) = sql(url, "SELECT (SELECT count(*) FROM bookings), (SELECT count(*) FROM disputes), "
                      "(SELECT count(*) FROM dispute_events), (SELECT count(*) FROM reviews)")
    return dict(zip(("bookings", "disputes", "dispute_events", "reviews"), row, strict=True))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--merchants", type=int, default=10_000)
    args = parser.parse_args()
    url = bench_database_url("onsite_bench_integrity")
    log(f"database {masked(url)}")
    flask(url, "db", "upgrade")
    sql(url, "TRUNCATE users, businesses CASCADE")  # the benchmark's own database: every run starts empty
    started = time.perf_counter()
    rows = load(url, args.merchants)
    log(f"history loaded in {time.perf_counter() - started:.0f} s: " + ", ".join(f"{v:,} {k}" for k, v in rows.items()))

    os.environ["DATABASE_URL"] = url
    from sqlalchemy import func, select

    from app import clock, create_app
    from app.extensions import db
    from trust.models_score import BusinessIntegrity
    from trust.services import recompute_due

    app = create_app()
    with app.app_context():
        wall, cpu = time.perf_counter(), time.process_time()
        full = recompute_due(clock.now(), full=True)
        db.session.commit()
        full_s, full_cpu = time.perf_counter() - wall, time.process_time() - cpu
        log(f"full recompute: {full:,} merchants in {full_s:.1f} s")

        touched = max(args.merchants // 100, 1)
        # Each touched merchant's latest visit changes now (a check-in, a payment, a late no-show mark).
        sql(url, f"UPDATE bookings SET updated_at = now() WHERE id IN (SELECT DISTINCT ON (store_id) id FROM bookings "
                 f"ORDER BY store_id, starts_at DESC LIMIT {touched})")
        wall = time.perf_counter()
        incremental = recompute_due(clock.now())
        db.session.commit()
        incremental_s = time.perf_counter() - wall
        scored = db.session.execute(select(func.count(BusinessIntegrity.score), func.min(BusinessIntegrity.score),
                                           func.avg(BusinessIntegrity.score), func.max(BusinessIntegrity.score))).one()

    print(f"\n{machine_line(url)}")
    print(f"history: {args.merchants:,} merchants, a year: " + ", ".join(f"{v:,} {k}" for k, v in rows.items()))
    print(f"{'run':<44}{'merchants':>10}{'wall s':>9}{'app CPU s':>11}")
    print(f"{'flask trust recompute --all':<44}{full:>10,}{full_s:>9.1f}{full_cpu:>11.1f}")
    print(f"{'flask trust recompute (1 % with new events)':<44}{incremental:>10,}{incremental_s:>9.1f}{'':>11}")
    print(f"scores: {scored[0]:,} scored, min {scored[1]}, mean {float(scored[2] or 0):.1f}, max {scored[3]}")
    verdict = "PASS" if full_s < TARGET_S else "MISS"
    print(f"target: {args.merchants:,} merchants with a year of history recompute in under "
          f"{TARGET_S:.0f} s: {verdict} ({full_s:.1f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
