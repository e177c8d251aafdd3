"""Whose limit a request counts on: the socket's peer, unless TRUSTED_PROXY_HOPS says a proxy stands in front.

Behind the proxy the client is the address the proxy appended to X-Forwarded-For (the rightmost one);
whatever a client writes there itself comes before it and is never believed.
"""

from __future__ import annotations

import re
import uuid

import pytest

from app import config, create_app
from app.extensions import db as _db

LOGINS_PER_MINUTE = 10  # @limiter.limit on POST /auth/login


@pytest.fixture
def proxied(app):
    """A client of the app configured behind one reverse proxy (TRUSTED_PROXY_HOPS=1)."""

    class BehindOneProxy(config.TestConfig):
        TRUSTED_PROXY_HOPS = 1

    application = create_app(BehindOneProxy())
    yield application.test_client()
    with application.app_context():
        _db.engine.dispose()


def until_limited(send) -> list[int]:
    """Send until the first 429, at most twice the login limit; return the statuses."""
    statuses = []
    for attempt in range(2 * LOGINS_PER_MINUTE + 1):
        statuses.append(send(attempt).status_code)
        if statuses[-1] == 429:
            break
    return statuses


def test_a_forged_x_forwarded_for_never_resets_the_login_limit(client, auth):
    token = auth.csrf()

    def wrong_login(attempt: int):
        return client.post("/auth/login", headers={"X-Forwarded-For": f"198.51.100.{attempt + 1}"}, data={
            "email": f"nobody-{uuid.uuid4().hex[:8]}@test.onsite", "password": "not-the-password",
            "csrf_token": token})

    statuses = until_limited(wrong_login)
    assert statuses[-1] == 429 and len(statuses) == LOGINS_PER_MINUTE + 1, statuses
    assert 429 not in statuses[:-1]


def _login_post(client, forwarded_for: str):
    """A wrong password for an account nobody has, through the proxy that appended ``forwarded_for``."""
    page = client.get("/auth/login", headers={"X-Forwarded-For": forwarded_for}).get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    return client.post("/auth/login", headers={"X-Forwarded-For": forwarded_for}, data={
        "email": f"nobody-{uuid.uuid4().hex[:8]}@test.onsite", "password": "not-the-password", "csrf_token": token})


def test_behind_a_trusted_proxy_each_client_counts_on_its_own_limit(proxied):
    statuses = until_limited(lambda attempt: _login_post(proxied, "203.0.113.7"))
    assert statuses[-1] == 429 and len(statuses) == LOGINS_PER_MINUTE + 1, statuses
    # Another client behind the same proxy (the same socket peer) is not held back.
    assert _login_post(proxied, "203.0.113.8").status_code != 429


def test_behind_a_trusted_proxy_what_a_client_writes_in_x_forwarded_for_is_not_believed(proxied):
    # nginx appends the address it sees to whatever the client sent: "forged, real".
    statuses = until_limited(lambda attempt: _login_post(proxied, f"192.0.2.{attempt + 1}, 203.0.113.9"))
    assert statuses[-1] == 429 and len(statuses) == LOGINS_PER_MINUTE + 1, statuses


def test_https_at_the_proxy_gets_hsts_and_secure_cookies(proxied):
    response = proxied.get("/auth/login", headers={"X-Forwarded-For": "203.0.113.10", "X-Forwarded-Proto": "https"})
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    (cookie,) = response.headers.getlist("Set-Cookie")
    assert cookie.endswith("; Secure")


def test_without_a_trusted_proxy_x_forwarded_proto_is_not_believed(client, db):
    response = client.get("/auth/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in response.headers
    (cookie,) = response.headers.getlist("Set-Cookie")
    assert "Secure" not in cookie
