"""The database goes away in the middle of a booking burst and comes back: nothing is lost.

Everything runs against a PostgreSQL cluster of this test's own (scripts/devdb.sh with DEVDB_DIR in a
temporary directory), never the shared private cluster, and a live gunicorn (2 workers) on it. Threads
book (resident, slot) pairs through the API, each with its own Idempotency-Key, while the cluster is
stopped (`pg_ctl stop -m fast`) and started again. While it is down every answer is a 503 with
Retry-After and the JSON envelope; soon after it is back the app serves again without a restart; every
booking a client saw confirmed exists; and retrying every request with its key creates nothing twice.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest

from app import clock
from tests.ops.conftest import ROOT, free_port, libpq

RESIDENTS = 16  # sign-ups stay under the API's 20 a minute per address
SLOTS = 40
THREADS = 6
PACE = 0.1  # seconds each thread waits between two requests, so the burst spans the outage
UP_BEFORE, DOWN_FOR, UP_AFTER = 1.0, 1.5, 2.5  # seconds of burst before the stop, between stop and start, after
RECOVERY_LIMIT = 5.0  # seconds after the database is back within which the app must serve again
TZ = "Asia/Shanghai"
PASSWORD = "harbour-lantern-1"


# -- a cluster of our own --------------------------------------------------------------------------


class ThrowawayCluster:
    """A private PostgreSQL cluster in a temporary directory (scripts/devdb.sh with DEVDB_DIR)."""

    def __init__(self) -> None:
        # Under /tmp, not pytest's 0700 tmp_path: as root the server runs as `postgres`, which must reach it.
        self.directory = Path(tempfile.mkdtemp(prefix="onsite-outage-", dir="/tmp"))
        self.directory.chmod(0o755)
        self.env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
        self.env["DEVDB_DIR"] = str(self.directory)

    def devdb(self, *args: str) -> str:
        done = subprocess.run([str(ROOT / "scripts" / "devdb.sh"), *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=180, check=False)
        if done.returncode:
            pytest.fail(f"devdb.sh {' '.join(args)} failed:\n{done.stderr}")
        return done.stdout.strip()

    def port(self) -> str:
        return (self.directory / "port").read_text().strip()

    def remove(self) -> None:
        subprocess.run([str(ROOT / "scripts" / "devdb.sh"), "stop"], cwd=ROOT, env=self.env,
                       capture_output=True, timeout=120, check=False)
        shutil.rmtree(self.directory, ignore_errors=True)


# -- HTTP -------------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int | None  # None: no HTTP answer at all
    headers: dict[str, str]
    body: object
    sent: float
    done: float

    @property
    def code(self) -> str | None:
        return self.body.get("error", {}).get("code") if isinstance(self.body, dict) else None


def call(port: int, method: str, path: str, body: dict | None = None, token: str = "",
         headers: dict | None = None) -> Answer:
    """One request on a connection of its own; a refused or dropped connection is an answer of None."""
    sent_headers = {"Accept": "application/json", **(headers or {})}
    if token:
        sent_headers["Authorization"] = f"Bearer {token}"
    payload = None
    if body is not None:
        payload, sent_headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    sent = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=payload, headers=sent_headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
    except OSError as error:
        return Answer(None, {}, repr(error), sent, time.monotonic())
    finally:
        conn.close()
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = text
    return Answer(response.status, dict(response.headers), parsed, sent, time.monotonic())


def ok(answer: Answer, status: int = 200) -> dict:
    assert answer.status == status, (answer.status, answer.body)
    return answer.body


# -- the server and its world -----------------------------------------------------------------------


@dataclass
class World:
    port: int
    cluster: ThrowawayCluster
    database_url: str
    log: Path
    residents: list[str]  # bearer tokens
    resident_ids: list[int]
    offering_id: int
    slot_ids: list[int]


def _sign_up(port: int, role: str) -> tuple[str, int]:
    email = f"outage-{uuid.uuid4().hex[:12]}@ops.onsite"
    ok(call(port, "POST", "/api/v1/auth/register",
            {"email": email, "password": PASSWORD, "display_name": "Outage", "role": role}), 201)
    issued = ok(call(port, "POST", "/api/v1/auth/tokens", {"email": email, "password": PASSWORD}), 201)
    return issued["token"], issued["user"]["id"]


def _open_shop(port: int) -> tuple[int, list[int]]:
    """A merchant, a store and an experience with SLOTS open slots (from the day after tomorrow), via the API."""
    owner, _ = _sign_up(port, "merchant")
    business = ok(call(port, "POST", "/api/v1/businesses", {"name": "Outage Pottery", "category": "crafts"},
                       owner), 201)
    store = ok(call(port, "POST", "/api/v1/stores", {
        "business_id": business["id"], "name": "Outage Pottery", "address": "12 Nanshan Road",
        "lat": 30.2465, "lng": 120.1485, "timezone": TZ}, owner), 201)
    offering = ok(call(port, "POST", "/api/v1/offerings", {
        "store_id": store["id"], "title": "Wheel class", "category": "class_workshop", "price_amount": "88.00",
        "currency": "CNY", "duration_min": 45, "capacity": RESIDENTS, "cancel_cutoff_hours": 0}, owner), 201)
    ok(call(port, "PUT", f"/api/v1/offerings/{offering['id']}/schedule", {
        "weekly": [{"weekday": day, "times": ["10:00", "11:00", "12:00", "13:00"]} for day in range(7)],
        "weeks_ahead": 2, "min_notice_minutes": 0}, owner))
    first = clock.today(ZoneInfo(TZ)) + timedelta(days=2)
    slots = ok(call(port, "GET", f"/api/v1/offerings/{offering['id']}/slots?from={first}"
                                 f"&to={first + timedelta(days=11)}", token=owner))["items"]
    assert len(slots) >= SLOTS and all(slot["remaining"] == RESIDENTS for slot in slots[:SLOTS])
    return offering["id"], [slot["id"] for slot in slots[:SLOTS]]


def _wait_until_serving(port: int, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while call(port, "GET", "/healthz").status != 200:
        if server.poll() is not None or time.monotonic() > deadline:
            pytest.fail("the server did not start:\n" + log.read_text())
        time.sleep(0.2)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Our own cluster, migrated; gunicorn (2 workers) on it; a shop and residents made through the API."""
    cluster = ThrowawayCluster()
    server = None
    try:
        database_url = cluster.devdb("url", "onsite_outage")
        shared = os.environ.get("TEST_DATABASE_URL", "")
        assert f":{cluster.port()}/" not in shared, "the throwaway cluster must not be the shared one"
        env = {**os.environ, "DATABASE_URL": database_url, "FLASK_APP": "wsgi:app"}
        migrated = subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=300, check=False)
        assert migrated.returncode == 0, migrated.stderr
        port = free_port()
        log = tmp_path_factory.mktemp("outage") / "gunicorn.log"
        env.update({"TILE_URL": "", "LOG_LEVEL": "WARNING", "SECRET_KEY": "outage-secret-" + "k" * 32,
                    "UPLOAD_DIR": str(log.parent / "uploads"), "ARGON2_TIME_COST": "1",
                    "ARGON2_MEMORY_COST": "1024"})
        with open(log, "wb") as out:
            server = subprocess.Popen(
                # No control socket: its one default path would be shared with any other gunicorn running.
                [sys.executable, "-m", "gunicorn", "--workers", "2", "--bind", f"127.0.0.1:{port}",
                 "--no-control-socket", "wsgi:app"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        _wait_until_serving(port, server, log)
        offering_id, slot_ids = _open_shop(port)
        people = [_sign_up(port, "resident") for _ in range(RESIDENTS)]
        yield World(port, cluster, database_url, log, [token for token, _ in people], [uid for _, uid in people],
                    offering_id, slot_ids)
    finally:
        if server is not None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=15)
        cluster.remove()


# -- the burst --------------------------------------------------------------------------------------


@dataclass
class Attempt:
    resident: int  # index into World.residents
    slot_id: int
    key: str = field(default_factory=lambda: uuid.uuid4().hex)
    first: Answer | None = None


def book(world: World, attempt: Attempt) -> Answer:
    return call(world.port, "POST", "/api/v1/bookings", {"slot_id": attempt.slot_id, "party_size": 1},
                world.residents[attempt.resident], {"Idempotency-Key": attempt.key})


def burst(world: World, pending: deque[Attempt], stop: threading.Event, deadline: float) -> list[threading.Thread]:
    """Start THREADS threads that book the pending attempts, one at a time each, until told to stop."""

    def run() -> None:
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                attempt = pending.popleft()
            except IndexError:
                return
            attempt.first = book(world, attempt)
            time.sleep(PACE)

    threads = [threading.Thread(target=run, name=f"booker-{n}", daemon=True) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    return threads


def poll(port: int, path: str, until: float, want: int = 200) -> float | None:
    """When ``path`` first answers ``want`` (monotonic time), or None by ``until``."""
    while time.monotonic() < until:
        answer = call(port, "GET", path)
        if answer.status == want:
            return answer.done
        time.sleep(0.05)
    return None


def test_bookings_survive_the_database_going_down_and_coming_back(world):
    rng = random.Random(9)
    attempts = [Attempt(resident, slot) for resident in range(RESIDENTS) for slot in world.slot_ids]
    rng.shuffle(attempts)
    pending = deque(attempts)
    stop = threading.Event()
    hard_deadline = time.monotonic() + 120
    before = call(world.port, "GET", "/readyz")
    assert before.status == 200, before.body

    threads = burst(world, pending, stop, hard_deadline)
    try:
        time.sleep(UP_BEFORE)
        port_before = world.cluster.port()
        stopping = time.monotonic()
        world.cluster.devdb("stop")  # pg_ctl stop -m fast, as postgres
        down = time.monotonic()
        ready_while_down = call(world.port, "GET", "/readyz")
        time.sleep(DOWN_FOR)
        starting = time.monotonic()
        world.cluster.devdb("start")
        up = time.monotonic()
        assert world.cluster.port() == port_before, "the cluster came back on another port"
        ready = poll(world.port, "/readyz", up + RECOVERY_LIMIT * 2)
        time.sleep(max(0.0, up + UP_AFTER - time.monotonic()))
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads)

    sent = [attempt for attempt in attempts if attempt.first is not None]
    answers = [attempt.first for attempt in sent]
    tally = Counter((answer.status, answer.code) for answer in answers)
    confirmed = [attempt for attempt in sent if attempt.first.status == 201]
    refused = [answer for answer in answers if answer.status == 503]
    while_down = [answer for answer in answers if answer.sent >= down and answer.done <= starting]
    after_up = sorted(answer.done for answer in answers if answer.status == 201 and answer.sent >= up)
    nan = float("nan")
    print(f"\noutage figures: {len(sent)} bookings sent, {len(confirmed)} confirmed (201), {len(refused)} x 503 "
          f"({len(while_down)} sent and answered while the database was down); stop took {down - stopping:.2f} s, "
          f"start {up - starting:.2f} s; /readyz 200 {ready - up if ready else nan:.2f} s after the database was "
          f"back, first confirmed booking sent after it {after_up[0] - up if after_up else nan:.2f} s")

    # While down: a 503 with Retry-After and the envelope; never a 500, never a dropped connection.
    assert set(tally) <= {(201, None), (503, "database_unavailable")}, tally
    assert while_down and all(answer.status == 503 for answer in while_down), Counter(a.status for a in while_down)
    for answer in refused:
        assert answer.headers.get("Retry-After") == "5" and answer.body["error"]["details"] == {}
    assert ready_while_down.status == 503 and ready_while_down.body["failed"] == ["database"]
    assert ready_while_down.headers.get("Retry-After") == "5"

    # Back within RECOVERY_LIMIT seconds, without a restart: ready, and bookings confirmed again.
    assert ready is not None and ready - up < RECOVERY_LIMIT, (ready, up)
    assert after_up and after_up[0] - up < RECOVERY_LIMIT
    assert confirmed and any(attempt.first.sent < stopping for attempt in confirmed)

    with psycopg.connect(libpq(world.database_url)) as conn:
        # Every booking a client saw confirmed exists, for that resident and that slot.
        rows = {booking_id: (resident, slot) for booking_id, resident, slot in conn.execute(
            "SELECT id, resident_id, slot_id FROM bookings WHERE id = ANY(%s)",
            ([attempt.first.body["id"] for attempt in confirmed],))}
        assert rows == {attempt.first.body["id"]: (world.resident_ids[attempt.resident], attempt.slot_id)
                        for attempt in confirmed}

    # Every request again with its own key: a confirmed one answers the same booking, a refused one books
    # now, and nothing exists twice.
    retried = [(attempt, book(world, attempt)) for attempt in sent]
    assert Counter(answer.status for _, answer in retried) == {201: len(sent)}, \
        Counter((answer.status, answer.code) for _, answer in retried)
    for attempt, answer in retried:
        if attempt.first.status == 201:
            assert answer.body["id"] == attempt.first.body["id"]
    with psycopg.connect(libpq(world.database_url)) as conn:
        per_pair = Counter({(resident, slot): count for resident, slot, count in conn.execute(
            "SELECT resident_id, slot_id, count(*) FROM bookings WHERE offering_id = %s GROUP BY 1, 2",
            (world.offering_id,))})
        keys = conn.execute("SELECT count(*) FROM idempotency_keys WHERE status_code = 201").fetchone()[0]
        seats = conn.execute("SELECT coalesce(sum(seats_taken), 0) FROM slots WHERE offering_id = %s",
                             (world.offering_id,)).fetchone()[0]
    assert per_pair == Counter({(world.resident_ids[a.resident], a.slot_id): 1 for a in sent})
    assert keys == len(sent) and seats == len(sent)
    assert len({answer.body["id"] for _, answer in retried}) == len(sent)

    log = world.log.read_text()
    assert "unhandled error" not in log and "Traceback" not in log, log[-5000:]
