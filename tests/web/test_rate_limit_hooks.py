"""Flask-Limiter's hooks run where a limit may apply, and nowhere else (app/ratelimits.py)."""

from __future__ import annotations

from app.extensions import limiter
from app.ratelimits import _may_limit


def test_only_endpoints_a_limit_can_touch_run_the_limiter(app):
    assert _may_limit(app, "auth_api.create_token")  # @limiter.limit("30 per minute")
    assert _may_limit(app, "auth.login")  # its POST is limited
    assert not _may_limit(app, "discovery_api.nearby")
    assert not _may_limit(app, "bookings_api.create_booking")
    assert _may_limit(app, "no.such_endpoint")  # unknown: ask the limiter
    for hooks in (app.before_request_funcs[None], app.after_request_funcs[None], app.teardown_request_funcs[None]):
        assert not any(getattr(hook, "__self__", None) is limiter for hook in hooks)  # each one guarded


def test_a_limited_endpoint_still_counts_and_refuses_an_unlimited_one_never_does(client):
    body = {"email": "nobody@example.org", "password": "wrong password here"}
    answers = [client.post("/api/v1/auth/tokens", json=body) for _ in range(31)]
    assert [a.status_code for a in answers[:30]] == [401] * 30
    assert answers[0].headers["X-RateLimit-Limit"] == "30"
    assert answers[29].headers["X-RateLimit-Remaining"] == "0"
    assert answers[30].status_code == 429 and answers[30].get_json()["error"]["code"] == "rate_limited"

    for _ in range(40):
        nearby = client.get("/api/v1/offerings/nearby?lat=30.25&lng=120.16")
        assert nearby.status_code == 200
        assert "X-RateLimit-Limit" not in nearby.headers
