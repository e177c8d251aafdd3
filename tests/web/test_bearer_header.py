"""A request that carries an Authorization header is authenticated by it alone (issue 10, finding 4): a
session cookie riding along never stands in for a bad token, and so never gets a write past CSRF."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bookings.models import Booking
from tests import factories as f
from tests.web._bookings_world import World, build_world, read, scalar


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.mark.parametrize("header", ["Bearer junk", "Bearer ", "Bearer ons_" + "x" * 43, "Basic YTpi", "junk"])
def test_a_cookie_session_does_not_stand_in_for_a_bad_authorization_header(auth, world, header):
    auth.login(world.resident.email)
    before = read(select(Booking.slot_id, Booking.status).where(Booking.id == world.booking.id))

    moved = auth.client.post(f"/api/v1/bookings/{world.booking.id}/reschedule", json={"slot_id": world.free_slot.id},
                             headers={"Authorization": header})

    assert moved.status_code in (400, 401), moved.json
    if moved.status_code == 400:  # not a bearer header: the write is a cookie write, and it had no CSRF token
        assert moved.json["error"]["code"] == "csrf_failed"
    else:
        assert moved.json["error"]["code"] == "unauthenticated"
    assert read(select(Booking.slot_id, Booking.status).where(Booking.id == world.booking.id)) == before
    listed = auth.client.get("/api/v1/bookings", headers={"Authorization": header})
    assert listed.status_code == 401 and listed.json["error"]["code"] == "unauthenticated"
    page = auth.client.get("/me/visits", headers={"Authorization": header})
    assert page.status_code == 302 and page.headers["Location"].startswith("/auth/login")
    # The cookie itself is untouched: without the header the browser is still logged in.
    assert auth.client.get("/me/visits").status_code == 200


def test_a_good_token_acts_as_its_own_account_whatever_cookie_rides_along(auth, world):
    auth.login(world.resident.email)
    other = f.token_for(world.users["other_resident"])

    moved = auth.client.post(f"/api/v1/bookings/{world.booking.id}/reschedule", json={"slot_id": world.free_slot.id},
                             headers=other)

    assert moved.status_code == 404  # the token's account has no such booking
    assert scalar(select(Booking.slot_id).where(Booking.id == world.booking.id)) == world.slot.id
    mine = f.token_for(world.resident)
    assert auth.client.post(f"/api/v1/bookings/{world.booking.id}/reschedule", json={"slot_id": world.free_slot.id},
                            headers=mine).status_code == 200
