"""Throttles that hold and a Content-Security-Policy that holds, on the live server (gunicorn, 2 workers).

Rate limits are counted in Redis, so the two workers share them: a limit of N lets exactly N requests
through, whichever worker takes each one. Every client here calls from a loopback address of its own
(127.91.x.y), so no other test's requests count on its limits.
"""

from __future__ import annotations

import http.client
import itertools
import json
import re
import uuid
from urllib.parse import urlencode, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import POLICY_PROBLEMS

pytestmark = pytest.mark.e2e

REGISTRATIONS_PER_MINUTE = 20  # @limiter.limit on POST /api/v1/auth/register
LOGINS_PER_MINUTE = 10  # @limiter.limit on POST /auth/login
_addresses = itertools.count(1)


class Client:
    """HTTP from a loopback address of its own, keeping its cookies."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname, parts.port
        n = next(_addresses)
        self.address = f"127.91.{n // 250}.{n % 250 + 1}"
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, str]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30, source_address=(self.address, 0))
        headers = dict(headers or {})
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode()
        finally:
            connection.close()
        for cookie in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = cookie.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return response.status, text


def until_limited(attempts, most: int) -> list[int]:
    """Make attempts until the first 429 (or ``most`` + 1 of them); return every status."""
    statuses = []
    for attempt in range(most + 1):
        statuses.append(attempts(attempt))
        if statuses[-1] == 429:
            break
    return statuses


def test_registration_limit_is_shared_by_the_workers(live_server):
    client = Client(live_server)

    def register(attempt: int) -> int:
        body = {"email": f"limit-{uuid.uuid4().hex[:12]}@e2e.onsite", "password": f"Rate {uuid.uuid4().hex}",
                "display_name": "Rate limit", "role": "resident"}
        return client.request("POST", "/api/v1/auth/register", json.dumps(body).encode(),
                              {"Content-Type": "application/json"})[0]

    statuses = until_limited(register, 2 * REGISTRATIONS_PER_MINUTE)
    *accepted, limited = statuses
    assert limited == 429, statuses
    assert len(accepted) == REGISTRATIONS_PER_MINUTE, statuses  # not up to twice as many with two workers
    assert all(200 <= status < 300 for status in accepted), statuses


def test_the_login_page_is_limited_at_the_limit_whatever_x_forwarded_for_says(live_server):
    client = Client(live_server)
    status, page = client.request("GET", "/auth/login")
    assert status == 200
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)

    def wrong_password(attempt: int) -> int:
        # A new account name each time (a per-account limit is another matter) and a new forged address.
        form = {"email": f"nobody-{uuid.uuid4().hex[:10]}@e2e.onsite", "password": "not-the-password",
                "csrf_token": token}
        return client.request("POST", "/auth/login", urlencode(form).encode(), {
            "Content-Type": "application/x-www-form-urlencoded", "X-Forwarded-For": f"198.51.100.{attempt + 1}",
            "X-Real-IP": f"198.51.100.{attempt + 1}"})[0]

    statuses = until_limited(wrong_password, 2 * LOGINS_PER_MINUTE)
    *refused, limited = statuses
    assert limited == 429, statuses
    assert len(refused) == LOGINS_PER_MINUTE, statuses
    assert all(400 <= status < 500 and status != 429 for status in refused), statuses


def test_a_policy_violation_is_caught(live_server, page: Page):
    # The check every browser test runs afterwards (no_policy_violations), seen to work: an inline script
    # without the page's nonce is refused, and reported.
    page.goto(live_server + "/auth/login")
    page.evaluate("""() => { const s = document.createElement("script"); s.textContent = "window.ran = 1";
                             document.body.append(s); }""")
    for _ in range(50):  # the report arrives as an event
        if POLICY_PROBLEMS:
            break
        page.wait_for_timeout(100)
    assert page.evaluate("() => window.ran") is None
    caught = POLICY_PROBLEMS[:]
    POLICY_PROBLEMS.clear()
    assert any("script-src" in problem for problem in caught), caught


def test_the_api_docs_work_under_the_policy(live_server, page: Page, outside_requests):
    page.goto(live_server + "/docs")
    expect(page.locator(".opblock").first).to_be_visible(timeout=20_000)
    expect(page.get_by_text("/api/v1/offerings/nearby").first).to_be_visible()
    assert outside_requests == []
