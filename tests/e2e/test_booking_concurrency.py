"""Peak day: many residents hit the live server (gunicorn, 2 workers) at the same instant.

Every request is a real HTTP request on its own connection from its own thread, released
together by a barrier; the only shared thing is the database. Set-up goes through the public
API too. Each resident calls from its own loopback address (127.x.y.z), as distinct clients
would, so the per-address rate limits on sign-up and tokens see 200 people, not one.
Afterwards the counters are checked against the rows, straight in the e2e database.
"""

from __future__ import annotations

import http.client
import itertools
import json
import os
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import psycopg
import pytest

from app import clock
from bookings.states import ACTIVE, SEAT_HOLDING

pytestmark = pytest.mark.e2e

RESIDENTS = 200
PASSWORD = "peak-hour-lantern-1"
TZ = "Asia/Shanghai"
SEAT_HOLDING_SQL = tuple(str(status) for status in SEAT_HOLDING)
ACTIVE_SQL = tuple(str(status) for status in ACTIVE)
_addresses = itertools.count(1)


def _next_address() -> str:
    n = next(_addresses)
    return f"127.77.{n // 250}.{n % 250 + 1}"


# -- HTTP ------------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    body: dict | list | None
    text: str

    @property
    def code(self) -> str | None:
        return self.body.get("error", {}).get("code") if isinstance(self.body, dict) else None


@dataclass
class Client:
    """Somebody with an address and, once logged in, a bearer token."""

    address: str
    email: str = ""
    token: str = ""
    user_id: int = 0


def _connect(base: str, client: Client) -> http.client.HTTPConnection:
    parts = urlsplit(base)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60, source_address=(client.address, 0))
    conn.connect()
    return conn


def _send(conn: http.client.HTTPConnection, client: Client, method: str, path: str, body=None,
          headers: dict | None = None) -> Reply:
    sent = {"Accept": "application/json", **(headers or {})}
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    if client.token:
        sent["Authorization"] = f"Bearer {client.token}"
    conn.request(method, path, body=payload, headers=sent)
    response = conn.getresponse()
    text = response.read().decode("utf-8", "replace")
    try:
        parsed = json.loads(text) if text else None
    except ValueError:
        parsed = None
    return Reply(response.status, parsed, text)


def call(base: str, client: Client, method: str, path: str, body=None, headers: dict | None = None) -> Reply:
    """One request on a fresh connection."""
    conn = _connect(base, client)
    try:
        return _send(conn, client, method, path, body, headers)
    finally:
        conn.close()


def ok(reply: Reply, status: int = 200) -> dict:
    assert reply.status == status, f"{reply.status}: {reply.text[:2000]}"
    return reply.body


@dataclass
class Call:
    client: Client
    method: str
    path: str
    body: dict | None = None
    headers: dict | None = None


def fire(base: str, calls: list[Call]) -> list[Reply]:
    """Send every call at once: each thread connects first, then all send when the barrier opens."""
    barrier = threading.Barrier(len(calls))

    def run(item: Call) -> Reply:
        conn = _connect(base, item.client)
        try:
            barrier.wait(timeout=30)
            return _send(conn, item.client, item.method, item.path, item.body, item.headers)
        finally:
            conn.close()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


def assert_no_5xx(replies: list[Reply]) -> None:
    broken = [(reply.status, reply.text[:500]) for reply in replies if reply.status >= 500]
    assert not broken, f"{len(broken)} server errors: {broken[:10]}"


def tally(replies: list[Reply]) -> Counter:
    return Counter((reply.status, reply.code) for reply in replies)


# -- the world, set up through the API ------------------------------------------------------


def _sign_up(base: str, role: str = "resident") -> Client:
    client = Client(address=_next_address(), email=f"peak-{uuid.uuid4().hex[:12]}@e2e.onsite")
    ok(call(base, client, "POST", "/api/v1/auth/register",
            {"email": client.email, "password": PASSWORD, "display_name": "Peak Day", "role": role}), 201)
    issued = ok(call(base, client, "POST", "/api/v1/auth/tokens", {"email": client.email, "password": PASSWORD}),
                201)
    client.token, client.user_id = issued["token"], issued["user"]["id"]
    return client


@dataclass
class Shop:
    base: str
    owner: Client
    store_id: int

    def offering(self, capacity: int) -> int:
        """A new experience, slots at 10:00–13:00 daily for two weeks, bookable and free to cancel until the start."""
        created = ok(call(self.base, self.owner, "POST", "/api/v1/offerings", {
            "store_id": self.store_id, "title": f"Peak day class {uuid.uuid4().hex[:6]}",
            "category": "class_workshop", "price_amount": "88.00", "currency": "CNY", "duration_min": 45,
            "capacity": capacity, "cancel_cutoff_hours": 0}), 201)
        self.schedule(created["id"])
        return created["id"]

    def schedule(self, offering_id: int) -> dict:
        return ok(call(self.base, self.owner, "PUT", f"/api/v1/offerings/{offering_id}/schedule", {
            "weekly": [{"weekday": day, "times": ["10:00", "11:00", "12:00", "13:00"]} for day in range(7)],
            "weeks_ahead": 2, "min_notice_minutes": 0}))

    def slots(self, offering_id: int) -> list[dict]:
        """The experience's slots from the day after tomorrow (none starts while a test runs)."""
        first = clock.today(ZoneInfo(TZ)) + timedelta(days=2)
        reply = call(self.base, self.owner, "GET",
                     f"/api/v1/offerings/{offering_id}/slots?from={first}&to={first + timedelta(days=5)}")
        items = ok(reply)["items"]
        assert len(items) >= 12, items
        return items


@pytest.fixture(scope="module")
def shop(live_server) -> Shop:
    owner = _sign_up(live_server, "merchant")
    business = ok(call(live_server, owner, "POST", "/api/v1/businesses",
                       {"name": "Peak Day Pottery", "category": "crafts"}), 201)
    store = ok(call(live_server, owner, "POST", "/api/v1/stores", {
        "business_id": business["id"], "name": "Peak Day Pottery · Nanshan Rd", "address": "12 Nanshan Road",
        "lat": 30.2465, "lng": 120.1485, "timezone": TZ}), 201)
    return Shop(live_server, owner, store["id"])


@pytest.fixture(scope="module")
def residents(live_server) -> list[Client]:
    with ThreadPoolExecutor(max_workers=16) as pool:
        people = list(pool.map(lambda _: _sign_up(live_server), range(RESIDENTS)))
    assert len({person.user_id for person in people}) == RESIDENTS
    return people


@pytest.fixture(scope="module")
def database(live_server):
    """A plain connection to the e2e database, to check counters against rows."""
    url = os.environ["E2E_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, autocommit=True) as conn:
        yield conn


def seats(conn, slot_id: int) -> tuple[int, int, int, int]:
    """(seats_taken, capacity, party sizes of seat-holding bookings, how many of those bookings)."""
    taken, capacity = conn.execute("SELECT seats_taken, capacity FROM slots WHERE id = %s", (slot_id,)).fetchone()
    held, count = conn.execute(
        "SELECT coalesce(sum(party_size), 0), count(*) FROM bookings WHERE slot_id = %s AND status = ANY(%s)",
        (slot_id, list(SEAT_HOLDING_SQL))).fetchone()
    return taken, capacity, held, count


def assert_counters_match(conn, slot_id: int) -> int:
    """Seats taken == party sizes of the seat-holding bookings <= capacity, and nobody is seated twice."""
    taken, capacity, held, _ = seats(conn, slot_id)
    assert taken == held <= capacity, (slot_id, taken, held, capacity)
    doubles = conn.execute(
        "SELECT resident_id, count(*) FROM bookings WHERE slot_id = %s AND status = ANY(%s) "
        "GROUP BY resident_id HAVING count(*) > 1", (slot_id, list(ACTIVE_SQL))).fetchall()
    assert doubles == [], doubles
    return taken


def book_all(base: str, people: list[Client], slot_id: int) -> list[int]:
    """Book one seat each (set-up, not the race under test)."""
    replies = fire(base, [Call(person, "POST", "/api/v1/bookings", {"slot_id": slot_id}) for person in people])
    return [ok(reply, 201)["id"] for reply in replies]


def remaining(shop: Shop, offering_id: int, slot_id: int) -> int:
    return next(slot["remaining"] for slot in shop.slots(offering_id) if slot["id"] == slot_id)


# -- the races ------------------------------------------------------------------------------


def test_200_residents_race_for_10_seats(live_server, shop, residents, database):
    offering = shop.offering(capacity=10)
    slot = shop.slots(offering)[0]
    assert slot["capacity"] == 10 and slot["remaining"] == 10

    replies = fire(live_server, [Call(person, "POST", "/api/v1/bookings", {"slot_id": slot["id"], "party_size": 1})
                                 for person in residents])

    assert_no_5xx(replies)
    assert tally(replies) == {(201, None): 10, (409, "slot_full"): 190}, tally(replies)
    booked = {reply.body["id"] for reply in replies if reply.status == 201}
    assert remaining(shop, offering, slot["id"]) == 0
    assert seats(database, slot["id"]) == (10, 10, 10, 10)
    assert assert_counters_match(database, slot["id"]) == 10
    rows = database.execute("SELECT id, resident_id, status FROM bookings WHERE slot_id = %s",
                            (slot["id"],)).fetchall()
    assert {row[0] for row in rows} == booked
    winners = {person.user_id for person, reply in zip(residents, replies, strict=True) if reply.status == 201}
    assert {row[1] for row in rows} == winners and {row[2] for row in rows} == {"confirmed"}


def test_30_residents_move_into_a_slot_with_10_seats(live_server, shop, residents, database):
    offering = shop.offering(capacity=30)
    first = shop.slots(offering)[0]
    movers = residents[:30]
    bookings = book_all(live_server, movers, first["id"])
    # The experience now seats 10: editing it shrinks the untouched slots, the full one keeps its 30.
    ok(call(live_server, shop.owner, "PATCH", f"/api/v1/offerings/{offering}", {"capacity": 10}))
    slots = {slot["id"]: slot for slot in shop.slots(offering)}
    a, b = first["id"], next(slot_id for slot_id in slots if slot_id != first["id"])
    assert (slots[a]["capacity"], slots[a]["remaining"]) == (30, 0)
    assert (slots[b]["capacity"], slots[b]["remaining"]) == (10, 10)

    replies = fire(live_server, [Call(person, "POST", f"/api/v1/bookings/{booking}/reschedule", {"slot_id": b})
                                 for person, booking in zip(movers, bookings, strict=True)])

    assert_no_5xx(replies)
    assert tally(replies) == {(200, None): 10, (409, "slot_full"): 20}, tally(replies)
    moved = {reply.body["id"] for reply in replies if reply.status == 200}
    assert all(reply.body["slot"]["id"] == b for reply in replies if reply.status == 200)
    assert seats(database, a) == (20, 30, 20, 20)
    assert seats(database, b) == (10, 10, 10, 10)
    where = dict(database.execute("SELECT id, slot_id FROM bookings WHERE id = ANY(%s)", (bookings,)).fetchall())
    assert where == {booking: b if booking in moved else a for booking in bookings}
    for slot_id in (a, b):
        assert_counters_match(database, slot_id)
    assert remaining(shop, offering, a) == 10 and remaining(shop, offering, b) == 0


def test_crossing_moves_neither_deadlock_nor_lose_seats(live_server, shop, residents, database):
    offering = shop.offering(capacity=10)
    c, d = (slot["id"] for slot in shop.slots(offering)[:2])
    left, right = residents[40:48], residents[48:56]
    in_c, in_d = book_all(live_server, left, c), book_all(live_server, right, d)

    for _round in range(3):  # back and forth, so each round starts from another mix
        calls = [Call(person, "POST", f"/api/v1/bookings/{booking}/reschedule", {"slot_id": d})
                 for person, booking in zip(left, in_c, strict=True)]
        calls += [Call(person, "POST", f"/api/v1/bookings/{booking}/reschedule", {"slot_id": c})
                  for person, booking in zip(right, in_d, strict=True)]
        before = dict(database.execute("SELECT id, slot_id FROM bookings WHERE id = ANY(%s)",
                                       (in_c + in_d,)).fetchall())
        replies = fire(live_server, calls)

        assert_no_5xx(replies)
        outcomes = tally(replies)
        assert set(outcomes) <= {(200, None), (409, "slot_full")}, outcomes
        after = dict(database.execute("SELECT id, slot_id FROM bookings WHERE id = ANY(%s)",
                                      (in_c + in_d,)).fetchall())
        for call_, reply in zip(calls, replies, strict=True):
            booking = int(call_.path.split("/")[4])
            target = call_.body["slot_id"]
            expected = target if reply.status == 200 else before[booking]
            assert after[booking] == expected, (booking, before[booking], target, reply.status, reply.text[:300])
        assert seats(database, c)[0] + seats(database, d)[0] == 16
        for slot_id in (c, d):
            assert_counters_match(database, slot_id)
        statuses = database.execute("SELECT DISTINCT status FROM bookings WHERE id = ANY(%s)",
                                    (in_c + in_d,)).fetchall()
        assert statuses == [("confirmed",)]
        # Next round, everyone heads for the other slot again.
        in_c, in_d = (
            [b for b in in_c + in_d if after[b] == c], [b for b in in_c + in_d if after[b] == d])
        owners = dict(database.execute("SELECT id, resident_id FROM bookings WHERE id = ANY(%s)",
                                       (in_c + in_d,)).fetchall())
        by_id = {person.user_id: person for person in left + right}
        left, right = [by_id[owners[b]] for b in in_c], [by_id[owners[b]] for b in in_d]


def test_cancels_and_new_bookings_race_for_a_full_slot(live_server, shop, residents, database):
    offering = shop.offering(capacity=5)
    slot = shop.slots(offering)[0]["id"]
    holders, newcomers = residents[60:65], residents[65:85]
    held = book_all(live_server, holders, slot)
    assert remaining(shop, offering, slot) == 0

    calls = [Call(person, "POST", f"/api/v1/bookings/{booking}/cancel", {})
             for person, booking in zip(holders, held, strict=True)]
    calls += [Call(person, "POST", "/api/v1/bookings", {"slot_id": slot}) for person in newcomers]
    replies = fire(live_server, calls)

    assert_no_5xx(replies)
    assert tally(replies[:5]) == {(200, None): 5}, [reply.text[:300] for reply in replies[:5]]
    outcomes = tally(replies[5:])
    assert set(outcomes) <= {(201, None), (409, "slot_full")}, outcomes
    taken = assert_counters_match(database, slot)
    assert taken == outcomes[201, None] <= 5
    active = database.execute("SELECT count(*) FROM bookings WHERE slot_id = %s AND status = ANY(%s)",
                              (slot, list(ACTIVE_SQL))).fetchone()[0]
    assert active == taken


def test_freed_seats_go_to_the_waitlist_and_nobody_is_seated_twice(live_server, shop, residents, database):
    offering = shop.offering(capacity=5)
    slot = shop.slots(offering)[0]["id"]
    holders, waiting, walk_ins, late_queue = (residents[100:105], residents[105:110], residents[110:120],
                                              residents[120:125])
    held = book_all(live_server, holders, slot)
    for person in waiting:  # first in line, in this order
        ok(call(live_server, person, "POST", f"/api/v1/slots/{slot}/waitlist", {"party_size": 1}), 201)

    # Everyone at once: the holders cancel; those waiting also try to book directly (a double seat
    # if the promotion and their own booking both land); others book or queue.
    calls = [Call(person, "POST", f"/api/v1/bookings/{booking}/cancel", {})
             for person, booking in zip(holders, held, strict=True)]
    calls += [Call(person, "POST", "/api/v1/bookings", {"slot_id": slot}) for person in waiting + walk_ins]
    calls += [Call(person, "POST", f"/api/v1/slots/{slot}/waitlist", {"party_size": 1}) for person in late_queue]
    replies = fire(live_server, calls)

    assert_no_5xx(replies)
    assert tally(replies[:5]) == {(200, None): 5}, [reply.text[:300] for reply in replies[:5]]
    assert set(tally(replies[5:20])) <= {(201, None), (409, "slot_full"), (409, "already_booked")}
    assert set(tally(replies[20:])) <= {(201, None), (409, "slot_has_room")}
    # Every freed seat was taken again at once, and the five who queued first hold them.
    assert assert_counters_match(database, slot) == 5
    seated = dict(database.execute(
        "SELECT resident_id, count(*) FROM bookings WHERE slot_id = %s AND status = ANY(%s) GROUP BY resident_id",
        (slot, list(ACTIVE_SQL))).fetchall())
    assert seated == {person.user_id: 1 for person in waiting}
    entries = dict(database.execute(
        "SELECT resident_id, status FROM waitlist_entries WHERE slot_id = %s AND resident_id = ANY(%s)",
        (slot, [person.user_id for person in waiting])).fetchall())
    assert set(entries.values()) <= {"promoted", "expired"} and len(entries) == 5, entries
    assert_no_free_seat_beside_a_queue(database, slot)


def test_a_seat_freed_while_someone_joins_the_waitlist_is_not_left_empty(live_server, shop, residents, database):
    # One cancel and one join at the same instant, a dozen times: if the join read "full" before
    # the cancel committed while the cancel's promotion missed the not-yet-committed entry, the
    # seat would stay free with somebody waiting for it.
    offering = shop.offering(capacity=1)
    holder, joiner = residents[130], residents[131]
    for slot in shop.slots(offering)[:12]:
        (held,) = book_all(live_server, [holder], slot["id"])
        replies = fire(live_server, [
            Call(holder, "POST", f"/api/v1/bookings/{held}/cancel", {}),
            Call(joiner, "POST", f"/api/v1/slots/{slot['id']}/waitlist", {"party_size": 1})])

        assert_no_5xx(replies)
        assert replies[0].status == 200, replies[0].text
        assert (replies[1].status, replies[1].code) in {(201, None), (409, "slot_has_room")}, replies[1].text
        assert_counters_match(database, slot["id"])
        assert_no_free_seat_beside_a_queue(database, slot["id"])


def assert_no_free_seat_beside_a_queue(conn, slot_id: int) -> None:
    taken, capacity, _, _ = seats(conn, slot_id)
    queued = conn.execute("SELECT count(*) FROM waitlist_entries WHERE slot_id = %s AND status = 'waiting'",
                          (slot_id,)).fetchone()[0]
    assert taken == capacity or queued == 0, f"{capacity - taken} free seats while {queued} wait"


def test_ten_retries_with_one_idempotency_key_make_one_booking(live_server, shop, residents, database):
    offering = shop.offering(capacity=10)
    slot = shop.slots(offering)[0]["id"]
    resident = residents[199]
    key = {"Idempotency-Key": f"peak-{uuid.uuid4().hex}"}
    body = {"slot_id": slot, "party_size": 2, "note": "window seats please"}

    replies = fire(live_server, [Call(resident, "POST", "/api/v1/bookings", body, key) for _ in range(10)])

    assert_no_5xx(replies)
    # A twin waits on the key's row lock until the first commits, then replays its answer.
    assert tally(replies) == {(201, None): 10}, tally(replies)
    assert len({json.dumps(reply.body, sort_keys=True) for reply in replies}) == 1
    rows = database.execute("SELECT id, party_size FROM bookings WHERE slot_id = %s AND resident_id = %s",
                            (slot, resident.user_id)).fetchall()
    assert rows == [(replies[0].body["id"], 2)]
    assert assert_counters_match(database, slot) == 2

    other = call(live_server, resident, "POST", "/api/v1/bookings", {**body, "party_size": 3}, key)
    assert (other.status, other.code) == (422, "idempotency_key_reused"), other.text
