"""An account may own at most MAX_BUSINESSES_PER_ACCOUNT businesses, on the page and in the API
(issue 10: the fuzzer created 479 in nine minutes)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.merchants.models import Business
from tests import factories as f
from tests.web._bookings_world import World, build_world, scalar


@pytest.fixture
def world(db) -> World:
    return build_world()


def test_an_account_may_own_a_limited_number_of_businesses(app, auth, world, monkeypatch):
    monkeypatch.setitem(app.config, "MAX_BUSINESSES_PER_ACCOUNT", 3)
    owner = world.owner
    f.create_business(owner)
    f.create_business(owner)  # with the world's own: 3

    api = auth.client.post("/api/v1/businesses", json={"name": "One too many"}, headers=f.token_for(owner))
    auth.login(owner.email)
    page = auth.post("/merchant/businesses/new", {"name": "One too many", "category": "food"})

    assert api.status_code == 409
    assert api.json["error"] == {"code": "too_many_businesses", "message": "An account can own at most 3 businesses.",
                                 "details": {"limit": 3}}
    assert page.status_code == 422 and "An account can own at most 3 businesses." in page.get_data(as_text=True)
    assert scalar(select(func.count()).select_from(Business).where(Business.owner_id == owner.id)) == 3
    assert scalar(select(func.count()).select_from(Business).where(Business.name == "One too many")) == 0


def test_the_default_cap_is_five(app, client, db):
    assert app.config["MAX_BUSINESSES_PER_ACCOUNT"] == 5
    newcomer = f.create_user()
    statuses = [client.post("/api/v1/businesses", json={"name": f"Shop {n}"}, headers=f.token_for(newcomer)).status_code
                for n in range(6)]
    assert statuses == [201] * 5 + [409]
