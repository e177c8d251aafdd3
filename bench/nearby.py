#!/usr/bin/env python3
"""Benchmark nearby search and the city map: Onsite against a hand-written baseline.

A report, not a test: it prints figures and PASS/MISS per target, and exits 0 whether
or not a target is met (non-zero only when it could not measure at all).

    make bench-nearby                                  # 10,000 and 1,000,000 offerings
    .venv/bin/python bench/nearby.py --sizes "10000 200000" --duration 15

What it does, in one run (see bench/README.md):
  1. for each size of --sizes (BENCH_SIZES), its own database onsite_bench_<size> (from scripts/devdb.sh, or
     BENCH_DATABASE_URL): migrate; unless it already holds exactly that generated size, empty it and load the
     synthetic experiences with ``flask demo generate``;
  2. serve baseline_app.py and Onsite (gunicorn, 2 workers each, search log on) and drive them in turn with wrk
     on loopback (16 connections, 2 threads, a random point in the demo city's 30 km box for every request, 3 s
     warm-up), variant by variant, the baseline's run and then Onsite's: the default order and sort=distance,
     without and with a category, and the explore page; at the largest size also in-view with the whole city
     in view;
  3. at the largest size, again on a copy of its data where experiences have reviews and merchants integrity
     scores (onsite_bench_<size>_rated): the default order, without and with a category. The generated data
     has neither, which is "Best match"'s best case (see RATED_SQL);
  4. print the table: each row with its baseline, ratio, target and PASS/MISS.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _common import (
    BENCH_DIR,
    ROOT,
    BenchError,
    Server,
    app_env,
    bench_database_url,
    flask,
    git_commit,
    http_get,
    log,
    masked,
    register,
    sigterm_as_interrupt,
    sql,
    stop_all,
)
from sqlalchemy.engine import make_url

sys.path.insert(0, str(ROOT))

from app.demo import BULK_HALF_SIDE_M, HANGZHOU, METRES_PER_DEGREE  # noqa: E402

# The demo city's 30 km box (the same box ``flask demo generate`` fills).
_DLAT = BULK_HALF_SIDE_M / METRES_PER_DEGREE
_DLNG = BULK_HALF_SIDE_M / (METRES_PER_DEGREE * math.cos(math.radians(HANGZHOU.lat)))
CITY_BOX = (HANGZHOU.lng - _DLNG, HANGZHOU.lat - _DLAT, HANGZHOU.lng + _DLNG, HANGZHOU.lat + _DLAT)
# One nearby search per row of the issue's table: the default order ("Best match") and nearest first, each
# without and with a category filter. The baseline route takes the same arguments and runs the same query.
CATEGORY = "food_tasting"
VARIANTS = {  # name: query string after lat/lng
    "default": "",
    "default + category": f"&category={CATEGORY}",
    "sort=distance": "&sort=distance",
    "sort=distance + category": f"&sort=distance&category={CATEGORY}",
}
# The orders whose results ratings and integrity scores move, measured again on rated data.
RATED_VARIANTS = ("default", "default + category")
# Rated data, derived from the ids (so every run rates alike): 2 experiences in 5 reviewed (1-37 reviews, a
# Bayesian score of 3.8-4.8), 6 merchants in 10 with an integrity score (60-100). Generated data has neither, so
# "Best match"'s ceiling of what they add is freshness alone (0.3) and it looks only a few hundred metres out;
# here the ceiling is 1.2, more than proximity varies within 3 km, and every row in the radius can rank.
RATED_SQL = (
    "UPDATE offerings SET rating_count = 1 + id % 37,"
    " rating_avg = round(3.5 + 1.5 * ((id::bigint * 7919) % 1000) / 1000.0, 2),"
    " rating_score = round(3.8 + ((id::bigint * 7919) % 1000) / 1000.0, 2) WHERE id % 5 < 2",
    "INSERT INTO business_integrity (business_id, score, visits, parts, counts, computed_at)"
    " SELECT id, 60 + (id::bigint * 31) % 41, 50, '[]', '{}', now() FROM businesses WHERE id % 10 < 6"
    " ON CONFLICT (business_id) DO UPDATE SET score = excluded.score",
)
NEARBY_PATH = "/api/v1/offerings/nearby?lat=%.6f&lng=%.6f"
BASELINE_PATH = "/nearby?lat=%.6f&lng=%.6f"
EXPLORE_PATH = "/explore?lat=%.6f&lng=%.6f"  # Onsite and baseline alike: the page with 50 results
IN_VIEW_PATH = "/api/v1/offerings/in-view?min_lng=119.98&min_lat=30.11&max_lng=120.34&max_lat=30.39&zoom=11"
# Readiness probe: a point far from any data (an empty answer, through app and database).
PROBE_POINT = (0.0, 0.0)
# While measuring, the bench database cancels statements after this long and notices clients
# that went away (a gunicorn worker killed on timeout), so one pathological plan shows up as
# errors in the figures instead of piling up queries that slow every later run.
STATEMENT_TIMEOUT = "30s"
WRK_TIMEOUT = "30s"  # wrk counts a request that takes longer as a timeout
WRK_THREADS = 2
WARMUP_S = 3
LUA_SEED = 20261122

# Targets of the performance issue (its table: the minimum; the goal in the note).
TARGET_RATIO = 0.7
TARGET_P99_MS = 40.0
TARGET_SCALE = 1.5
TARGET_IN_VIEW_P50_MS = 100.0
TARGET_FEATURES = 500
TARGET_EXPLORE_RATIO = 0.5

RESULT_RE = re.compile(r"^BENCH_RESULT (.*)$", re.MULTILINE)

LUA_TEMPLATE = """
-- Generated by bench/nearby.py. Random point in the city box per request (or a fixed path).
local path_fmt = "%(path_fmt)s"
local fixed = %(fixed)s
local min_lng, min_lat, max_lng, max_lat = %(min_lng)r, %(min_lat)r, %(max_lng)r, %(max_lat)r
local seed = %(seed)d
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

function init(args)
  math.randomseed(seed + 7919 * (tid or 0))
end

function request()
  if fixed then
    return wrk.format("GET", path_fmt)
  end
  local lat = min_lat + math.random() * (max_lat - min_lat)
  local lng = min_lng + math.random() * (max_lng - min_lng)
  return wrk.format("GET", string.format(path_fmt, lat, lng))
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "BENCH_RESULT requests=%%d duration_us=%%d bytes=%%d rps=%%.2f p50_us=%%d p90_us=%%d p99_us=%%d " ..
    "max_us=%%d mean_us=%%.1f connect=%%d read=%%d write=%%d timeout=%%d status=%%d\\n",
    summary.requests, summary.duration, summary.bytes, summary.requests / (summary.duration / 1e6),
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    e.connect, e.read, e.write, e.timeout, e.status))
end
"""


@dataclass
class WrkResult:
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    errors: dict[str, int]
    load1: float = 0.0  # the machine's 1-minute load average before the warm-up (this bench included)
    connections: int = 0

    @property
    def errors_free(self) -> bool:
        return bool(self.requests) and not self.non_2xx and not self.socket_errors

    @property
    def non_2xx(self) -> int:
        return self.errors["status"]

    @property
    def socket_errors(self) -> int:
        return sum(v for k, v in self.errors.items() if k != "status")


# -- database ---------------------------------------------------------------------

def empty_database(url: str) -> None:
    # Everything generated data hangs off (stores, offerings, hours, ...) goes with CASCADE;
    # the only account left afterwards is the bulk owner that ``demo generate`` creates.
    log("emptying users/businesses/stores/offerings/search_logs")
    sql(url, "TRUNCATE users, businesses, stores, offerings, search_logs RESTART IDENTITY CASCADE",
        "REFRESH MATERIALIZED VIEW offering_grid")


def load(url: str, count: int) -> float:
    started = time.perf_counter()
    flask(url, "demo", "generate", "--offerings", str(count), "--seed", "1")
    # Settle the tables now, so autovacuum does not wake up on them in the middle of a run.
    sql(url, "VACUUM (ANALYZE) businesses, stores, opening_hours, offerings", "CHECKPOINT")
    return time.perf_counter() - started


def guard_database(url: str, on: bool) -> None:
    """Turn the measuring-time statement timeout on the bench database on or off (new sessions)."""
    name = sql(url, "SELECT current_database()")[0][0]
    if on:
        sql(url, f"ALTER DATABASE \"{name}\" SET statement_timeout = '{STATEMENT_TIMEOUT}'",
            f"ALTER DATABASE \"{name}\" SET client_connection_check_interval = '1s'")
    else:
        sql(url, f"ALTER DATABASE \"{name}\" RESET statement_timeout",
            f"ALTER DATABASE \"{name}\" RESET client_connection_check_interval")


def wait_db_idle(url: str, limit_s: float = 30) -> None:
    """Wait until no other session runs a statement on the bench database (leftovers of a run)."""
    deadline = time.monotonic() + limit_s
    while True:
        busy = sql(url, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND state = 'active' AND pid <> pg_backend_pid()")[0][0]
        if not busy:
            return
        if time.monotonic() > deadline:
            log(f"warning: {busy} statements still running on the bench database; measuring anyway")
            return
        time.sleep(0.5)


def offering_count(url: str) -> int:
    return sql(url, "SELECT count(*) FROM offerings")[0][0]


# -- servers -----------------------------------------------------------------------

class NearbyServer(Server):
    """_common's Server with a gunicorn --timeout above STATEMENT_TIMEOUT, drain(), and its log deleted on stop()."""

    def __init__(self, name: str, app: str, env: dict[str, str], probe: str, chdir: Path = ROOT,
                 workers: int | None = None) -> None:
        # --timeout longer than STATEMENT_TIMEOUT: a slow query answers 500, not a killed worker
        super().__init__(name, app, env, probe, chdir=chdir, workers=workers, extra_args=("--timeout", "60"))

    def drain(self, limit_s: float = 120) -> None:
        """Wait until the workers have answered what a previous wrk run left queued (slow endpoints)."""
        deadline = time.monotonic() + limit_s
        for _ in range(self.workers):
            try:
                http_get(self.port, self.probe, timeout=max(1.0, deadline - time.monotonic()))
            except OSError:
                log(f"warning: {self.name} still busy {limit_s:.0f} s after the warm-up; measuring anyway")
                return
        wait_db_idle(self.env["DATABASE_URL"], limit_s=max(1.0, deadline - time.monotonic()))

    def stop(self) -> None:
        try:
            super().stop()
        finally:
            self.log_file.close()
            Path(self.log_file.name).unlink(missing_ok=True)  # any error message already quoted its tail


def onsite_server(url: str) -> NearbyServer:
    env = app_env(url, LOG_LEVEL="WARNING", SEARCH_LOG_FLUSH_SECONDS="1", GRID_REFRESH_SECONDS="3600")
    return register(NearbyServer("onsite", "wsgi:app", env, NEARBY_PATH % PROBE_POINT))


def baseline_server(url: str) -> NearbyServer:
    env = app_env(url, BASELINE_DATABASE_URL=url)
    return register(NearbyServer("baseline", "baseline_app:app", env, BASELINE_PATH % PROBE_POINT,
                                 chdir=BENCH_DIR))


# -- wrk ---------------------------------------------------------------------------

def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        log("wrk not found; installing it with apt-get")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "-o", "DPkg::Lock::Timeout=600", "update"], env=env, check=False)
        subprocess.run(["apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "wrk"], env=env, check=False)
        found = shutil.which("wrk")
        if found:
            return found
    print("bench: wrk (the HTTP load generator) is required. Install it:\n"
          "    sudo apt-get install -y wrk        (Debian/Ubuntu)\n"
          "    brew install wrk                   (macOS)", file=sys.stderr)
    sys.exit(1)


def lua_script(directory: Path, name: str, path_fmt: str, fixed: bool) -> Path:
    min_lng, min_lat, max_lng, max_lat = CITY_BOX
    script = directory / f"{name}.lua"
    script.write_text(LUA_TEMPLATE % {
        "path_fmt": path_fmt, "fixed": "true" if fixed else "false", "min_lng": min_lng, "min_lat": min_lat,
        "max_lng": max_lng, "max_lat": max_lat, "seed": LUA_SEED})
    return script


def run_wrk(wrk: str, port: int, script: Path, seconds: int, connections: int) -> WrkResult:
    cmd = [wrk, f"-t{min(WRK_THREADS, connections)}", f"-c{connections}", f"-d{seconds}s", "--timeout", WRK_TIMEOUT,
           "--latency", "-s", str(script), f"http://127.0.0.1:{port}"]
    done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    match = RESULT_RE.search(done.stdout)
    if done.returncode != 0 or not match:
        raise BenchError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    values = dict(item.split("=") for item in match.group(1).split())
    requests = int(values["requests"])

    def ms(key: str) -> float:  # no completed request: no latency to speak of (NaN fails every target)
        return int(values[key]) / 1000 if requests else math.nan

    return WrkResult(
        requests=requests, rps=float(values["rps"]), p50_ms=ms("p50_us"), p90_ms=ms("p90_us"),
        p99_ms=ms("p99_us"), max_ms=ms("max_us"),
        errors={k: int(values[k]) for k in ("connect", "read", "write", "timeout", "status")})


def measure(wrk: str, server: NearbyServer, script: Path, label: str, args: argparse.Namespace,
            connections: int | None = None) -> WrkResult:
    connections = connections or args.connections
    log(f"{label}: warm-up {WARMUP_S} s, then {args.duration} s at {connections} connections")
    load1 = os.getloadavg()[0]
    run_wrk(wrk, server.port, script, WARMUP_S, connections)
    server.drain()
    result = run_wrk(wrk, server.port, script, args.duration, connections)
    result.load1, result.connections = load1, connections
    if not result.requests:
        log(f"{label}: NO request completed in {args.duration} s (each took longer than the run)")
    log(f"{label}: {result.rps:,.0f} req/s, p50 {result.p50_ms:.2f} ms, p99 {result.p99_ms:.2f} ms, "
        f"non-2xx {result.non_2xx}, socket errors {result.socket_errors} (load average before: {load1:.1f})")
    return result


def sample_answers(server: NearbyServer, path_fmt: str, points: int = 5) -> list[list] | str:
    """What a server returns for a few fixed points across the city (or what went wrong): the distances
    nearest first (ties may come in any order), the ids in order otherwise."""
    min_lng, min_lat, max_lng, max_lat = CITY_BOX
    answers = []
    for i in range(points):
        lat = min_lat + (max_lat - min_lat) * (i + 0.5) / points
        lng = min_lng + (max_lng - min_lng) * (points - i - 0.5) / points
        try:
            status, body = http_get(server.port, path_fmt % (lat, lng), timeout=60)
        except OSError as exc:
            return f"{server.name}: {exc.__class__.__name__} on {path_fmt % (lat, lng)}"
        if status != 200:
            return f"{server.name} answered {status} on {path_fmt % (lat, lng)}"
        items = json.loads(body)["items"]
        answers.append([round(item["distance_m"]) if "sort=distance" in path_fmt else item["id"] for item in items])
    return answers


def compare(expected: list[list] | str, got: list[list] | str) -> str:
    if isinstance(expected, str) or isinstance(got, str):
        return "not compared: " + (expected if isinstance(expected, str) else got)
    differ = sum(a != b for a, b in zip(expected, got, strict=True))
    items = sum(map(len, got))
    return (f"same answers at {len(got)} points, {items} items" if not differ
            else f"DIFFERENT answers at {differ}/{len(got)} points")


def measure_stage(wrk: str, url: str, scripts: dict[str, Path], args: argparse.Namespace, size: int,
                  with_in_view: bool, variants: tuple[str, ...] = tuple(VARIANTS), label: str = "",
                  with_explore: bool = True) -> dict:
    """Measure every variant on the baseline and then on Onsite, back to back (both servers up, one under load at
    a time): this machine's speed drifts over minutes, so a ratio compares two runs a few seconds apart, not
    every baseline run against every Onsite run a few minutes later."""
    stage: dict = {"offerings": size, "baseline": {}, "onsite": {}, "agree": {}}
    wait_db_idle(url)
    at = f"{size:,}{label}"
    with baseline_server(url) as baseline, onsite_server(url) as onsite:
        for name in variants:
            extra = VARIANTS[name]
            stage["agree"][name] = compare(sample_answers(baseline, BASELINE_PATH + extra),
                                           sample_answers(onsite, NEARBY_PATH + extra))
            log(f"{at} offerings, nearby {name}, Onsite vs baseline: {stage['agree'][name]}")
            wait_db_idle(url)
            stage["baseline"][name] = measure(wrk, baseline, scripts[f"baseline {name}"],
                                              f"baseline nearby {name} @ {at}", args)
            wait_db_idle(url)
            stage["onsite"][name] = measure(wrk, onsite, scripts[f"nearby {name}"],
                                            f"onsite nearby {name} @ {at}", args)
        if not with_explore:
            return stage
        wait_db_idle(url)
        stage["baseline"]["explore"] = measure(wrk, baseline, scripts["baseline explore"],
                                               f"baseline /explore @ {size:,}", args)
        wait_db_idle(url)
        stage["onsite"]["explore"] = measure(wrk, onsite, scripts["explore"], f"onsite /explore @ {size:,}", args)
        if with_in_view:
            status, body = http_get(onsite.port, IN_VIEW_PATH, timeout=90)
            if status != 200:
                raise BenchError(f"in-view answered {status}: {body[:500]!r}")
            view = json.loads(body)
            stage["in_view_shape"] = {"mode": view["mode"], "features": len(view["features"]),
                                      "clusters": len(view["clusters"]), "total": view["total"],
                                      "bytes": len(body)}
            log(f"in-view, whole city: mode {view['mode']}, {len(view['features'])} features, "
                f"{len(view['clusters'])} clusters, total {view['total']:,}, {len(body):,} bytes")
            wait_db_idle(url)
            stage["in_view"] = measure(wrk, onsite, scripts["in_view"], f"onsite in-view @ {size:,}", args)
    if with_in_view:
        # For information: one connection, so the latency is the service time without queueing. A fresh
        # server: the old workers may still be busy with requests wrk left queued when it stopped.
        wait_db_idle(url)
        with onsite_server(url) as onsite:
            stage["in_view_1"] = measure(wrk, onsite, scripts["in_view"], f"onsite in-view @ {size:,}, 1 conn",
                                         args, connections=1)
    return stage


# -- report ------------------------------------------------------------------------

def div(a: float, b: float) -> float:
    return a / b if b else float("inf")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


@dataclass
class Row:
    """One line of the table `make bench` prints: a path at a size, its figures, its target and verdict."""

    path: str
    size: str
    rps: float | None
    p50_ms: float | None
    p99_ms: float | None
    baseline_rps: float | None
    ratio: float | None
    target: str
    ok: bool


def table_rows(stages: list[dict]) -> list[Row]:
    small, large = stages[0], stages[-1]
    rows = []
    for stage in [*stages, *([large["rated"]] if "rated" in large else [])]:
        n = f"{stage['offerings']:,}" + (" rated" if stage is large.get("rated") else "")
        for name in [*stage["onsite"]]:
            o, b = stage["onsite"][name], stage["baseline"][name]
            ratio = div(o.rps, b.rps)
            path = "GET /explore (HTML, 50 results)" if name == "explore" else f"GET nearby, {name}"
            floor = TARGET_EXPLORE_RATIO if name == "explore" else TARGET_RATIO
            rows.append(Row(path, n, o.rps, o.p50_ms, o.p99_ms, b.rps, ratio, f">= {floor}x",
                            ratio >= floor and o.errors_free))
            if name != "explore":
                rows.append(Row(f"  p99 of the above, {o.connections} conns", n, None, None, o.p99_ms, None, None,
                                f"<= {TARGET_P99_MS:.0f} ms", o.p99_ms <= TARGET_P99_MS))
    if len(stages) > 1:
        for name in VARIANTS:
            growth = div(large["onsite"][name].p50_ms, small["onsite"][name].p50_ms)
            rows.append(Row(f"nearby p50 growth, {name}", f"{small['offerings'] // 1000:,}k->"
                            f"{large['offerings'] // 1000:,}k", None, None, None, None, growth,
                            f"<= {TARGET_SCALE}x", growth <= TARGET_SCALE))
    if "in_view" in large:
        view, shape = large["in_view"], large["in_view_shape"]
        items = shape["features"] + shape["clusters"]
        rows.append(Row(f"GET in-view, whole city ({items} items)", f"{large['offerings']:,}", view.rps,
                        view.p50_ms, view.p99_ms, None, None,
                        f"p50 <= {TARGET_IN_VIEW_P50_MS:.0f} ms, <= {TARGET_FEATURES} items",
                        view.p50_ms <= TARGET_IN_VIEW_P50_MS and items <= TARGET_FEATURES and view.errors_free))
    return rows


def print_table(rows: list[Row], title: str) -> None:
    def num(value: float | None, fmt: str) -> str:
        return "" if value is None else ("n/a" if math.isnan(value) else format(value, fmt))

    header = (f"{'path':<46}{'size':>14}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'baseline':>10}{'ratio':>8}  "
              f"{'target':<36}{'':>5}")
    print(title)
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r.path:<46}{r.size:>14}{num(r.rps, ',.0f'):>9}{num(r.p50_ms, '.1f'):>9}{num(r.p99_ms, '.1f'):>9}"
              f"{num(r.baseline_rps, ',.0f'):>10}{num(r.ratio, '.2f'):>8}  {r.target:<36}{verdict(r.ok):>5}")
    print("-" * len(header))
    met = sum(r.ok for r in rows)
    print(f"{met}/{len(rows)} targets met." + (" (A report: missed targets do not fail the run.)"
                                              if met < len(rows) else ""))


def report(stages: list[dict], args: argparse.Namespace, context: dict) -> list[Row]:
    print()
    print("=" * 100)
    print(f"Nearby benchmark — {context['when']} — commit {context['commit']}")
    print(f"machine: {context['cpus']} CPUs, {context['python']}, PostgreSQL {context['pg']}, {context['wrk']}")
    print(f"gunicorn: {context['gunicorn']}; wrk -t{WRK_THREADS} -c{args.connections} -d{args.duration}s "
          f"(+{WARMUP_S} s warm-up), random points in the city box {tuple(round(v, 4) for v in CITY_BOX)}; "
          f"statement_timeout {STATEMENT_TIMEOUT} while measuring")
    loads = [f"{st['offerings']:,} offerings in {st['database']} ("
             + ("reused" if st["reused"] else f"loaded in {st['load_s']:.0f} s") + ")" for st in stages]
    print("data: " + "; ".join(loads))
    print("=" * 100)
    for stage in stages:
        for name, agree in stage["agree"].items():
            print(f"  {stage['offerings']:>9,} offerings, nearby {name}: Onsite vs baseline: {agree}")
    print()
    rows = table_rows(stages)
    print_table(rows, "Nearby search, explore page and map (baseline: bench/baseline_app.py, same query)")
    if args.json:
        data = {"context": context, "rows": [r.__dict__ for r in rows],
                "stages": [{k: v for k, v in st.items() if k not in ("onsite", "baseline", "rated")}
                           | {side: {name: r.__dict__ for name, r in st[side].items()}
                              for side in ("onsite", "baseline")}
                           | ({"in_view": st["in_view"].__dict__, "in_view_1": st["in_view_1"].__dict__}
                              if "in_view" in st else {})
                           for st in stages]}
        Path(args.json).write_text(json.dumps(data, indent=2, default=lambda v: None))
        print(f"figures written to {args.json}")
    return rows


def machine_context(url: str, wrk: str) -> dict:
    wrk_version = subprocess.run([wrk, "-v"], capture_output=True, text=True, check=False)
    wrk_line = (wrk_version.stdout + wrk_version.stderr).splitlines()[0].split(" Copyright")[0]
    return {
        "when": time.strftime("%Y-%m-%d %H:%M"), "commit": git_commit(),
        "cpus": os.cpu_count(), "python": f"Python {platform.python_version()}",
        "pg": sql(url, "SHOW server_version")[0][0], "wrk": wrk_line,
        "gunicorn": f"{os.environ.get('BENCH_WORKER_CLASS', 'sync')} worker class, "
                    f"{os.environ.get('BENCH_WORKERS', '2')} workers x "
                    f"{os.environ.get('BENCH_THREADS', '1')} thread(s), Onsite and baseline alike",
    }


# -- main ---------------------------------------------------------------------------

def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default=os.environ.get("BENCH_SIZES", "10000 1000000"),
                        help="offerings at each stage, smallest first (default: $BENCH_SIZES or '10000 1000000')")
    parser.add_argument("--fresh", action="store_true", help="generate every stage's data again (default: reuse a "
                        "stage database that holds exactly its size from an earlier run)")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured wrk run (default 10)")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections (default 16)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON to PATH")
    parser.add_argument("--no-rated", action="store_true", help="skip the largest size's second pass on rated data")
    args = parser.parse_args(argv)
    try:
        args.sizes = [int(size.replace(",", "").replace("_", "")) for size in args.sizes.split()]
    except ValueError:
        parser.error("--sizes: whole numbers separated by spaces, e.g. '10000 1000000'")
    if not args.sizes or args.sizes != sorted(set(args.sizes)) or args.sizes[0] < 1:
        parser.error("--sizes: at least one size, increasing, each >= 1")
    if args.duration < 1 or args.connections < WRK_THREADS:
        parser.error(f"need --duration >= 1 and --connections >= {WRK_THREADS}")
    return args


def prepare_stage(size: int, fresh: bool) -> tuple[str, bool, float]:
    """The stage's own database holding ``size`` generated offerings: its URL, whether it was reused, load time.

    The data of a size is generated once (seed 1) and marked with a comment on the database; later runs reuse it
    (1M offerings take minutes to generate) unless the code's migrations or --fresh say otherwise.
    """
    override = os.environ.get("BENCH_DATABASE_URL")
    url = override or bench_database_url(f"onsite_bench_{size}")
    flask(url, "db", "upgrade")
    guard_database(url, on=False)  # in case an interrupted run left it on
    marker = f"onsite bench: {size} offerings, seed 1"
    name = sql(url, "SELECT current_database()")[0][0]
    noted = sql(url, "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()")
    if not override and noted[0][0] == marker and offering_count(url) == size and not fresh:
        log(f"{size:,} offerings: reusing {masked(url)}")
        sql(url, "TRUNCATE search_logs")
        return url, True, 0.0
    sql(url, f"COMMENT ON DATABASE \"{name}\" IS NULL")
    empty_database(url)
    load_s = load(url, size)
    if offering_count(url) != size:
        raise BenchError(f"flask demo generate made {offering_count(url):,} offerings, not {size:,}")
    sql(url, f"COMMENT ON DATABASE \"{name}\" IS '{marker}'")
    log(f"{size:,} offerings loaded in {load_s:.0f} s")
    return url, False, load_s


def prepare_rated(url: str, size: int, fresh: bool) -> tuple[str, bool]:
    """A copy of the stage's database with RATED_SQL applied, on the same server (kept, like the stages', for the
    next run): its URL and whether it was reused. BENCH_RATED_DATABASE_URL names another database to use; it is
    dropped and made again, so never point it at one you care about."""
    rated = os.environ.get("BENCH_RATED_DATABASE_URL") or make_url(url).set(
        database=f"onsite_bench_{size}_rated").render_as_string(hide_password=False)
    source, name = sql(url, "SELECT current_database()")[0][0], make_url(rated).database
    if name == source:
        raise BenchError(f"BENCH_RATED_DATABASE_URL names the stage's own database {source}")
    marker = f"onsite bench: {size} offerings, seed 1, rated, reindexed"
    noted = dict(sql(url, "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database"))
    if noted.get(name) == marker and not fresh:
        flask(rated, "db", "upgrade")
        log(f"{size:,} rated offerings: reusing {masked(rated)}")
        sql(rated, "TRUNCATE search_logs")
        return rated, True
    log(f"{size:,} rated offerings: copying {source} to {name} and rating it")
    wait_db_idle(url)
    identifier = name.replace('"', '""')
    sql(url, f'DROP DATABASE IF EXISTS "{identifier}" WITH (FORCE)',
        f'CREATE DATABASE "{identifier}" TEMPLATE "{source}"')
    # One UPDATE of most rows leaves every index of offerings twice its size, which a database rated over time
    # (autovacuum reusing the space) never is: rebuilt, as after a `pg_repack`.
    sql(rated, *RATED_SQL, "REINDEX TABLE offerings", "VACUUM (ANALYZE) offerings, business_integrity", "CHECKPOINT",
        f"COMMENT ON DATABASE \"{identifier}\" IS '{marker}'")
    return rated, False


def run(args: argparse.Namespace) -> None:
    wrk = ensure_wrk()
    stages = []
    context = None
    with tempfile.TemporaryDirectory(prefix="bench-nearby-") as tmp:
        scripts = {"in_view": lua_script(Path(tmp), "in_view", IN_VIEW_PATH, fixed=True),
                   "explore": lua_script(Path(tmp), "explore", EXPLORE_PATH, fixed=False),
                   "baseline explore": lua_script(Path(tmp), "baseline_explore", EXPLORE_PATH, fixed=False)}
        for index, name in enumerate(VARIANTS):
            scripts[f"nearby {name}"] = lua_script(Path(tmp), f"nearby{index}", NEARBY_PATH + VARIANTS[name], False)
            scripts[f"baseline {name}"] = lua_script(Path(tmp), f"baseline{index}", BASELINE_PATH + VARIANTS[name],
                                                     False)
        for size in args.sizes:
            url, reused, load_s = prepare_stage(size, args.fresh)
            context = context or machine_context(url, wrk)
            largest = size == args.sizes[-1]
            grid_s = None
            if largest:
                started = time.perf_counter()
                flask(url, "discovery", "refresh-grid")
                grid_s = time.perf_counter() - started
            try:
                guard_database(url, on=True)
                stage = measure_stage(wrk, url, scripts, args, offering_count(url), with_in_view=largest)
            finally:
                guard_database(url, on=False)
            stage.update(database=masked(url).rsplit("/", 1)[-1], reused=reused, load_s=load_s, grid_s=grid_s)
            stages.append(stage)
            if largest and not args.no_rated:
                rated, reused = prepare_rated(url, size, args.fresh or not stage["reused"])
                try:
                    guard_database(rated, on=True)
                    stage["rated"] = measure_stage(wrk, rated, scripts, args, size, with_in_view=False,
                                                   variants=RATED_VARIANTS, label=" rated", with_explore=False)
                finally:
                    guard_database(rated, on=False)
                stage["rated"].update(database=masked(rated).rsplit("/", 1)[-1], reused=reused)
    report(stages, args, context)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sigterm_as_interrupt()  # make `kill` behave like Ctrl-C: stop the servers on the way out
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
