"""A counter scan of another store's code says only ``wrong_store``, nothing about that store, and every
refusal of a code or a counter counts toward the wrong-guess limit (issue 10, finding 6)."""

from __future__ import annotations

import pytest

from tests import factories as f
from tests.web._bookings_world import World, build_world


@pytest.fixture
def world(db) -> World:
    return build_world()


def _scan(client, user, store_id: int, code: str):
    return client.post("/api/v1/checkins", json={"store_id": store_id, "code": code}, headers=f.token_for(user))


def test_another_stores_code_says_only_wrong_store(client, world):
    elsewhere = f.create_booking(world.other_slot)

    response = _scan(client, world.users["staff"], world.store.id, elsewhere.code)

    assert response.status_code == 403
    assert response.json["error"]["code"] == "wrong_store"
    assert response.json["error"]["details"] == {}
    assert "Elsewhere" not in response.get_data(as_text=True)


def test_wrong_store_refusals_count_toward_the_guess_limit(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "CHECKIN_GUESSES_PER_USER", "3 per minute")
    elsewhere = f.create_booking(world.other_slot)
    staff = world.users["staff"]

    answers = [_scan(client, staff, world.store.id, code).status_code
               for code in (elsewhere.code, "ZZZZZZZZ", elsewhere.code, elsewhere.code)]

    assert answers == [403, 404, 403, 429]


def test_scanning_at_a_store_one_does_not_work_at_counts_too(app, client, world, monkeypatch):
    monkeypatch.setitem(app.config, "CHECKIN_GUESSES_PER_USER", "2 per minute")
    probe = world.users["other_staff"]

    answers = [_scan(client, probe, world.store.id, world.booking.code).status_code for _ in range(3)]

    assert answers == [403, 403, 429]
