#!/usr/bin/env python3
"""`make bench`: every row of the performance issue's table in one run, and one table at the end.

A report, not a test: it prints figures and PASS/MISS per row and exits 0 whether or not a target is met
(non-zero only when a benchmark could not measure at all).

    make bench                                    # 10,000 and 1,000,000 offerings; about 10 minutes
                                                  # (3 more the first time, to generate 1M)
    make bench BENCH_SIZES="10000 200000"         # other sizes (the last one also measures in-view)

It runs, one after the other, each against its own hand-written baseline in the same run:
  1. bench/nearby.py: nearby search (default order and sort=distance, without and with a category),
     the explore page and in-view, at each size of BENCH_SIZES (a size's generated data is kept in its own
     database, onsite_bench_<size>, and reused by later runs);
  2. bench/booking_burst.py: 1,000 residents booking 1,000 distinct slots, and 2,000 bursting on one slot of 50;
then prints one table: path, size, req/s, p50, p99, baseline req/s, ratio, target, PASS/MISS.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from _common import BENCH_DIR, log
from nearby import Row, print_table

TARGET_BOOKING_RATIO = 0.5
BURST_CAPACITY = 50


def run(script: str, json_path: Path, *args: str) -> dict:
    log(f"running bench/{script} {' '.join(args)}")
    done = subprocess.run([sys.executable, str(BENCH_DIR / script), "--json", str(json_path), *args], check=False)
    if done.returncode != 0 or not json_path.exists():
        raise SystemExit(f"bench: bench/{script} could not measure (exit {done.returncode})")
    return json.loads(json_path.read_text())


def booking_rows(data: dict) -> list[Row]:
    onsite, baseline = data["onsite"], data["baseline"]
    distinct, base = onsite["distinct"], baseline["distinct"]
    ratio = distinct["rps"] / base["rps"] if base["rps"] else float("inf")
    burst = onsite["burst"]
    p99_check = next(c for c in data["checks"] if c["target"].startswith("p99"))
    burst_ok = all(c["ok"] for c in data["checks"] if not c["target"].startswith("distinct-slot"))
    return [
        Row(f"POST booking, {distinct['n'] // max(1, len(distinct['rounds'])):,} distinct slots", "-",
            distinct["rps"], distinct["p50_ms"], distinct["p99_ms"], base["rps"], ratio,
            f">= {TARGET_BOOKING_RATIO}x", ratio >= TARGET_BOOKING_RATIO),
        Row(f"POST booking, burst on 1 slot of {BURST_CAPACITY}", "-", burst["rps"], burst["p50_ms"],
            burst["p99_ms"], baseline["burst"]["rps"], burst["rps"] / baseline["burst"]["rps"],
            f"exactly {BURST_CAPACITY}, 0 5xx, {p99_check['target'].split(' under')[0]}", burst_ok),
    ]


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-all-") as tmp:
        nearby = run("nearby.py", Path(tmp) / "nearby.json", *sys.argv[1:])
        booking = run("booking_burst.py", Path(tmp) / "booking.json")
    rows = [Row(**row) for row in nearby["rows"]] + booking_rows(booking)
    context = nearby["context"]
    print()
    print("=" * 100)
    print(f"make bench — {context['when']} — commit {context['commit']}")
    print(f"machine: {context['cpus']} CPUs, {context['python']}, PostgreSQL {context['pg']}, {context['wrk']}; "
          f"{context['gunicorn']}")
    print(f"booking: {booking['context']['machine']}; load average before it {booking['context']['load']}")
    print("=" * 100)
    print_table(rows, "Every row of the performance issue's table (baselines measured in this run)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
