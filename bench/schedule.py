#!/usr/bin/env python3
"""How much of a worker the largest allowed schedule costs: Onsite's save against hand-written SQL.

A report, not a test: it prints figures and exits 0 (non-zero only when it could not measure).

    make bench-schedule                       # 5 rounds, about a minute
    make bench-schedule BENCH_ARGS="--rounds 9"

Every round, on its own database (onsite_bench_schedule from scripts/devdb.sh, or BENCH_DATABASE_URL):
  1. a fresh experience gets the largest schedule the API accepts (a slot every 30 minutes, all day,
     every day, 8 weeks ahead: 2,632 slots) through bookings.services.set_schedule, committed;
     wall time and this process's CPU time (the app's share) are measured;
  2. the same schedule is saved again (nothing to create: the common case of an edit);
  3. the baseline: one hand-written INSERT … SELECT generate_series that makes the same slots for
     another experience in PostgreSQL alone.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._common import bench_database_url, flask, log, machine_line, masked, sql  # noqa: E402

BODY = {"every": {"weekdays": list(range(7)), "from": "00:00", "to": "23:30", "minutes": 30},
        "weeks_ahead": 8, "min_notice_minutes": 0}
BASELINE = """
INSERT INTO slots (offering_id, starts_at, ends_at, capacity, seats_taken, status, is_extra)
SELECT :offering, s, s + interval '60 minutes', 4, 0, 'open', false
FROM generate_series(date_trunc('day', now()) + interval '1 day',
                     date_trunc('day', now()) + interval '57 days' - interval '1 minute', interval '30 minutes') AS s
WHERE extract(hour FROM s) * 60 + extract(minute FROM s) < 23 * 60 + 30
"""


def timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    url = bench_database_url("onsite_bench_schedule")
    log(f"database {masked(url)}")
    flask(url, "db", "upgrade")
    sql(url, "TRUNCATE users CASCADE")  # the benchmark's own database: every run starts empty

    import os

    os.environ["DATABASE_URL"] = url
    from sqlalchemy import text

    from app import clock, create_app
    from app.extensions import db
    from bookings import services
    from tests import factories as f

    app = create_app()
    first, again, baseline, slots = [], [], [], 0
    with app.app_context():
        for n in range(args.rounds):
            offering = f.create_offering(capacity=4, duration_min=60)
            other = f.create_offering(store=offering.store, capacity=4, duration_min=60)
            owner = offering.store.business.owner
            db.session.commit()

            def save(offering=offering, owner=owner):
                nonlocal slots
                slots = services.set_schedule(owner, offering, BODY, clock.now()).created or slots
                db.session.commit()

            first.append(timed(save))
            again.append(timed(save))

            def hand_written(other=other):
                db.session.execute(text(BASELINE), {"offering": other.id})
                db.session.commit()

            baseline.append(timed(hand_written))
            log(f"round {n + 1}: first save {first[-1][0]:.0f} ms, again {again[-1][0]:.0f} ms, "
                f"baseline {baseline[-1][0]:.0f} ms")

    def med(rows, i):
        return statistics.median(r[i] for r in rows)

    print(f"\n{machine_line(url)}")
    print(f"largest allowed schedule: {slots:,} slots (every 30 min, all day, 8 weeks); median of {args.rounds}")
    print(f"{'path':<34}{'wall ms':>10}{'app CPU ms':>12}{'vs baseline':>13}")
    for name, rows in (("Onsite: first save", first), ("Onsite: save again (no change)", again),
                       ("baseline: INSERT … generate_series", baseline)):
        print(f"{name:<34}{med(rows, 0):>10.0f}{med(rows, 1):>12.0f}{med(rows, 0) / med(baseline, 0):>12.1f}x")
    verdict = "PASS" if med(first, 1) < 1000 else "MISS"
    print(f"target: the largest allowed schedule saves in under 1 s of app time: {verdict} "
          f"({med(first, 1):.0f} ms app CPU)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
