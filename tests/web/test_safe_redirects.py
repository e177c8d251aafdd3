"""Every redirect to a requested place (a form's ``next``, the log-in's ``next``, the referrer an error
sends back to) stays on this site however the target is dressed up (issue 10, finding 5). The helper
itself is tested value by value in tests/unit/test_safe_redirect.py."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from tests import factories as f
from tests.web._bookings_world import World, build_world


@pytest.fixture
def world(db) -> World:
    return build_world()


NASTY_NEXT = ["//evil.example", "/\t/evil.example", "/\n/evil.example", "/\r\n/evil.example", "\t//evil.example",
              "/\\evil.example", "\\\\evil.example", "/\x00/evil.example", " //evil.example",
              "https://evil.example/", "http:/evil.example", "javascript:alert(1)", "evil.example"]


def _stays_here(location: str) -> bool:
    parts = urlsplit(location)
    return not parts.scheme and not parts.netloc and location.startswith("/") and not location.startswith("//") \
        and "\\" not in location and "evil.example" not in location.split("?")[0]


@pytest.mark.parametrize("target", NASTY_NEXT)
def test_a_booking_action_never_redirects_off_the_site(auth, world, target):
    auth.login(world.resident.email)

    response = auth.post(f"/bookings/{world.booking.id}/cancel", {"next": target})

    assert response.status_code == 302
    # Back to the visit; a NUL is refused before the view runs (422: back to "/").
    assert response.headers["Location"] in (f"/bookings/{world.booking.id}", "/")


@pytest.mark.parametrize("target", NASTY_NEXT)
def test_logging_in_never_redirects_off_the_site(auth, world, target):
    response = auth.client.post("/auth/login", data={
        "email": world.resident.email, "password": f.PASSWORD, "next": target, "csrf_token": auth.csrf()})

    assert response.status_code == 302
    assert _stays_here(response.headers["Location"]), response.headers["Location"]


def test_a_good_next_is_still_followed(auth, world):
    auth.login(world.resident.email)
    response = auth.post(f"/bookings/{world.booking.id}/cancel", {"next": " /me/visits?tab=past\t"})
    assert response.headers["Location"] == "/me/visits?tab=past"


@pytest.mark.parametrize("referrer", ["https://evil.example/form", "//evil.example/", "/\t/evil.example",
                                      "http://localhost.evil.example/"])
def test_going_back_after_a_refusal_goes_only_to_a_page_of_this_site(auth, world, referrer):
    auth.login(world.resident.email)
    path = f"/bookings/{world.booking.id}/cancel"

    # A NUL is refused before the view (422: flash, and back); a form without its CSRF token likewise.
    refused = auth.post(path, {"reason": "\x00"}, headers={"Referer": referrer})
    stale = auth.client.post(path, data={}, headers={"Referer": referrer})

    for response in (refused, stale):
        assert response.status_code == 302
        assert _stays_here(response.headers["Location"]), response.headers["Location"]
    # A referrer on this very site is still where the browser goes back to.
    own = auth.post(path, {"reason": "\x00"}, headers={"Referer": f"http://localhost/bookings/{world.booking.id}"})
    assert own.headers["Location"] == f"/bookings/{world.booking.id}"
