"""Check-in against the live server (gunicorn, two workers, its own database): exactly once under 50
concurrent scans, a repeated nonce gets the first answer, and wrong-code guesses are rate limited per
staff account.

Every scan is a real HTTP request on its own connection with a bearer token; the database is read
directly afterwards to count the rows.
"""

from __future__ import annotations

import os
import re
import secrets
import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import psycopg
import pytest

from tests.e2e.checkin_setup import (
    DEMO_RESIDENT,
    DEMO_STAFF,
    archive,
    call,
    demo_studio,
    new_staff_account,
    open_visit,
    token_of,
)

pytestmark = pytest.mark.e2e

SCANS = 50
GUESSES_PER_MINUTE = 20  # the live server's CHECKIN_GUESSES_PER_USER
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@pytest.fixture(scope="module")
def studio(live_server):
    return demo_studio(live_server)


@pytest.fixture(scope="module")
def staff_token(live_server):
    return token_of(live_server, *DEMO_STAFF)


@pytest.fixture(scope="module")
def resident_token(live_server):
    return token_of(live_server, *DEMO_RESIDENT)


@pytest.fixture
def visit(live_server, studio, resident_token):
    made = open_visit(live_server, studio, resident_token)
    yield made
    archive(live_server, studio, made)


def query(sql: str, *params) -> list[tuple]:
    """Read the live server's database."""
    url = re.sub(r"^postgresql\+psycopg://", "postgresql://", os.environ["E2E_DATABASE_URL"])
    with psycopg.connect(url) as connection:
        return connection.execute(sql, params).fetchall()


def scan(base: str, token: str, body: dict):
    return call(base, "POST", "/api/v1/checkins", body, token=token, timeout=60)


def test_fifty_concurrent_scans_check_in_exactly_once(live_server, visit, staff_token):
    body = {"code": visit.code, "store_id": visit.store["id"]}
    start = threading.Barrier(SCANS)

    def one(_):
        start.wait(timeout=30)
        return scan(live_server, staff_token, body)

    with ThreadPoolExecutor(max_workers=SCANS) as pool:
        replies = list(pool.map(one, range(SCANS)))

    statuses = Counter(reply.status for reply in replies)
    assert statuses == {200: 1, 409: SCANS - 1}, [(r.status, r.body) for r in replies if r.status not in (200, 409)]
    (winner,) = [reply for reply in replies if reply.status == 200]
    assert winner.body["booking"]["id"] == visit.booking["id"]
    assert winner.body["booking"]["status"] == "checked_in"
    assert winner.body["check_in"]["method"] == "staff_typed"
    assert winner.body["collect"] == {"amount": "168.00", "currency": "CNY"}
    for reply in replies:
        if reply.status == 409:
            error = reply.body["error"]
            assert error["code"] == "already_checked_in"
            at = datetime.fromisoformat(error["details"]["checked_in_at"])
            assert at == datetime.fromisoformat(winner.body["check_in"]["checked_in_at"])
            assert at.utcoffset() == timedelta(hours=8)  # in the store's time (Asia/Shanghai)
            assert error["details"]["checked_in_by"] == winner.body["check_in"]["checked_in_by"]

    booking_id = visit.booking["id"]
    assert query("SELECT count(*) FROM check_ins WHERE booking_id = %s", booking_id) == [(1,)]
    assert query("SELECT status FROM bookings WHERE id = %s", booking_id) == [("checked_in",)]
    assert query("SELECT count(*) FROM booking_events WHERE booking_id = %s AND to_status = 'checked_in'",
                 booking_id) == [(1,)]


def test_a_repeated_nonce_gets_the_first_answer(live_server, visit, staff_token):
    body = {"code": visit.code, "store_id": visit.store["id"], "nonce": uuid.uuid4().hex}
    first = scan(live_server, staff_token, body)
    again = scan(live_server, staff_token, body)
    assert first.status == again.status == 200, (first.body, again.body)
    assert again.body == first.body

    # A new nonce is a new scan: refused now, and that refusal is what its retry gets.
    retry = {**body, "nonce": uuid.uuid4().hex}
    refused = scan(live_server, staff_token, retry)
    refused_again = scan(live_server, staff_token, retry)
    assert refused.status == refused_again.status == 409
    assert refused.body["error"]["code"] == "already_checked_in"
    assert refused_again.body == refused.body

    booking_id = visit.booking["id"]
    assert query("SELECT count(*) FROM check_ins WHERE booking_id = %s", booking_id) == [(1,)]
    assert query("SELECT status_code FROM check_in_attempts WHERE nonce IN (%s, %s) ORDER BY status_code",
                 body["nonce"], retry["nonce"]) == [(200,), (409,)]


def wrong_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))


def test_wrong_codes_are_rate_limited_per_staff_account(live_server, studio, staff_token):
    # Its own account at the second store: neither the demo staff's nor the first store's counters move.
    _, token = new_staff_account(live_server, studio, studio.second)
    store_id = studio.second["id"]
    replies = []
    for _ in range(2 * GUESSES_PER_MINUTE + 1):
        replies.append(scan(live_server, token, {"code": wrong_code(), "store_id": store_id}))
        if replies[-1].status == 429:
            break

    *guesses, limited = replies
    assert limited.status == 429, [r.status for r in replies]
    # The two workers count in one Redis: the 21st wrong code is the first refused, whichever worker takes it.
    assert len(guesses) == GUESSES_PER_MINUTE
    assert {r.status for r in guesses} == {404}
    assert {r.body["error"]["code"] for r in guesses} == {"invalid_code"}
    assert limited.body["error"]["code"] == "rate_limited"
    retry_after = limited.headers.get("Retry-After")
    assert retry_after is not None and retry_after.isdigit() and 0 < int(retry_after) <= 60, retry_after

    # The demo staff at the first store are not held back by it.
    other = scan(live_server, staff_token, {"code": wrong_code(), "store_id": studio.first["id"]})
    assert other.status == 404 and other.body["error"]["code"] == "invalid_code"
