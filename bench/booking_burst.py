#!/usr/bin/env python3
"""Peak-day ("Double 11") booking benchmark: Onsite against a hand-written baseline.

A report, not a test: it prints figures and PASS/MISS per target and exits 0 whether or
not a target is met (non-zero only when it could not measure at all).

    make bench-booking                        # 3 rounds; 2-8 minutes, mostly Onsite's share
    make bench-booking BENCH_ARGS="--rounds 1 --threads 128"

What it does, in one run (see bench/README.md):
  1. its own database (onsite_bench_booking from scripts/devdb.sh, or BENCH_DATABASE_URL):
     migrate, empty, then through the services one merchant, business, store, a "burst"
     experience (capacity 50) and four more experiences with weekly schedules (thousands
     of slots), and 2,000 residents (one precomputed argon2 hash, bulk insert) each with a
     bearer token from app.auth.services.issue_token;
  2. serve the baseline (bench/baseline_booking_app.py) and Onsite (wsgi:app), each with
     gunicorn, 2 sync workers, on a free loopback port; warm each up with 100 bookings;
  3. every round, one server under load at a time (which goes first alternates), each run after an ANALYZE and
     a CHECKPOINT:
     scenario A, burst: 2,000 distinct residents try to book one fresh slot of capacity 50
     at once; scenario B, distinct slots: 1,000 residents book 1,000 fresh slots at once.
     The client is stdlib http.client in 64 threads released together by a Barrier, each
     thread with its own connection, taking the next request from a shared list. The CPU
     the gunicorn workers and the PostgreSQL backends used is read from /proc, so the
     cost per request can be compared even on a busy machine;
  4. checks in the database that no slot is overbooked and every slot's counter equals
     its active bookings, and prints the table and the targets of the Bookings issue.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import math
import os
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from _common import (
    BENCH_DIR,
    ROOT,
    BenchError,
    Server,
    app_env,
    bench_database_url,
    flask,
    git_commit,
    libpq_url,
    log,
    machine_line,
    masked,
    register,
    sigterm_as_interrupt,
    sql,
    stop_all,
)

sys.path.insert(0, str(ROOT))

DATABASE_NAME = "onsite_bench_booking"
PASSWORD = "bench-password-1"
ACTIVE = ("pending", "confirmed", "checked_in")
DISTINCT_OFFERINGS = 4

# Targets from the Bookings issue (section 'Peak day ("Double 11") benchmark and tests').
TARGET_RATIO = 0.5
TARGET_P99_MS = 300.0  # the performance issue (the Bookings issue asked for 500)


# -- data ------------------------------------------------------------------------------

@dataclass
class Fixture:
    tokens: list[str]
    burst_slots: dict[str, list[int]]            # server -> one slot per round
    distinct_slots: dict[str, list[list[int]]]   # server -> per round, the slots booked once each
    warmup_slots: dict[str, list[int]]
    burst_offering: int
    setup_s: float
    counts: dict[str, int] = field(default_factory=dict)


def empty_database(url: str) -> None:
    log("emptying the benchmark database (users, businesses and everything hanging off them)")
    sql(url, "TRUNCATE users, businesses, stores, offerings, outbox_emails, idempotency_keys, search_logs "
             "RESTART IDENTITY CASCADE")


def prepare(url: str, args: argparse.Namespace) -> Fixture:
    """Create the merchant side through the services, and the residents with their tokens."""
    started = time.perf_counter()
    os.environ["DATABASE_URL"] = url  # app.config reads it at import time
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    from sqlalchemy import func, insert, select

    from app import create_app
    from app.auth.models import Role, User
    from app.auth.services import hash_password, issue_token
    from app.extensions import db
    from app.merchants import services as merchants
    from app.offerings import services as offerings
    from bookings import services as bookings
    from bookings.models import Slot

    app = create_app()
    with app.app_context():
        now = datetime.now(UTC)
        t0 = time.perf_counter()
        password_hash = hash_password(PASSWORD)
        hash_ms = (time.perf_counter() - t0) * 1000
        owner = User(email="owner@bench.onsite", password_hash=password_hash, display_name="Bench Owner",
                     role=Role.MERCHANT)
        db.session.add(owner)
        db.session.flush()
        business = merchants.create_business(owner, {"name": "Double 11 Crafts", "category": "other"})
        store = merchants.create_store(owner, business, {
            "name": "Double 11 Crafts, West Lake", "address": "1 Nanshan Road, Hangzhou",
            "lat": 30.2460, "lng": 120.1490, "timezone": "Asia/Shanghai"})
        burst = offerings.create_offering(owner, store, {
            "title": "Singles' Day pottery (burst)", "category": "class_workshop", "price_amount": "88.00",
            "capacity": args.capacity, "duration_min": 60})
        burst_needed = 2 * args.rounds
        bookings.set_schedule(owner, burst, {"every": {"weekdays": list(range(7)), "from": "10:00", "to": "18:00",
                                                       "minutes": 60},
                                             "weeks_ahead": min(52, math.ceil(burst_needed / 56) + 1)}, now)
        # Enough slots for both servers' distinct-slot rounds and warm-ups, over several experiences.
        needed = 2 * (args.slots * args.rounds + args.warmup)
        per_week = DISTINCT_OFFERINGS * 7 * 24  # every 30 min from 08:00 to 20:00
        weeks = min(52, math.ceil(needed / per_week) + 2)
        distinct_ids = []
        for i in range(DISTINCT_OFFERINGS):
            offering = offerings.create_offering(owner, store, {
                "title": f"Tea tasting {i + 1}", "category": "food_tasting", "price_amount": "58.00", "capacity": 10,
                "duration_min": 30})
            bookings.set_schedule(owner, offering, {"every": {"weekdays": list(range(7)), "from": "08:00",
                                                              "to": "20:00", "minutes": 30},
                                                    "weeks_ahead": weeks}, now)
            distinct_ids.append(offering.id)

        t0 = time.perf_counter()
        ids = db.session.scalars(insert(User).returning(User.id, sort_by_parameter_order=True), [
            {"email": f"resident{n:05d}@bench.onsite", "password_hash": password_hash,
             "display_name": f"Resident {n}", "role": Role.RESIDENT} for n in range(args.residents)]).all()
        users = db.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.id)).all()
        tokens = [issue_token(user) for user in users]
        db.session.commit()
        residents_s = time.perf_counter() - t0

        after = now + timedelta(days=1)  # well past the minimum notice
        burst_slots = db.session.scalars(select(Slot.id).where(Slot.offering_id == burst.id, Slot.starts_at > after)
                                         .order_by(Slot.starts_at).limit(burst_needed)).all()
        pool = db.session.scalars(select(Slot.id).where(Slot.offering_id.in_(distinct_ids), Slot.starts_at > after)
                                  .order_by(Slot.starts_at, Slot.offering_id).limit(needed)).all()
        if len(burst_slots) < burst_needed or len(pool) < needed:
            raise BenchError(f"not enough future slots: {len(burst_slots)} of {burst_needed} burst, "
                             f"{len(pool)} of {needed} distinct")
        slot_total = db.session.scalar(select(func.count()).select_from(Slot))
        counts = {"slots": slot_total, "residents": len(tokens), "offerings": 1 + DISTINCT_OFFERINGS}
        burst_id = burst.id
    # Alternate, so both servers get slots spread over the same days and experiences.
    warm, rest = pool[:2 * args.warmup], pool[2 * args.warmup:]
    per_server = {"baseline": rest[0::2], "onsite": rest[1::2]}
    fixture = Fixture(
        tokens=tokens, burst_slots={"baseline": burst_slots[0::2], "onsite": burst_slots[1::2]},
        distinct_slots={name: [slots[r * args.slots:(r + 1) * args.slots] for r in range(args.rounds)]
                        for name, slots in per_server.items()},
        warmup_slots={"baseline": warm[0::2], "onsite": warm[1::2]},
        burst_offering=burst_id, setup_s=time.perf_counter() - started, counts=counts)
    log(f"setup: {counts['offerings']} experiences, {slot_total:,} slots, {len(tokens):,} residents with tokens "
        f"(argon2 hash {hash_ms:.0f} ms once; users + tokens {residents_s:.1f} s); {fixture.setup_s:.1f} s in all")
    sql(url, "VACUUM (ANALYZE)", "CHECKPOINT")
    return fixture


# -- CPU accounting ----------------------------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def proc_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds a local process has used so far (None when unreadable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def db_backend_pids(url: str) -> list[int]:
    """The local PostgreSQL backends serving the benchmark database (none when the server is remote)."""
    rows = sql(url, "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")
    pids = []
    for (pid,) in rows:
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip().startswith("postgres"):
                pids.append(pid)
        except OSError:
            pass
    return pids


class CpuMeter:
    """CPU used by the server's workers and by the database backends between start() and stop()."""

    def __init__(self, server: Server, url: str) -> None:
        self.server, self.url = server, url

    def _sample(self) -> tuple[dict[int, float], dict[int, float]]:
        app = {pid: proc_cpu_s(pid) for pid in self.server.worker_pids()}
        dbs = {pid: proc_cpu_s(pid) for pid in db_backend_pids(self.url)}
        return ({k: v for k, v in app.items() if v is not None}, {k: v for k, v in dbs.items() if v is not None})

    def start(self) -> None:
        self.before = self._sample()

    def stop(self) -> tuple[float | None, float | None]:
        after = self._sample()
        out = []
        for before, now in zip(self.before, after, strict=True):
            out.append(sum(v - before.get(pid, 0.0) for pid, v in now.items()) if now else None)
        return out[0], out[1]


# -- client ----------------------------------------------------------------------------

@dataclass
class Run:
    """One scenario against one server: every attempt's status, error code and latency."""

    label: str
    statuses: list[int]
    codes: list[str]
    latencies_ms: list[float]
    wall_s: float
    app_cpu_s: float | None = None
    db_cpu_s: float | None = None
    rounds: list[Run] = field(default_factory=list)

    @classmethod
    def merged(cls, label: str, runs: list[Run]) -> Run:
        def total(attr: str) -> float | None:
            values = [getattr(r, attr) for r in runs]
            return None if any(v is None for v in values) else sum(values)
        return cls(label, [s for r in runs for s in r.statuses], [c for r in runs for c in r.codes],
                   [x for r in runs for x in r.latencies_ms], sum(r.wall_s for r in runs),
                   total("app_cpu_s"), total("db_cpu_s"), list(runs))

    @property
    def n(self) -> int:
        return len(self.statuses)

    @property
    def ok(self) -> int:
        return sum(s == 201 for s in self.statuses)

    @property
    def server_errors(self) -> int:
        return sum(s >= 500 for s in self.statuses)

    @property
    def transport_errors(self) -> int:
        return sum(s == 0 for s in self.statuses)

    @property
    def rejections(self) -> Counter:
        return Counter(f"{s} {c}" for s, c in zip(self.statuses, self.codes, strict=True) if 400 <= s < 500)

    @property
    def rps(self) -> float:
        return self.n / self.wall_s if self.wall_s else 0.0

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]

    def cpu_ms(self, which: str) -> str:
        value = self.app_cpu_s if which == "app" else self.db_cpu_s
        return "-" if value is None else f"{value / self.n * 1000:.2f}"

    def summary(self) -> str:
        rejected = ", ".join(f"{k}: {v}" for k, v in sorted(self.rejections.items())) or "none"
        return (f"{self.n} attempts in {self.wall_s:.2f} s = {self.rps:,.0f} req/s; 201: {self.ok}; "
                f"rejected: {rejected}; 5xx: {self.server_errors}; transport errors: {self.transport_errors}; "
                f"p50 {self.pct(50):.1f} ms, p99 {self.pct(99):.1f} ms, max {max(self.latencies_ms):.1f} ms; "
                f"CPU per request: app {self.cpu_ms('app')} ms, db {self.cpu_ms('db')} ms")


def fire(port: int, path: str, jobs: list[tuple[str, int]], threads: int, label: str,
         meter: CpuMeter | None = None) -> Run:
    """POST every (token, slot_id) once, from ``threads`` threads released together.

    Each thread keeps its own connection (HTTP/1.1 keep-alive when the server allows it;
    gunicorn's sync workers close after every response, and http.client reconnects).
    Latency runs from sending the request to having read the whole response, so time
    spent queued in the server's accept backlog counts.
    """
    n = len(jobs)
    bodies = [(json.dumps({"slot_id": slot, "party_size": 1}).encode(),
               {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}) for token, slot in jobs]
    results: list[tuple[int, bytes, float, float] | None] = [None] * n
    counter = itertools.count()
    start: list[float] = []
    barrier = threading.Barrier(threads, action=lambda: start.append(time.perf_counter()))

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            conn.connect()
        except OSError:
            pass  # request() reconnects
        barrier.wait()
        while (i := next(counter)) < n:
            body, headers = bodies[i]
            t0 = time.perf_counter()
            try:
                conn.request("POST", path, body, headers)
                response = conn.getresponse()
                data = response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                status, data = 0, repr(exc).encode()
            results[i] = (status, data, t0, time.perf_counter())
        conn.close()

    pool = [threading.Thread(target=worker, name=f"client-{k}", daemon=True) for k in range(threads)]
    if meter:
        meter.start()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    app_cpu, db_cpu = meter.stop() if meter else (None, None)
    done = [r for r in results if r is not None]
    if len(done) != n:
        raise BenchError(f"{label}: only {len(done)} of {n} requests completed")
    statuses, codes = [], []
    for status, data, _, _ in done:
        statuses.append(status)
        code = ""
        if status != 201:
            try:
                code = json.loads(data)["error"]["code"]
            except (ValueError, KeyError, TypeError):
                code = data[:60].decode(errors="replace") if status == 0 else "?"
        codes.append(code)
    wall = max(r[3] for r in done) - start[0]
    return Run(label, statuses, codes, [(r[3] - r[2]) * 1000 for r in done], wall, app_cpu, db_cpu)


# -- database checks -------------------------------------------------------------------------

SLOT_CHECK_SQL = """
SELECT count(*) FILTER (WHERE active > capacity), count(*) FILTER (WHERE seats_taken <> active),
       coalesce(sum(active), 0), coalesce(sum(seats_taken), 0)
FROM (SELECT s.id, s.capacity, s.seats_taken,
             coalesce(sum(b.party_size) FILTER (WHERE b.status = ANY(%(active)s)), 0) AS active
      FROM slots s LEFT JOIN bookings b ON b.slot_id = s.id
      WHERE %(every)s OR s.id = ANY(%(ids)s)
      GROUP BY s.id) AS per_slot
"""


def slot_check(url: str, slot_ids: list[int] | None) -> dict[str, int]:
    """Overbooked slots (active parties above capacity) and counters that differ from the bookings.

    ``slot_ids`` None checks every slot.
    """
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        row = conn.execute(SLOT_CHECK_SQL, {"active": list(ACTIVE), "every": slot_ids is None,
                                            "ids": slot_ids or []}).fetchone()
    overbooked, mismatched, active, seats = row
    return {"overbooked": overbooked, "mismatched": mismatched, "active": active, "seats": seats}


# -- servers ---------------------------------------------------------------------------------

SERVER_NAMES = ("onsite", "baseline")
PATHS = {"onsite": "/api/v1/bookings", "baseline": "/bookings"}


def onsite_server(url: str, fixture: Fixture, workers: int) -> Server:
    env = app_env(url, LOG_LEVEL="WARNING", SEARCH_LOG_FLUSH_SECONDS="1", GRID_REFRESH_SECONDS="3600")
    return register(Server("onsite", "wsgi:app", env, f"/api/v1/offerings/{fixture.burst_offering}/slots",
                           workers=workers))


def baseline_server(url: str, workers: int) -> Server:
    env = app_env(url, BASELINE_DATABASE_URL=url)
    return register(Server("baseline", "baseline_booking_app:app", env, "/health", chdir=BENCH_DIR, workers=workers))


def measure(url: str, fixture: Fixture, args: argparse.Namespace) -> dict[str, dict]:
    """Both servers up; one under load at a time, alternating which goes first every round."""
    servers = {"baseline": baseline_server(url, args.workers), "onsite": onsite_server(url, fixture, args.workers)}
    for server in servers.values():
        server.start()
        log(f"{server.name}: gunicorn {args.workers} sync workers on 127.0.0.1:{server.port}")
    tokens = fixture.tokens
    runs: dict[str, dict[str, list[Run]]] = {name: {"warmup": [], "burst": [], "distinct": []} for name in servers}
    for name, server in servers.items():
        jobs = list(zip(tokens[-args.warmup:], fixture.warmup_slots[name], strict=True))
        run = fire(server.port, PATHS[name], jobs, args.threads, f"{name} warm-up")
        runs[name]["warmup"].append(run)
        log(f"{name} warm-up: {run.summary()}")
    for r in range(args.rounds):
        order = ("baseline", "onsite") if r % 2 == 0 else ("onsite", "baseline")
        for scenario in ("burst", "distinct"):
            for name in order:
                server = servers[name]
                if scenario == "burst":
                    jobs = [(token, fixture.burst_slots[name][r]) for token in tokens[:args.residents]]
                else:
                    jobs = list(zip(tokens[:args.slots], fixture.distinct_slots[name][r], strict=True))
                # Fresh statistics, as autovacuum keeps them on a live system: the tables were analyzed empty,
                # and a plan made for an empty bookings table scans it whole (each round adds thousands of rows).
                sql(url, "ANALYZE", "CHECKPOINT")
                run = fire(server.port, PATHS[name], jobs, args.threads, f"{name} {scenario} round {r + 1}",
                           CpuMeter(server, url))
                runs[name][scenario].append(run)
                title = "A burst on one slot" if scenario == "burst" else "B distinct slots"
                log(f"round {r + 1}/{args.rounds} {name} {title}: {run.summary()}")
    results: dict[str, dict] = {}
    for name, server in servers.items():
        server.stop()
        res: dict = {key: Run.merged(f"{name} {key}", value) for key, value in runs[name].items()}
        res["burst_db"] = [slot_check(url, [slot]) for slot in fixture.burst_slots[name]]
        res["distinct_db"] = slot_check(url, [s for chunk in fixture.distinct_slots[name] for s in chunk])
        res["db"] = slot_check(url, [*fixture.burst_slots[name], *fixture.warmup_slots[name],
                                     *(s for chunk in fixture.distinct_slots[name] for s in chunk)])
        res["log"] = server.log_tail(20)
        burst_db = ", ".join(f"{d['seats']}/{d['active']}" for d in res["burst_db"])
        log(f"{name} database: burst slots seats_taken/active bookings {burst_db}; distinct slots seats_taken "
            f"{res['distinct_db']['seats']}, active bookings {res['distinct_db']['active']}; "
            f"overbooked slots: {res['db']['overbooked']}; counters != bookings: {res['db']['mismatched']}")
        results[name] = res
    return results


# -- report ----------------------------------------------------------------------------------

def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(results: dict[str, dict], fixture: Fixture, args: argparse.Namespace, context: dict) -> list:
    print()
    print("=" * 132)
    print(f"Booking burst benchmark (Double 11) — {context['when']} — commit {context['commit']}")
    print(f"machine: {context['machine']}; load average before the run {context['load']}; "
          f"database {context['db']}")
    print(f"data: {fixture.counts['offerings']} experiences, {fixture.counts['slots']:,} slots, "
          f"{fixture.counts['residents']:,} residents with bearer tokens (setup {fixture.setup_s:.1f} s)")
    print(f"servers: gunicorn {args.workers} sync workers each, both up, one under load at a time; client: "
          f"{args.threads} threads (stdlib http.client) released by a Barrier; {args.warmup} warm-up bookings each; "
          f"{args.rounds} round(s), alternating which server goes first")
    print("figures: all rounds pooled (req/s = attempts / summed wall time); CPU = user+system of the 2 gunicorn "
          "workers and of the PostgreSQL backends, per request")
    print("=" * 132)
    header = (f"{'server':<9}{'scenario':<24}{'tries':>6}{'201':>6}{'409 full':>9}{'other 4xx':>10}{'5xx':>5}"
              f"{'conn err':>9}{'req/s':>8}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}"
              f"{'app CPU':>9}{'db CPU':>8}")
    print(header)
    print("-" * len(header))
    for name in SERVER_NAMES:
        for key, title in (("burst", f"A: 1 slot, capacity {args.capacity}"),
                           ("distinct", f"B: {args.slots:,} distinct slots")):
            r: Run = results[name][key]
            full = r.rejections.get("409 slot_full", 0)
            other = sum(r.rejections.values()) - full
            print(f"{name:<9}{title:<24}{r.n:>6}{r.ok:>6}{full:>9}{other:>10}{r.server_errors:>5}"
                  f"{r.transport_errors:>9}{r.rps:>8,.0f}{r.pct(50):>9.1f}{r.pct(90):>9.1f}{r.pct(99):>9.1f}"
                  f"{max(r.latencies_ms):>9.1f}{r.cpu_ms('app'):>9}{r.cpu_ms('db'):>8}")
    print("-" * len(header))
    print("(app CPU / db CPU: milliseconds of CPU per request in the gunicorn workers / PostgreSQL backends)")
    for name in SERVER_NAMES:
        res = results[name]
        per_round = "; ".join(f"A {a.rps:,.0f} req/s p99 {a.pct(99):,.0f} ms, B {b.rps:,.0f} req/s"
                              for a, b in zip(res["burst"].rounds, res["distinct"].rounds, strict=True))
        print(f"{name} per round: {per_round}")
        for key in ("burst", "distinct"):
            rej = res[key].rejections
            if rej:
                print(f"{name} {key} rejections by code: " + ", ".join(f"{k} x{v}" for k, v in sorted(rej.items())))
        burst_db = ", ".join(f"{d['seats']}/{d['active']}" for d in res["burst_db"])
        print(f"{name}: burst slots seats_taken/active bookings {burst_db} (capacity {args.capacity}); distinct "
              f"slots: {res['distinct_db']['active']} active bookings on {args.slots * args.rounds:,} slots; "
              f"overbooked slots: {res['db']['overbooked']}; counters != active bookings: {res['db']['mismatched']}")
    whole = context["all_slots"]
    print(f"all {fixture.counts['slots']:,} slots after both servers: overbooked slots: {whole['overbooked']}; "
          f"counters != active bookings: {whole['mismatched']}")
    onsite, base = results["onsite"], results["baseline"]
    ratio = onsite["distinct"].rps / base["distinct"].rps
    burst_ratio = onsite["burst"].rps / base["burst"].rps
    print(f"Onsite/baseline throughput: distinct slots {ratio:.2f}x ({onsite['distinct'].rps:,.0f} vs "
          f"{base['distinct'].rps:,.0f} req/s); burst {burst_ratio:.2f}x ({onsite['burst'].rps:,.0f} vs "
          f"{base['burst'].rps:,.0f} req/s)")
    print(f"p99 under the burst: Onsite {onsite['burst'].pct(99):.1f} ms, baseline {base['burst'].pct(99):.1f} ms")
    for name in SERVER_NAMES:
        if results[name]["log"].strip():
            print(f"{name} gunicorn log (last lines):\n{results[name]['log']}")

    fives = sum(onsite[k].server_errors for k in ("warmup", "burst", "distinct"))
    conn_errors = sum(onsite[k].transport_errors for k in ("warmup", "burst", "distinct"))
    p99 = onsite["burst"].pct(99)
    successes = [r.ok for r in onsite["burst"].rounds]
    actives = [d["active"] for d in onsite["burst_db"]]
    checks = [
        (all(n == args.capacity for n in successes + actives), f"exactly {args.capacity} successes in the burst",
         f"201s per round: {', '.join(map(str, successes))}; active bookings per burst slot: "
         f"{', '.join(map(str, actives))}"),
        (fives == 0, "zero 5xx", f"{fives} (and {conn_errors} connection errors)"),
        (whole["overbooked"] == 0, "zero overbooked slots",
         f"overbooked slots: {whole['overbooked']}; counters != active bookings: {whole['mismatched']}"),
        (ratio >= TARGET_RATIO, f"distinct-slot throughput >= {TARGET_RATIO}x baseline",
         f"{ratio:.2f}x (margin {ratio - TARGET_RATIO:+.2f}x; {onsite['distinct'].rps:,.0f} vs {TARGET_RATIO} x "
         f"{base['distinct'].rps:,.0f} = {TARGET_RATIO * base['distinct'].rps:,.0f} req/s)"),
        (p99 <= TARGET_P99_MS, f"p99 <= {TARGET_P99_MS:.0f} ms under the burst ({args.threads} threads)",
         f"{p99:.1f} ms (margin {TARGET_P99_MS - p99:+.1f} ms)"),
    ]
    print()
    print('Targets (Bookings issue, \'Peak day ("Double 11") benchmark\'):')
    for ok, what, detail in checks:
        print(f"  {verdict(ok)}  {what:<48} {detail}")
    missed = sum(not ok for ok, _, _ in checks)
    print()
    print(f"{len(checks) - missed}/{len(checks)} targets met." + (" (A report: missed targets do not fail the run.)"
                                                                  if missed else ""))
    return checks


def write_json(path: str, results: dict, checks: list, context: dict) -> None:
    def run_dict(r: Run) -> dict:
        return {"n": r.n, "ok": r.ok, "rejections": dict(r.rejections), "5xx": r.server_errors,
                "transport_errors": r.transport_errors, "rps": r.rps, "wall_s": r.wall_s, "p50_ms": r.pct(50),
                "p90_ms": r.pct(90), "p99_ms": r.pct(99), "max_ms": max(r.latencies_ms),
                "app_cpu_s": r.app_cpu_s, "db_cpu_s": r.db_cpu_s,
                "rounds": [run_dict(x) for x in r.rounds]}
    data = {"context": context, "checks": [{"ok": ok, "target": what, "measured": detail}
                                            for ok, what, detail in checks]}
    for name, res in results.items():
        data[name] = {k: (run_dict(v) if isinstance(v, Run) else v) for k, v in res.items() if k != "log"}
    with open(path, "w") as fh:
        json.dump(data, fh, indent=2, default=str)
    print(f"figures written to {path}")


# -- main ------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--residents", type=int, default=2000, help="burst attempts, one per resident (2,000)")
    parser.add_argument("--capacity", type=int, default=50, help="capacity of the burst slot (50)")
    parser.add_argument("--slots", type=int, default=1000, help="distinct slots booked in scenario B (1,000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of A and B per server, pooled (3)")
    parser.add_argument("--threads", type=int, default=64, help="client threads, one connection each (64)")
    parser.add_argument("--warmup", type=int, default=100, help="warm-up bookings per server (100)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server (2)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    args = parser.parse_args(argv)
    if not 1 <= args.capacity <= 1000 or args.residents <= args.capacity:
        parser.error("need 1 <= --capacity <= 1000 and --residents > --capacity")
    if not 1 <= args.slots <= args.residents or not 1 <= args.warmup <= args.residents or args.threads < 1:
        parser.error("need 1 <= --slots, --warmup <= --residents and --threads >= 1")
    if not 1 <= args.rounds <= 20:
        parser.error("need 1 <= --rounds <= 20")
    return args


def run(args: argparse.Namespace) -> None:
    url = bench_database_url(DATABASE_NAME)
    log(f"database {masked(url)}")
    flask(url, "db", "upgrade")
    empty_database(url)
    fixture = prepare(url, args)
    context = {"when": time.strftime("%Y-%m-%d %H:%M"), "commit": git_commit(), "machine": machine_line(url),
               "db": masked(url), "load": " ".join(f"{x:.2f}" for x in os.getloadavg())}
    results = measure(url, fixture, args)
    context["all_slots"] = slot_check(url, None)
    checks = report(results, fixture, args, context)
    if args.json:
        write_json(args.json, results, checks, context)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sigterm_as_interrupt()
    try:
        run(args)
    except KeyboardInterrupt:
        print("\nbench: interrupted; stopping the servers", file=sys.stderr)
        return 130
    except (BenchError, subprocess.CalledProcessError) as exc:
        print(f"bench: could not measure: {exc}", file=sys.stderr)
        return 2
    finally:
        stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
