"""/healthz and /readyz, and what every request gets while the database cannot be reached: a 503 with
Retry-After, as the JSON envelope or a page, never a 500. In-process; "down" is a closed port."""

from __future__ import annotations

import re

import psycopg
import pytest
from sqlalchemy import exc as sa_exc

from app.health import services as health
from tests.ops.conftest import app_on, free_port

DOWN_MESSAGE = "its database cannot be reached"


@pytest.fixture(scope="module")
def down_app():
    """An app whose database does not answer; exceptions reach the error handlers as in production."""
    with app_on(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/onsite",
                PROPAGATE_EXCEPTIONS=False) as application:

        @application.get("/_test/fails-after-the-view")
        def fails_after_the_view():
            return {"ok": True}

        @application.after_request
        def commit_fails(response):
            if response.json == {"ok": True}:  # as a read's COMMIT in app/web.py would, were the server gone
                raise sa_exc.OperationalError("COMMIT", {}, psycopg.OperationalError("server closed the connection"))
            return response

        yield application


@pytest.fixture
def down(down_app):
    return down_app.test_client()


def assert_database_unavailable(response, *, json: bool = True) -> None:
    assert response.status_code == 503, response.get_data(as_text=True)[:500]
    # 5 s, or longer where a rate limit's window ends later (Flask-Limiter keeps the later of the two).
    assert int(response.headers["Retry-After"]) >= 5
    if json:
        assert response.json["error"]["code"] == "database_unavailable"
        assert DOWN_MESSAGE in response.json["error"]["message"] and response.json["error"]["details"] == {}
    else:
        page = response.get_data(as_text=True)
        assert response.mimetype == "text/html" and "Back in a moment" in page and DOWN_MESSAGE in page
        assert "Traceback" not in page and "OperationalError" not in page


def test_healthz_answers_without_the_database(down):
    response = down.get("/healthz")
    assert (response.status_code, response.json) == (200, {"status": "ok"})
    assert response.headers["Cache-Control"] == "no-store"


def test_readyz_names_the_database_when_it_is_down(down):
    response = down.get("/readyz")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.json == {"status": "unavailable", "failed": ["database"],
                             "checks": {"database": {"ok": False, "error": "unreachable"}}}


def test_readyz_is_ready_on_a_migrated_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200, response.json
    assert response.json["status"] == "ready" and set(response.json["checks"]) == {"database", "migrations"}
    migrations = response.json["checks"]["migrations"]
    assert migrations["ok"] and migrations["revision"] == migrations["head"] != []


def test_readyz_names_migrations_behind_the_code(client, monkeypatch):
    monkeypatch.setattr(health, "migration_heads", lambda directory: ("a_newer_revision",))
    response = client.get("/readyz")
    assert (response.status_code, response.json["failed"]) == (503, ["migrations"])
    assert response.json["checks"]["migrations"]["error"] == "not_at_head"


def test_readyz_checks_redis_when_one_is_configured(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    response = client.get("/readyz")
    assert (response.status_code, response.json["failed"]) == (503, ["redis"])
    assert response.json["checks"]["redis"] == {"ok": False, "error": "unreachable"}


def test_api_requests_get_the_json_envelope(down):
    # The bearer token is looked up in the database (flask-login's request loader) before the view runs.
    token = {"Authorization": "Bearer ons_whatever"}
    assert down.get("/api/v1/bookings", headers=token).headers["Retry-After"] == "5"
    assert_database_unavailable(down.get("/api/v1/bookings", headers=token))
    assert_database_unavailable(down.post("/api/v1/bookings", json={"slot_id": 1, "party_size": 1},
                                          headers={**token, "Idempotency-Key": "k-1"}))
    assert_database_unavailable(down.get("/api/v1/offerings/nearby?lat=30.25&lng=120.15"))
    assert_database_unavailable(down.get("/explore", headers={"Accept": "application/json"}))


@pytest.mark.parametrize("path", ["/", "/explore", "/experiences/1"])
def test_pages_get_a_styled_page_that_retries(down, path):
    response = down.get(path)
    assert_database_unavailable(response, json=False)
    assert '<meta http-equiv="refresh" content="5">' in response.get_data(as_text=True)


def test_a_logged_in_visitor_gets_the_page_too_though_loading_the_user_needs_the_database(down):
    with down.session_transaction() as session:  # flask-login's user loader runs before the view
        session["_user_id"], session["_fresh"] = "1", True
    response = down.get("/")
    assert_database_unavailable(response, json=False)
    assert 'data-testid="whoami"' not in response.get_data(as_text=True)


def test_a_form_post_gets_the_page_without_a_refresh(down):
    login = down.get("/auth/login")  # an anonymous page that needs no database
    assert login.status_code == 200
    token = re.search(r'name="csrf-token" content="([^"]+)"', login.get_data(as_text=True)).group(1)
    response = down.post("/auth/login", data={"email": "a@b.cd", "password": "x" * 12, "csrf_token": token})
    assert_database_unavailable(response, json=False)
    assert 'http-equiv="refresh"' not in response.get_data(as_text=True)  # never re-sent by itself


def test_a_database_error_after_the_view_is_a_503_too(down):
    assert_database_unavailable(down.get("/_test/fails-after-the-view", headers={"Accept": "application/json"}))


def test_a_read_whose_closing_commit_fails_is_still_served(app, client, monkeypatch, caplog):
    from app.extensions import db

    commits = []

    def connection_lost(self):
        commits.append(self)
        raise sa_exc.OperationalError("COMMIT", {}, psycopg.OperationalError("server closed the connection"))

    monkeypatch.setattr(type(db.session()), "commit", connection_lost)
    response = client.get("/api/v1/offerings/nearby?lat=30.25&lng=120.15")
    assert response.status_code == 200 and "items" in response.json
    assert len(commits) == 1
    assert "unhandled error" not in caplog.text
