"""Fixtures: one migrated PostGIS test database, each test in a rolled-back transaction."""

from __future__ import annotations

import contextlib
import contextvars
import os
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from flask_sqlalchemy.session import Session as FlaskSession

from app import clock as app_clock
from app import create_app
from app.config import TestConfig
from app.extensions import db as _db


def pytest_addoption(parser):
    parser.addoption(
        "--at", default=os.environ.get("ONSITE_TEST_AT") or None, metavar="'YYYY-MM-DD HH:MM[:SS] ZONE'",
        help="run the whole suite, live servers included, as if it were this instant "
             "(e.g. '2026-03-08 01:55 America/New_York'; default: now, or $ONSITE_TEST_AT)")


def parse_instant(text: str) -> datetime:
    """'2026-12-31 23:55 Asia/Shanghai' (or an ISO instant with an offset) as an aware datetime."""
    text = text.strip()
    stamp, _, zone = text.rpartition(" ")
    if stamp and ("/" in zone or zone == "UTC"):
        return datetime.fromisoformat(stamp).replace(tzinfo=ZoneInfo(zone))
    instant = datetime.fromisoformat(text)
    if instant.tzinfo is None:
        raise ValueError(f"--at needs a time zone: {text!r}")
    return instant


def pytest_configure(config):
    """Set the run's clock once: this process and every server or command it starts agree on it."""
    at = config.getoption("--at")
    if at:
        app_clock.travel(parse_instant(at))
        os.environ["ONSITE_CLOCK_OFFSET"] = repr(app_clock.offset_seconds())
    else:
        os.environ.pop("ONSITE_CLOCK_OFFSET", None)
    config.onsite_clock_offset = app_clock.offset_seconds()


def pytest_report_header(config):
    return f"onsite clock: {app_clock.now().astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC" + (
        f" (--at {config.getoption('--at')})" if config.getoption("--at") else " (system clock)")


@pytest.fixture(autouse=True)
def _one_instant_per_test(request):
    """Each in-process test runs at one instant: the test, its factories and the routes it calls agree on
    "now" and "today" even across midnight. Browser tests keep a ticking clock, as their live server does."""
    if request.node.get_closest_marker("e2e") is None:
        app_clock.travel(app_clock.now(), tick=False)
    yield
    app_clock.set_offset(request.config.onsite_clock_offset)


@pytest.fixture
def clock():
    """The app's clock (app/clock.py), frozen for the test: ``clock.travel(instant, tick=False)`` moves it."""
    return app_clock


class _ConnectionBoundSession(FlaskSession):
    """A session that always uses the test's connection (Flask-SQLAlchemy picks engines itself)."""

    def get_bind(self, *args, **kwargs):
        return self.bind


@pytest.fixture(scope="session")
def app():
    """The application on the test database, migrated to head once per run."""
    if not os.environ.get("TEST_DATABASE_URL"):
        pytest.exit("TEST_DATABASE_URL is not set: run the tests with `make test`", returncode=2)
    application = create_app(TestConfig())
    with application.app_context():
        from flask_migrate import upgrade

        upgrade()
    yield application
    with application.app_context():
        _db.engine.dispose()


@contextlib.contextmanager
def rolled_back(app):
    """The database inside an outer transaction, rolled back at the end (commits become savepoints)."""
    with app.app_context():
        connection = _db.engine.connect()
        transaction = connection.begin()
        original = _db.session
        _db.session = _db._make_scoped_session({
            "bind": connection,
            "join_transaction_mode": "create_savepoint",
            "class_": _ConnectionBoundSession,
        })
        try:
            yield _db
        finally:
            _db.session.remove()
            _db.session = original
            transaction.rollback()
            connection.close()


@pytest.fixture
def db(app):
    """The database, inside an outer transaction that is rolled back after the test."""
    with rolled_back(app) as database:
        yield database


class IsolatedClient(FlaskClient):
    """Run each request in its own app context, as in production.

    The test itself holds an app context (for factories); without this, requests
    would share its ``g`` (and flask-login's cached user) with each other.
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture(autouse=True)
def _fresh_rate_limits(request):
    """Log-in and sign-up are rate limited per address; each test starts and ends with a clean slate."""
    if "app" not in request.fixturenames:
        yield
        return
    from app.extensions import limiter

    limiter.reset()
    yield
    limiter.reset()


@pytest.fixture
def client(app, db):
    app.test_client_class = IsolatedClient
    return app.test_client()


class AuthActions:
    """Log in through the real pages; read CSRF tokens the way a browser would."""

    def __init__(self, client):
        self.client = client

    def csrf(self, path: str = "/auth/login") -> str:
        page = self.client.get(path).get_data(as_text=True)
        match = re.search(r'name="csrf-token" content="([^"]+)"', page)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def login(self, email: str, password: str = "password123"):
        return self.client.post("/auth/login", data={
            "email": email, "password": password, "csrf_token": self.csrf()})

    def logout(self):
        return self.client.post("/auth/logout", data={"csrf_token": self.csrf("/")})

    def post(self, path: str, data: dict | None = None, **kwargs):
        """POST a form with a fresh CSRF token."""
        return self.client.post(path, data={**(data or {}), "csrf_token": self.csrf("/")}, **kwargs)


@pytest.fixture
def auth(client):
    return AuthActions(client)
